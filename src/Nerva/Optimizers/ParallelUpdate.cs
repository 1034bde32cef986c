using Nerva.Kernels;

namespace Nerva.Optimizers;

/// <summary>An element-wise optimizer step on elements [start, end) of θ, Dθ and the state.</summary>
internal interface IElementwiseUpdate
{
    void Update(int start, int end);
}

/// <summary>
/// Runs an element-wise update over all of θ in chunks, in parallel when θ is large: the step is memory
/// bound (θ, Dθ and the state read and written once) and two cores move more bytes than one. Every element
/// sees the same operations whatever the chunking, so the result does not depend on the thread count.
/// </summary>
internal static class ParallelUpdate
{
    private const int Chunk = 1 << 16;   // elements per task (256 KB of each float buffer), a whole number of vectors

    public static void Run<TUpdate>(int length, in TUpdate update) where TUpdate : struct, IElementwiseUpdate
        => Parallelism.For((length + Chunk - 1) / Chunk, length, new Chunks<TUpdate>(update, length));

    private readonly struct Chunks<TUpdate>(TUpdate update, int length) : IParallelBody where TUpdate : struct, IElementwiseUpdate
    {
        public void Run(int chunk) => update.Update(chunk * Chunk, Math.Min(length, (chunk + 1) * Chunk));
    }
}
