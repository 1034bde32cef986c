using Nerva.Kernels;

namespace Nerva.Tests;

/// <summary>The worker pool behind <see cref="Parallelism.For{TBody}"/>: every iteration once, errors surface, no allocation.</summary>
[Collection(ThreadCountCollection.Name)]
public sealed class WorkerPoolTests
{
    private readonly struct Count(int[] hits) : IParallelBody
    {
        public void Run(int index) => Interlocked.Increment(ref hits[index]);
    }

    private readonly struct Fail(int bad) : IParallelBody
    {
        public void Run(int index)
        {
            if (index == bad) throw new InvalidOperationException($"iteration {index} failed");
        }
    }

    private readonly struct Nested(int[] hits) : IParallelBody
    {
        public void Run(int index) => Parallelism.For(4, 1L << 30, new Count(hits));
    }

    private static void WithThreads(int threads, Action action)
    {
        int saved = Parallelism.Threads;
        try
        {
            Parallelism.Threads = threads;
            action();
        }
        finally
        {
            Parallelism.Threads = saved;
        }
    }

    [Fact]
    public void Every_iteration_runs_exactly_once_over_many_back_to_back_loops()
    {
        foreach (int threads in new[] { 2, 3, 4 })
            WithThreads(threads, () =>
            {
                // 100 000 loops (about 0.2 s): the race of a late worker with the next loop's fields struck ~15 in 300 000
                for (int loop = 0; loop < 100_000; loop++)
                {
                    int count = 1 + loop % 37;
                    var hits = new int[count];
                    Parallelism.For(count, 1L << 30, new Count(hits));
                    Assert.All(hits, h => Assert.Equal(1, h));
                }
            });
    }

    [Fact]
    public void Callers_on_several_threads_each_get_their_own_loop()
    {
        WithThreads(2, () =>
        {
            var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                for (int loop = 0; loop < 500; loop++)
                {
                    var hits = new int[16];
                    Parallelism.For(16, 1L << 30, new Count(hits));
                    Assert.All(hits, h => Assert.Equal(1, h));
                }
            })).ToArray();
            Task.WaitAll(tasks);
        });
    }

    [Fact]
    public void An_exception_in_an_iteration_reaches_the_caller_and_the_pool_goes_on()
    {
        WithThreads(2, () =>
        {
            var e = Assert.Throws<InvalidOperationException>(() => Parallelism.For(8, 1L << 30, new Fail(5)));
            Assert.Equal("iteration 5 failed", e.Message);
            var hits = new int[8];
            Parallelism.For(8, 1L << 30, new Count(hits));
            Assert.All(hits, h => Assert.Equal(1, h));
        });
    }

    [Fact]
    public void A_loop_inside_a_loop_runs_on_its_own_thread()
    {
        WithThreads(2, () =>
        {
            var hits = new int[4];
            Parallelism.For(6, 1L << 30, new Nested(hits));
            Assert.All(hits, h => Assert.Equal(6, h));
        });
    }

    [Fact]
    public void A_loop_allocates_nothing_after_the_first()
    {
        WithThreads(2, () =>
        {
            var hits = new int[8];
            Parallelism.For(8, 1L << 30, new Count(hits));
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int loop = 0; loop < 100; loop++) Parallelism.For(8, 1L << 30, new Count(hits));
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.All(hits, h => Assert.Equal(101, h));
        });
    }
}
