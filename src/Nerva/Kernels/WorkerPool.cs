using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Nerva.Kernels;

/// <summary>
/// Background threads that, with the calling thread, share out the iterations of one parallel loop at a
/// time. Unlike <c>Parallel.For</c> a loop allocates nothing (the body struct waits in a static holder of
/// its type) and starts in about a microsecond: between loops the workers spin for a short while, since
/// in a training step the next product follows within microseconds, and only then sleep.
/// <para>
/// The iterations are claimed from one 64-bit word, generation·2³² + next index, by compare-and-swap, so a
/// worker that arrives late can never claim an iteration of a later loop with a stale index; a finished loop
/// sets its index word to int.MaxValue before the next loop's fields change, so no claim can pass between them. The caller
/// claims iterations too and returns when all of them have finished; the first exception is rethrown.
/// </para>
/// </summary>
internal static class WorkerPool
{
    private static readonly object Gate = new();
    private static readonly List<Worker> Workers = [];
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000;   // 200 µs

    private static long _state;           // generation << 32 | next iteration
    private static Body? _body;
    private static int _count, _helpers, _done;
    private static Exception? _error;

    [ThreadStatic] private static bool t_inRegion;

    /// <summary>Whether the current thread is running an iteration (a nested loop then runs serially).</summary>
    public static bool InRegion => t_inRegion;

    /// <summary>
    /// body.Run(0..count−1) on the calling thread and threads − 1 workers; while another thread's loop holds the workers
    /// (predictions called from several threads at once), on the calling thread alone, at once: each caller then keeps a
    /// core busy instead of queueing for both. The iterations write disjoint outputs, so the results are the same bits.
    /// </summary>
    public static void Run<TBody>(int count, int threads, in TBody body) where TBody : struct, IParallelBody
    {
        if (!Monitor.TryEnter(Gate))
        {
            for (int i = 0; i < count; i++) body.Run(i);
            return;
        }
        try
        {
            while (Workers.Count < threads - 1) Workers.Add(new Worker(Workers.Count));
            var holder = Body<TBody>.Instance;
            holder.Value = body;
            _body = holder;
            _count = count;
            _helpers = threads - 1;
            _done = 0;
            _error = null;
            long generation = (Volatile.Read(ref _state) >> 32) + 1;
            Interlocked.Exchange(ref _state, generation << 32);   // a full fence: workers see the fields above
            for (int w = 0; w < threads - 1; w++) Workers[w].Wake();
            t_inRegion = true;
            try
            {
                Work(generation);
            }
            finally
            {
                t_inRegion = false;
            }
            var spin = new SpinWait();
            while (Volatile.Read(ref _done) < count) spin.SpinOnce(sleep1Threshold: -1);
            // Close the loop before the next one changes _count and _body: a worker that read this generation's state
            // with every iteration claimed, and then the next loop's larger _count, would otherwise pass the bound check
            // and claim index `count` by compare-and-swap before the next loop is published, running an iteration of
            // the next loop's body twice and counting it in the next loop's _done (seen in CI: 1 in ~10⁴ loops).
            Interlocked.Exchange(ref _state, generation << 32 | int.MaxValue);
            holder.Value = default;
            _body = null;
            if (_error is not null) ExceptionDispatchInfo.Throw(_error);
        }
        finally
        {
            Monitor.Exit(Gate);
        }
    }

    /// <summary>Claims and runs iterations of loop <paramref name="generation"/> until none are left.</summary>
    private static void Work(long generation)
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            if (state >> 32 != generation || (int)state >= _count) return;
            if (Interlocked.CompareExchange(ref _state, state + 1, state) != state) continue;
            try
            {
                _body!.Run((int)state);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
            Interlocked.Increment(ref _done);
        }
    }

    private abstract class Body
    {
        public abstract void Run(int index);
    }

    private sealed class Body<TBody> : Body where TBody : struct, IParallelBody
    {
        public static readonly Body<TBody> Instance = new();
        public TBody Value;

        public override void Run(int index) => Value.Run(index);
    }

    private sealed class Worker
    {
        private readonly int _id;
        private readonly SemaphoreSlim _wake = new(0);
        private int _sleeping;

        public Worker(int id)
        {
            _id = id;
            new Thread(Loop) { IsBackground = true, Name = $"Nerva worker {id + 1}" }.Start();
        }

        /// <summary>Called after a new loop is published: wakes the worker if it went to sleep.</summary>
        public void Wake()
        {
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        private void Loop()
        {
            t_inRegion = true;
            long seen = Volatile.Read(ref _state) >> 32;
            while (true)
            {
                seen = NextGeneration(seen);
                if (_id < Volatile.Read(ref _helpers)) Work(seen);
            }
        }

        /// <summary>Spins for up to <see cref="SpinTicks"/>, then sleeps, until a loop after <paramref name="seen"/> is published.</summary>
        private long NextGeneration(long seen)
        {
            while (true)
            {
                long start = Stopwatch.GetTimestamp();
                do
                {
                    for (int i = 0; i < 64; i++)
                    {
                        long generation = Volatile.Read(ref _state) >> 32;
                        if (generation != seen) return generation;
                        Thread.SpinWait(8);
                    }
                } while (Stopwatch.GetTimestamp() - start < SpinTicks);
                // announce the sleep, then look once more (both are full fences, as in Wake): a loop published
                // in between is either seen here or wakes the semaphore
                Interlocked.Exchange(ref _sleeping, 1);
                long latest = Volatile.Read(ref _state) >> 32;
                if (latest != seen)
                {
                    Interlocked.Exchange(ref _sleeping, 0);
                    return latest;
                }
                _wake.Wait();
            }
        }
    }
}
