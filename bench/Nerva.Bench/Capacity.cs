using System.Diagnostics;

namespace Nerva.Bench;

/// <summary>
/// How much of two cores this virtual machine gives right now: the work two threads do side by side in a
/// fixed time, over the work of one thread alone (2.0: two full cores; about 1.0: the second vCPU is busy
/// elsewhere on the host, and 2-thread timings then say nothing). Printed next to 2-thread results.
/// </summary>
internal static class Capacity
{
    public static double TwoThreads(double seconds = 0.3)
    {
        long alone = Spin(seconds);
        long first = 0, second = 0;
        var other = new Thread(() => second = Spin(seconds));
        other.Start();
        first = Spin(seconds);
        other.Join();
        return (double)(first + second) / alone;
    }

    /// <summary>Iterations of a dependent integer chain in <paramref name="seconds"/>.</summary>
    private static long Spin(double seconds)
    {
        long until = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency), n = 0;
        ulong x = 1;
        while (Stopwatch.GetTimestamp() < until)
        {
            for (int i = 0; i < 1000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
            n++;
        }
        return x == 0 ? -1 : n;
    }
}
