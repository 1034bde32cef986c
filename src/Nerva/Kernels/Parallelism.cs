namespace Nerva.Kernels;

/// <summary>The number of threads every kernel may use (the <c>--threads</c> option).</summary>
public static class Parallelism
{
    private static int _threads = Environment.ProcessorCount;

    /// <summary>Threads for kernels, at least 1. Results do not depend on it.</summary>
    public static int Threads
    {
        get => _threads;
        set
        {
            if (value < 1) throw new ArgumentOutOfRangeException(nameof(value), $"the number of threads must be at least 1, got {value}");
            _threads = value;
        }
    }

    /// <summary>Runs body(0..count−1), in parallel when more than one thread is allowed and the work is worth it.</summary>
    internal static void For(int count, long work, Action<int> body)
    {
        if (_threads == 1 || count == 1 || work < 1 << 18)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = _threads }, body);
    }
}
