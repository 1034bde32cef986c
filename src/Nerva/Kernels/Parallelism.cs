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

    /// <summary>
    /// Runs body.Run(0..count−1) on up to <see cref="Threads"/> threads when the work (in multiply-adds or
    /// elements) is worth it; otherwise, and inside another parallel loop, on the calling thread. No allocation.
    /// </summary>
    internal static void For<TBody>(int count, long work, in TBody body) where TBody : struct, IParallelBody
    {
        int threads = Math.Min(_threads, count);
        if (threads == 1 || work < 1 << 18 || WorkerPool.InRegion)
        {
            for (int i = 0; i < count; i++) body.Run(i);
            return;
        }
        WorkerPool.Run(count, threads, body);
    }
}

/// <summary>The body of a parallel loop: a struct, so that handing it to the worker threads allocates nothing.</summary>
internal interface IParallelBody
{
    /// <summary>Iteration <paramref name="index"/>; iterations write disjoint outputs.</summary>
    void Run(int index);
}
