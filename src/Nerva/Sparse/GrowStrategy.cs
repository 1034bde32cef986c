using System.Numerics;
using Nerva.Layers;

namespace Nerva.Sparse;

/// <summary>
/// Where a prune-and-grow step puts new weights: <paramref>count</paramref> positions outside the current
/// support, as ascending row-major positions. Positions pruned in the same step still count as part of the
/// support, so they are not regrown at once (as in the original).
/// </summary>
public abstract record GrowStrategy
{
    /// <summary>Whether the strategy reads the dense gradient of the last batch (the trainer then computes one).</summary>
    public virtual bool NeedsGradient => false;

    /// <summary><paramref name="count"/> positions (row·D + column) outside the layer's support to grow, sorted.</summary>
    public abstract long[] Select<T>(LinearLayer<T> layer, int count, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The layer's W in CSR form (a grow step needs a sparse layer).</summary>
    protected static CsrMatrix<T> Sparse<T>(LinearLayer<T> layer) where T : unmanaged, IFloatingPointIeee754<T>
        => layer.SparseW ?? throw new InvalidOperationException("growing needs a sparse layer");
}

/// <summary>
/// Random: positions drawn uniformly without replacement from outside the support, in expected O(count + nnz)
/// (<see cref="RandomSupport.SampleFree"/>; the original's <c>grow_random</c>, without its bug of never growing
/// after the last stored entry).
/// </summary>
public sealed record RandomGrowth : GrowStrategy
{
    /// <inheritdoc/>
    public override long[] Select<T>(LinearLayer<T> layer, int count, Rng rng) => RandomSupport.SampleFree(Sparse(layer), count, rng);

    /// <inheritdoc/>
    public override string ToString() => "Random";
}

/// <summary>
/// Gradient (RigL, Evci et al. 2020): the positions outside the support where the dense gradient |DZᵀ·X| of
/// the last batch is largest, ties to the earlier position. The gradient is formed 64 rows at a time and
/// only a heap of the best <c>count</c> candidates is kept, never the dense K×D matrix.
/// </summary>
public sealed record GradientGrowth : GrowStrategy
{
    private const int RowsPerBlock = 64;

    /// <inheritdoc/>
    public override bool NeedsGradient => true;

    /// <inheritdoc/>
    public override long[] Select<T>(LinearLayer<T> layer, int count, Rng rng)
    {
        var W = Sparse(layer);
        // a min-heap on (|g|, −position): its top is the weakest candidate kept so far
        var best = new PriorityQueue<long, (T Magnitude, long Position)>(count + 1, Comparer<(T Magnitude, long Position)>.Create(
            (a, b) => a.Magnitude != b.Magnitude ? a.Magnitude.CompareTo(b.Magnitude) : b.Position.CompareTo(a.Position)));
        if (count == 0) return [];
        var block = new Matrix<T>(0, 0);
        var G = new Matrix<T>(0, 0);
        for (int first = 0; first < W.Rows; first += RowsPerBlock)
        {
            int rows = Math.Min(RowsPerBlock, W.Rows - first);
            G.Resize(rows, W.Cols);
            layer.DenseGradientRows(first, block, G);
            for (int r = 0; r < rows; r++)
            {
                int i = first + r, e = W.RowStart[i], end = W.RowStart[i + 1];
                var g = G.Row(r);
                for (int j = 0; j < W.Cols; j++)
                {
                    if (e < end && W.Columns[e] == j)
                    {
                        e++;
                        continue;
                    }
                    var key = (T.Abs(g[j]), (long)i * W.Cols + j);
                    if (best.Count < count) best.Enqueue(key.Item2, key);
                    else if (best.TryPeek(out _, out var weakest) && Better(key, weakest)) best.EnqueueDequeue(key.Item2, key);
                }
            }
        }
        var result = new long[best.Count];
        for (int k = 0; best.TryDequeue(out long position, out _); k++) result[k] = position;
        Array.Sort(result);
        return result;

        static bool Better((T Magnitude, long Position) a, (T Magnitude, long Position) b)
            => a.Magnitude > b.Magnitude || (a.Magnitude == b.Magnitude && a.Position < b.Position);
    }

    /// <inheritdoc/>
    public override string ToString() => "Gradient";
}
