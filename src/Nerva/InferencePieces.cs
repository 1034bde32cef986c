using Nerva.Layers;
using Nerva.Sparse;

namespace Nerva;

/// <summary>
/// How <see cref="Model"/> shares a batch out over the threads when that pays: in pieces of whole 16-row vectors, one per
/// thread, each fed through the whole network on an inference replica of its own, with every product inside a piece
/// on its thread alone. A sparse product split over the threads by output rows has every thread gather from the one
/// panel of the batch, which the calling thread wrote and whose outputs it reads back, so each layer moves the panels
/// between the cores; a piece keeps its samples on one core from the first layer to the last (784-1024-512-10 at density
/// 0.05, batch 100, 2 threads on a Zen 4: 405–690 µs split by rows, the second core's speed coming and going with the
/// host, in a one-off harness; in pieces of 48 and 52 rows 342–394 µs in six serving benchmarks of nine, 488–556 µs in
/// three where the host slowed the second core; 1 thread 540 µs: bench/results/AMD-EPYC-Zen4.md).
/// <para>
/// Only for networks of fully connected layers with sparse ones, each of whose panels for a piece takes at most half of
/// <see cref="SparseProducts.CacheBudget"/> (784-1024-512-10: up to 8 vectors, any batch): dense products split in 2-D
/// tiles, which share the packing of W (dense batch 100 in the harness: 1 640 µs tiled, 1 860 µs in pieces of 64 and 36
/// rows), and pieces of very wide sparse layers would gather from panels that evict each other (the reason
/// <see cref="SparseProducts"/> keeps the threads on one panel).
/// </para>
/// <para>
/// The bits do not depend on the pieces: every piece, and every chunk a piece is fed in, has at least
/// <see cref="MinimumRows"/> rows, where each output is summed in the order of the whole batch's (the packed GEMM sums
/// C_ij over p in order for 12 rows or more; a sparse panel of two or more vectors sums one chain per vector; a panel
/// of one vector, which needs ≤ 16 rows, only where the cache allows fewer than four, then for every batch).
/// </para>
/// </summary>
internal static class InferencePieces
{
    /// <summary>The fewest rows of a piece or chunk.</summary>
    public const int MinimumRows = 17;

    /// <summary>The rows of a vector of a sparse layer's panel, which pieces are made of.</summary>
    private const int Lanes = 16;

    /// <summary>The pieces a batch of <paramref name="rows"/> is fed in on <paramref name="threads"/> threads: 1 unless it pays (see the class).</summary>
    public static int Count(MultilayerPerceptron<float> network, int rows, int threads)
    {
        int pieces = Math.Min(threads, rows / (2 * Lanes));
        if (pieces < 2) return 1;
        bool sparse = false;
        long weights = 0;
        // the vectors of the largest piece's panels (at most 8 a panel: SparseProducts.PanelVectors)
        long vectors = Math.Min(8, ((rows + Lanes - 1) / Lanes + pieces - 1) / pieces);
        foreach (var layer in network.Layers)
        {
            if (layer is ConvolutionLayer<float> or PoolingLayer<float>) return 1;
            if (layer is not LinearLayer<float> linear) continue;
            weights += linear.SparseW?.NonZeroCount ?? (long)linear.InputSize * linear.OutputSize;
            if (linear.SparseW is null) continue;
            if ((long)linear.InputSize * 64 * vectors > SparseProducts.CacheBudget / 2) return 1;
            sparse = true;
        }
        // as little work as a sparse product keeps on one thread (SparseProducts.BlockCount) is not worth the pieces either
        return sparse && weights * rows >= 1 << 20 ? pieces : 1;
    }

    /// <summary>
    /// The first row of piece <paramref name="piece"/> of <paramref name="pieces"/> (<paramref name="pieces"/>: the end): the
    /// 16-row vectors shared out as evenly as they go. With <see cref="Count"/>'s at least 32 rows a piece, every piece has
    /// at least <see cref="MinimumRows"/>.
    /// </summary>
    public static int Start(int rows, int pieces, int piece)
    {
        if (piece >= pieces) return rows;
        long vectors = (rows + Lanes - 1) / Lanes;
        return (int)Math.Min(rows, vectors * piece / pieces * Lanes);
    }

    /// <summary>
    /// The first row of chunk <paramref name="chunk"/> of <paramref name="rows"/> fed in chunks of at most
    /// <paramref name="most"/> (<see cref="Chunks"/>: the end): chunks as even as they go, so none is short when rows exceed
    /// <paramref name="most"/> (1 030 rows: 515 and 515, not 1 024 and 6).
    /// </summary>
    public static int ChunkStart(int rows, int most, int chunk) => (int)((long)rows * chunk / Chunks(rows, most));

    /// <summary>The chunks of at most <paramref name="most"/> rows that <paramref name="rows"/> are fed in.</summary>
    public static int Chunks(int rows, int most) => Math.Max(1, (rows + most - 1) / most);
}
