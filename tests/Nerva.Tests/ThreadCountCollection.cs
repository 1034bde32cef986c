namespace Nerva.Tests;

/// <summary>
/// Tests that set the process-wide <see cref="Kernels.Parallelism.Threads"/> (directly, or through the mlp tool's
/// --threads) run in this collection: one at a time and apart from every other test, so that no test sees the
/// thread count change under it (an allocation count, say, when the pool grows for another test's thread count).
/// The reader fuzz test runs here too: it measures allocation process-wide, which other tests running beside it would inflate.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadCountCollection
{
    public const string Name = "process-wide thread count";
}
