using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Nerva.Kernels;

namespace Nerva.Sparse;

/// <summary>
/// The three products of a sparse linear layer (seed 000 §4 with W in CSR), on the batch in transposed panels:
/// the N samples are cut into P = ⌈N/L⌉ panels of L = 64 bytes / sizeof(T) samples (16 floats, zero-padded), and
/// panel p of Xᵀ holds Xᵀ[d, pL … pL+L−1] for d = 0 … D−1, one 64-byte line per row of Xᵀ. Every stored weight then
/// costs one aligned line per panel and product:
/// <code>
/// Zᵀ  = W·Xᵀ + b·1ᵀ       row k:    Zᵀ[k,:] = b_k + Σ_{e ∈ row k} W_e·Xᵀ[col_e,:]      (SpMM)
/// DXᵀ = Wᵀ·DZᵀ            column d: DXᵀ[d,:] = Σ_{e ∈ col d} W_e·DZᵀ[row_e,:]         (SpMM, by columns)
/// DW  = (DZᵀ·X) on supp W  entry e:  DW_e = Σ_p DZᵀ[row_e, panel p]·Xᵀ[col_e, panel p]  (SDDMM)
/// </code>
/// Why panels: the rows of Xᵀ that a row of W gathers are random, so at large widths they come from memory, not
/// cache. A panel of a 65 536-wide layer is 4 MB and stays in the last-level cache while every stored weight
/// gathers its line from it; the whole batch (D × 448 bytes, 29 MB) did not, and each weight waited for seven
/// lines from DRAM (bench: one 65 536 × 65 536 product at density 0.0005, batch 100, 2.4 → ~9 GFLOP/s on one core).
/// Each output element is one fixed chain of fused multiply-adds (b_k, then the entries in order), whatever the
/// thread count, vector width or CPU; a DW entry sums its panels' dot products in panel order, each dot product
/// reduced by a fixed tree.
/// </summary>
public static class SparseProducts
{
    /// <summary>L, the samples in one panel: one 64-byte line of T.</summary>
    public static int PanelWidth<T>() where T : unmanaged, IFloatingPointIeee754<T> => Vector512<T>.Count;

    /// <summary>The number of panels for N samples, ⌈N/L⌉.</summary>
    public static int PanelCount<T>(int N) where T : unmanaged, IFloatingPointIeee754<T> => (N + PanelWidth<T>() - 1) / PanelWidth<T>();

