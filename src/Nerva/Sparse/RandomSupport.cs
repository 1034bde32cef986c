using System.Numerics;

namespace Nerva.Sparse;

/// <summary>
/// Random supports of a rows × cols matrix in time and memory proportional to the positions drawn, never to
/// rows·cols: a 10⁶ × 10⁶ layer at density 10⁻⁶ takes milliseconds. Positions are row-major, i·cols + j.
/// </summary>
public static class RandomSupport
{
    /// <summary>
    /// Exactly <paramref name="count"/> distinct positions of [0, rows·cols), uniform over all subsets of that size,
    /// ascending: Floyd's algorithm (one draw per position), then a row-major radix sort. O(count + rows + cols).
    /// </summary>
    public static long[] Sample(int rows, int cols, int count, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        long total = Total(rows, cols);
        if (count < 0 || count > total) throw new ArgumentOutOfRangeException(nameof(count), $"cannot choose {count} of {total} positions");
        var positions = Floyd(total, count, rng);
        SortRowMajor(positions, rows, cols);
        return positions;
    }

    /// <summary>
    /// Exactly <paramref name="count"/> distinct positions outside the support of <paramref name="W"/>, uniform over
    /// all such subsets, ascending. While at least half the free positions stay unchosen, uniform draws are
    /// rejected when on the support (a binary search in their row) or already chosen: expected at most
    /// 2·rows·cols/free draws per position. Otherwise free ≤ 2·count and rows·cols = nnz + free, so the ranks of
    /// the free positions are drawn and mapped by one walk over W: O(nnz + count) either way.
    /// </summary>
    public static long[] SampleFree<T>(CsrMatrix<T> W, int count, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(W);
        ArgumentNullException.ThrowIfNull(rng);
        long total = (long)W.Rows * W.Cols, free = total - W.NonZeroCount;
        if (count < 0 || count > free) throw new ArgumentOutOfRangeException(nameof(count), $"cannot grow {count} weights in {free} free positions");
        long[] positions;
        if (free >= 2L * count)
        {
            positions = new long[count];
            var chosen = new HashSet<long>(count);
            for (int k = 0; k < count;)
            {
                long p = rng.NextInt64(total);
                if (!W.Contains((int)(p / W.Cols), (int)(p % W.Cols)) && chosen.Add(p)) positions[k++] = p;
            }
        }
        else
        {
            var ranks = Floyd(free, count, rng);
            Array.Sort(ranks);
            positions = FreePositionsOfRanks(W, ranks);
        }
        SortRowMajor(positions, W.Rows, W.Cols);
        return positions;
    }

    /// <summary>
    /// Sorts row-major positions ascending in O(n + rows + cols): a counting sort by column, then a stable one by row.
    /// </summary>
    public static void SortRowMajor(Span<long> positions, int rows, int cols)
    {
        long total = Total(rows, cols);
        foreach (long p in positions)
            if ((ulong)p >= (ulong)total) throw new ArgumentOutOfRangeException(nameof(positions), $"position {p} is outside a {rows}×{cols} matrix");
        var byColumn = new long[positions.Length];
        CountingSort(positions, byColumn, cols, p => (int)(p % cols));
        CountingSort(byColumn, positions, rows, p => (int)(p / cols));
    }

    /// <summary>target = source ordered stably by key ∈ [0, keys).</summary>
    private static void CountingSort(ReadOnlySpan<long> source, Span<long> target, int keys, Func<long, int> key)
    {
        var start = new int[keys + 1];
        foreach (long p in source) start[key(p) + 1]++;
        for (int k = 0; k < keys; k++) start[k + 1] += start[k];
        foreach (long p in source) target[start[key(p)]++] = p;
    }

    /// <summary>
    /// Floyd's algorithm: count distinct values of [0, total), uniform over all subsets of that size, in the order
    /// chosen. For j = total − count … total − 1 draw t ∈ [0, j] and take t, or j when t was taken already.
    /// </summary>
    private static long[] Floyd(long total, int count, Rng rng)
    {
        var values = new long[count];
        var taken = new HashSet<long>(count);
        for (int k = 0; k < count; k++)
        {
            long j = total - count + k, t = rng.NextInt64(j + 1);
            if (!taken.Add(t))
            {
                t = j;
                taken.Add(j);
            }
            values[k] = t;
        }
        return values;
    }

    /// <summary>The positions outside the support whose ranks among the free positions (row-major) are the ascending ranks.</summary>
    private static long[] FreePositionsOfRanks<T>(CsrMatrix<T> W, long[] ranks) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new long[ranks.Length];
        long rank = 0;
        int next = 0;
        for (int i = 0; i < W.Rows && next < ranks.Length; i++)
        {
            int e = W.RowStart[i], end = W.RowStart[i + 1];
            for (int j = 0; j < W.Cols && next < ranks.Length; j++)
            {
                if (e < end && W.Columns[e] == j)
                {
                    e++;
                    continue;
                }
                if (ranks[next] == rank) result[next++] = (long)i * W.Cols + j;
                rank++;
            }
        }
        return result;
    }

    private static long Total(int rows, int cols)
    {
        if (rows < 1 || cols < 1) throw new ArgumentOutOfRangeException(nameof(rows), $"a sparse matrix needs a positive shape, got {rows}×{cols}");
        return (long)rows * cols;
    }
}
