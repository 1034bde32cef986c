using System.Diagnostics;
using System.Globalization;
using Nerva.Distributed;

namespace Nerva.Bench;

/// <summary>
/// The in-place float all-reduce over MPI, for sizes from 4 bytes to 16 MB: the median time of <c>repetitions</c> calls
/// (after a warm-up), and the α (latency) and β (seconds per byte) of the line t = α + n·β through the smallest and the
/// largest size. Run it under mpirun: <c>mpirun -np 2 dotnet Nerva.Bench.dll allreduce</c>; rank 0 prints.
/// </summary>
internal static class AllReduceBenchmark
{
    public static void Run(TextWriter output, int repetitions)
    {
        using var mpi = new MpiCommunicator();
        var times = new List<(long Bytes, double Seconds)>();
        if (mpi.Rank == 0) output.WriteLine($"| bytes | median (µs) | GB/s | ({mpi.Size} ranks, {repetitions} calls each) |\n|---|---|---|---|");
        for (long bytes = 4; bytes <= 16L << 20; bytes *= 4)
        {
            var values = new float[bytes / 4];
            for (int warm = 0; warm < 3; warm++) mpi.AllReduceSum(values);
            var samples = new double[repetitions];
            for (int r = 0; r < repetitions; r++)
            {
                mpi.Barrier();
                long start = Stopwatch.GetTimestamp();
                mpi.AllReduceSum(values);
                samples[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            Array.Sort(samples);
            double median = samples[repetitions / 2];
            times.Add((bytes, median));
            if (mpi.Rank == 0) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {bytes} | {1e6 * median:F1} | {bytes / median / 1e9:F2} | |"));
        }
        var (small, large) = (times[0], times[^1]);
        double beta = (large.Seconds - small.Seconds) / (large.Bytes - small.Bytes), alpha = small.Seconds - small.Bytes * beta;
        if (mpi.Rank == 0) output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"\nα ≈ {1e6 * alpha:F1} µs, β ≈ {1e9 * beta:F3} ns/byte ({1 / beta / 1e9:F2} GB/s)"));

        // 14 MB (the dense 3072-1024-512-10's gradients) summed in one call and in calls of 1 MB, alternating
        var gradients = new float[3676682];
        var (whole, chunked) = (new double[repetitions], new double[repetitions]);
        for (int r = 0; r < repetitions; r++)
            foreach (bool inChunks in new[] { r % 2 == 0, r % 2 != 0 })
            {
                mpi.Barrier();
                long start = Stopwatch.GetTimestamp();
                mpi.AllReduceSum(gradients, inChunks ? 1 << 20 : int.MaxValue);
                (inChunks ? chunked : whole)[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
        Array.Sort(whole);
        Array.Sort(chunked);
        if (mpi.Rank == 0)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"14.7 MB: one call {1e3 * whole[repetitions / 2]:F2} ms, calls of 1 MB {1e3 * chunked[repetitions / 2]:F2} ms (medians of {repetitions}, alternating): {chunked[repetitions / 2] / whole[repetitions / 2]:F2}"));
    }
}