    /// <summary>Zᵀ = W·Xᵀ + b·1ᵀ in panels (Xp: P·D × L, Zp: P·K × L), with the weights <paramref name="values"/> in W's entry order.</summary>
    public static void Feedforward<T>(CsrMatrix<T> W, Matrix<T> values, Matrix<T> Xp, Matrix<T> b, Matrix<T> Zp)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(W, values);
        int panels = Panels("Feedforward", Xp, W.Cols, "Xᵀ", W);
        Shapes.RowVector("SparseProducts.Feedforward", b, W.Rows);
        Zp.Resize(panels * W.Rows, Xp.Cols);
        Combine(W.RowStart, W.Columns, values, Xp, b, Zp, panels);
    }

    /// <summary>Below this many samples the feedforward skips the transposed layout (<see cref="FeedforwardRows"/>).</summary>
    public const int RowLayoutBatch = 4;

    /// <summary>
    /// Z = X·Wᵀ + 1_N·b for a few samples, straight from the row layout: Z[i,k] = b_k + Σ_{e ∈ row k} W_e·X[i, col_e],
    /// one sparse dot product per output (batch-1 inference: no transposes, no padding to 16 samples).
    /// </summary>
    public static void FeedforwardRows<T>(CsrMatrix<T> W, Matrix<T> values, Matrix<T> X, Matrix<T> b, Matrix<T> Z)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(W, values);
        if (X.Cols != W.Cols) throw new ArgumentException($"SparseProducts.FeedforwardRows: X is {X.Shape}, W is {W.Rows}×{W.Cols}");
        Shapes.RowVector("SparseProducts.FeedforwardRows", b, W.Rows);
        Z.Resize(X.Rows, W.Rows);
        var w = values.AsSpan();
        var rowStart = W.RowStart;
        var columns = W.Columns;
        for (int i = 0; i < X.Rows; i++)
        {
            var x = X.Row(i);
            var z = Z.Row(i);
            for (int k = 0; k < z.Length; k++)
            {
                T sum = b[0, k];
                for (int e = rowStart[k]; e < rowStart[k + 1]; e++) sum += w[e] * x[columns[e]];
                z[k] = sum;
            }
        }
    }

    /// <summary>DXᵀ = Wᵀ·DZᵀ in panels; <paramref name="valuesByColumn"/> are W's values in column order (<see cref="CsrMatrix{T}.ColumnEntries"/>).</summary>
    public static void InputGradient<T>(CsrMatrix<T> W, Matrix<T> valuesByColumn, Matrix<T> DZp, Matrix<T> DXp)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(W, valuesByColumn);
        int panels = Panels("InputGradient", DZp, W.Rows, "DZᵀ", W);
        DXp.Resize(panels * W.Cols, DZp.Cols);
        Combine(W.ColumnStart, W.ColumnRows, valuesByColumn, DZp, null, DXp, panels);
    }

    /// <summary>DW_e = DZᵀ[row_e,:]·Xᵀ[col_e,:] for every stored entry e, from both in panels: DW = DZᵀ·X on W's support only.</summary>
    public static void WeightGradient<T>(CsrMatrix<T> W, Matrix<T> DZp, Matrix<T> Xp, Matrix<T> DW)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(W, DW);
        int panels = Panels("WeightGradient", Xp, W.Cols, "Xᵀ", W);
        if (Panels("WeightGradient", DZp, W.Rows, "DZᵀ", W) != panels)
            throw new ArgumentException($"SparseProducts.WeightGradient: DZᵀ ({DZp.Shape}) and Xᵀ ({Xp.Shape}) hold different batches");
        long work = (long)W.NonZeroCount * panels * PanelWidth<T>();
        int blocks = BlockCount(work);
        Parallelism.For(blocks, work, new Sddmm<T>(W.RowStart, W.Columns, DZp, Xp, DW, panels, blocks));
    }

    /// <summary>Row block b of <see cref="WeightGradient"/>: DW_e for the entries of its rows, panel after panel.</summary>
    private readonly struct Sddmm<T>(int[] rowStart, int[] columns, Matrix<T> DZp, Matrix<T> Xp, Matrix<T> DW, int panels, int blocks) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int block)
        {
            int L = Vector512<T>.Count, K = rowStart.Length - 1, D = Xp.Rows / panels, last0 = columns.Length - 1;
            var (first, last) = RowRange(rowStart, block, blocks);
            ref T dw = ref MemoryMarshal.GetReference(DW.AsSpan());
            ref int column = ref MemoryMarshal.GetArrayDataReference(columns);
            for (int p = 0; p < panels; p++)
            {
                ref T x = ref MemoryMarshal.GetReference(Xp.AsSpan().Slice(p * D * L));
                ref T dzPanel = ref MemoryMarshal.GetReference(DZp.AsSpan().Slice(p * K * L));
                for (int k = first; k < last; k++)
                {
                    var dz = Vector512.LoadUnsafe(ref dzPanel, (nuint)((nint)k * L));
                    for (int e = rowStart[k], end = rowStart[k + 1]; e < end; e++)
                    {
                        Prefetch(ref Unsafe.Add(ref x, (nint)Unsafe.Add(ref column, Math.Min(e + Ahead, last0)) * L));
                        // the panel's dot product; DW_e sums the panels in order
                        T dot = Sum(dz * Vector512.LoadUnsafe(ref x, (nuint)((nint)Unsafe.Add(ref column, e) * L)));
                        ref T target = ref Unsafe.Add(ref dw, e);
                        target = p == 0 ? dot : target + dot;
                    }
                }
            }
        }
    }

    /// <summary>The sum of a vector's lanes by a fixed tree (halves added until 128 bits, then lane by lane), the same on every CPU.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static T Sum<T>(Vector512<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var half = v.GetLower() + v.GetUpper();
        var q = half.GetLower() + half.GetUpper();
        if (typeof(T) == typeof(float))
        {
            // (q0 + q2) + (q1 + q3)
            var f = q.AsSingle();
            f += Vector128.Shuffle(f, Vector128.Create(2, 3, 0, 1));
            f += Vector128.Shuffle(f, Vector128.Create(1, 0, 3, 2));
            return T.CreateTruncating(f.ToScalar());
        }
        T sum = q.ToScalar();
        for (int i = 1; i < Vector128<T>.Count; i++) sum += q.GetElement(i);
        return sum;
    }

    /// <summary>a·b + c, fused (one rounding) for float and double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> MultiplyAdd<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        return a * b + c;
    }

    /// <summary>Xp (P·D × L): panel p, row d holds X[pL … pL+L−1, d], zero past the last sample.</summary>
    public static void ToPanels<T>(Matrix<T> X, Matrix<T> Xp) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int N = X.Rows, D = X.Cols, L = PanelWidth<T>(), panels = PanelCount<T>(N);
        Xp.Resize(panels * D, L);
        var xp = Xp.AsSpan();
        for (int p = 0; p < panels; p++)
        {
            int samples = Math.Min(L, N - p * L);
            var panel = xp.Slice(p * D * L, D * L);
            Transpose(X.AsSpan().Slice(p * L * D), samples, D, D, panel, L);
            if (samples < L)
                for (int d = 0; d < D; d++) panel.Slice(d * L + samples, L - samples).Clear();
        }
    }

    /// <summary>Z (N×K, row-major) from Zp (P·K × L); the padding samples are dropped.</summary>
    public static void FromPanels<T>(Matrix<T> Zp, int N, Matrix<T> Z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int L = PanelWidth<T>(), panels = PanelCount<T>(N);
        if (N < 1 || Zp.Cols != L || Zp.Rows % panels != 0)
            throw new ArgumentException($"SparseProducts.FromPanels: {Zp.Shape} is not {panels} panels of {N} samples");
        int K = Zp.Rows / panels;
        Z.Resize(N, K);
        for (int p = 0; p < panels; p++)
            Transpose(Zp.AsSpan().Slice(p * K * L, K * L), K, Math.Min(L, N - p * L), L, Z.AsSpan().Slice(p * L * K), K);
    }

    /// <summary>target[j, i] = source[i, j] for i &lt; rows, j &lt; cols, with row strides given: 8×8 AVX blocks for float.</summary>
    private static void Transpose<T>(ReadOnlySpan<T> source, int rows, int cols, int sourceStride, Span<T> target, int targetStride)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j0 = 0;
        if (typeof(T) == typeof(float) && Avx.IsSupported)
        {
            ref float s = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(source));
            ref float t = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(target));
            // Column blocks of 8 when the target rows lie 1 KB or more apart: then the 8 target rows being
            // filled stay in L1 while i sweeps (wider blocks would keep more lines of one cache set alive than
            // it has ways when the stride is a multiple of 4 KB, as K = 512 or 1024). Otherwise whole rows of
            // the source are read front to back.
            int rows8 = rows / 8 * 8, cols8 = cols / 8 * 8, jBlock = targetStride * Unsafe.SizeOf<T>() >= 1024 ? 8 : cols8;
            for (int jb = 0; jb < cols8; jb += jBlock)
            for (int i = 0; i < rows8; i += 8)
            for (int j = jb; j < Math.Min(cols8, jb + jBlock); j += 8)
                BlockTranspose.Transpose8x8(ref Unsafe.Add(ref s, (nint)i * sourceStride + j), sourceStride, ref Unsafe.Add(ref t, (nint)j * targetStride + i), targetStride);
            // the edges: rows below rows8 in every column, then columns right of cols8
            for (int i = rows8; i < rows; i++)
            for (int j = 0; j < cols; j++)
                target[j * targetStride + i] = source[i * sourceStride + j];
            j0 = cols8;
            rows = rows8;
        }
        for (int ib = 0; ib < rows; ib += 16)
        for (int jb = j0; jb < cols; jb += 16)
        for (int i = ib; i < Math.Min(rows, ib + 16); i++)
        for (int j = jb; j < Math.Min(cols, jb + 16); j++)
            target[j * targetStride + i] = source[i * sourceStride + j];
    }

    /// <summary>
    /// out[r,:] = init_r + Σ_{i ∈ [start[r], start[r+1])} w_i·source[index_i,:] for every row r of every panel of out
    /// (init empty: 0). The one loop behind both SpMM products. Work items run panel by panel, each panel cut into row
    /// blocks, so that the threads gather from the same panel at the same time.
    /// </summary>
    private static void Combine<T>(int[] start, int[] index, Matrix<T> w, Matrix<T> source, Matrix<T>? init, Matrix<T> output, int panels)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long work = (long)(w.Length + start.Length - 1) * panels * PanelWidth<T>();
        int blocks = BlockCount(work);
        if (blocks > 1) blocks = (blocks + panels - 1) / panels;   // about 4 items per thread over all panels
        Parallelism.For(panels * blocks, work, new CombineRows<T>(start, index, w, source, init, output, panels, blocks));
    }

    /// <summary>Work item t of <see cref="Combine"/>: panel t / blocks, the rows of row block t mod blocks.</summary>
    private readonly struct CombineRows<T>(int[] start, int[] index, Matrix<T> w, Matrix<T> source, Matrix<T>? init, Matrix<T> output, int panels, int blocks) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int item)
        {
            int L = Vector512<T>.Count, rows = start.Length - 1, sourceRows = source.Rows / panels, p = item / blocks;
            var (first, last) = RowRange(start, item % blocks, blocks);
            ref T src = ref MemoryMarshal.GetReference(source.AsSpan().Slice(p * sourceRows * L));
            ref T o = ref MemoryMarshal.GetReference(output.AsSpan().Slice(p * rows * L));
            ref T weights = ref MemoryMarshal.GetReference(w.AsSpan());
            ref int columns = ref MemoryMarshal.GetArrayDataReference(index);
            int last0 = index.Length - 1;
            for (int r = first; r < last; r++)
            {
                // out[r,:] = init_r, then one fused multiply-add per entry, in entry order
                var a = Vector512.Create(init is null ? T.Zero : init[0, r]);
                for (int i = start[r], end = start[r + 1]; i < end; i++)
                {
                    Prefetch(ref Unsafe.Add(ref src, (nint)Unsafe.Add(ref columns, Math.Min(i + Ahead, last0)) * L));
                    a = MultiplyAdd(Vector512.Create(Unsafe.Add(ref weights, i)), Vector512.LoadUnsafe(ref src, (nuint)((nint)Unsafe.Add(ref columns, i) * L)), a);
                }
                a.StoreUnsafe(ref o, (nuint)((nint)r * L));
            }
        }
    }

    /// <summary>How many stored entries ahead the gathered lines are prefetched: they are picked at random, so the hardware cannot guess them (16: bench, 65 536-wide layer).</summary>
    private const int Ahead = 16;

    /// <summary>Asks for the cache line at <paramref name="line"/> (a hint: never faults, no effect without SSE).</summary>
    private static unsafe void Prefetch<T>(ref T line) where T : unmanaged
    {
        if (Sse.IsSupported) Sse.Prefetch0(Unsafe.AsPointer(ref line));
    }

    /// <summary>The number of panels of <paramref name="M"/> (P·rows × L), checked.</summary>
    private static int Panels<T>(string method, Matrix<T> M, int rows, string name, CsrMatrix<T> W) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (M.Cols != PanelWidth<T>() || M.Rows == 0 || M.Rows % rows != 0)
            throw new ArgumentException($"SparseProducts.{method}: {name} is {M.Shape}, not panels of {rows} rows × {PanelWidth<T>()} for W of {W.Rows}×{W.Cols}");
        return M.Rows / rows;
    }

    /// <summary>
    /// How many row blocks to hand out: enough to balance two to a few threads, few enough to be cheap; one (this thread
    /// alone) below 2²³ multiply-adds. A sparse product reads rows of Xᵀ or DZᵀ that this thread has just written, so a
    /// second core first copies them from this one's cache; below about 8M multiply-adds (a 3072×1024 layer at density
    /// 0.02, batch 112) that costs more than the second core saves (bench, 2 threads: density-0.01 epoch 0.78 s → 0.45 s,
    /// 0.05: 1.43 → 1.41 s; a threshold of 2²⁵ made 0.05 and 0.2 slower).
    /// </summary>
    private static int BlockCount(long multiplyAdds) => multiplyAdds < 1 << 23 ? 1 : 4 * Parallelism.Threads;

    /// <summary>Rows [first, last) of block b of blocks, split so that blocks hold about equal entry counts.</summary>
    private static (int First, int Last) RowRange(int[] start, int b, int blocks)
    {
        int rows = start.Length - 1;
        return (Boundary(start, b, blocks, rows), Boundary(start, b + 1, blocks, rows));

        static int Boundary(int[] start, int b, int blocks, int rows)
        {
            if (b == 0) return 0;
            if (b == blocks) return rows;
            // the first row whose entries start at or after the b-th share of entries and rows
            long total = start[rows] + rows, target = total * b / blocks;
            int lo = 0, hi = rows;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (start[mid] + mid < target) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }
    }

    private static void CheckValues<T>(CsrMatrix<T> W, Matrix<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (values.Length != W.NonZeroCount)
            throw new ArgumentException($"SparseProducts: {values.Length} values for a matrix with {W.NonZeroCount} stored entries");
    }
}
