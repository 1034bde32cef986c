using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Nerva.Kernels;

namespace Nerva.Sparse;

/// <summary>
/// The three products of a sparse linear layer (seed 000 §4 with W in CSR), on the batch in transposed
/// layout: Xᵀ is D×P and Zᵀ, DZᵀ are K×P, one sample per column, P = N rounded up to whole vectors with
/// zero padding. Every stored weight then costs one contiguous length-P vector operation per product:
/// <code>
/// Zᵀ  = W·Xᵀ + b·1ᵀ       row k:    Zᵀ[k,:] = b_k + Σ_{e ∈ row k} W_e·Xᵀ[col_e,:]      (SpMM)
/// DXᵀ = Wᵀ·DZᵀ            column d: DXᵀ[d,:] = Σ_{e ∈ col d} W_e·DZᵀ[row_e,:]         (SpMM, by columns)
/// DW  = (DZᵀ·X) on supp W  entry e:  DW_e = DZᵀ[row_e,:]·Xᵀ[col_e,:]                  (SDDMM)
/// </code>
/// Each output row is computed by one thread in a fixed order, so results do not depend on the thread count.
/// </summary>
public static class SparseProducts
{
    /// <summary>The padded batch width P for N samples: whole 64-byte vectors.</summary>
    public static int PaddedWidth<T>(int N) where T : unmanaged, IFloatingPointIeee754<T>
        => (N + Lanes<T>() - 1) / Lanes<T>() * Lanes<T>();

    private static int Lanes<T>() where T : unmanaged, IFloatingPointIeee754<T> => Vector512<T>.Count;

    /// <summary>Zᵀ = W·Xᵀ + b·1ᵀ, with the weights <paramref name="values"/> in W's entry order.</summary>
    public static void Feedforward<T>(CsrMatrix<T> W, Matrix<T> values, Matrix<T> Xt, Matrix<T> b, Matrix<T> Zt)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(W, values);
        if (Xt.Rows != W.Cols) throw new ArgumentException($"SparseProducts.Feedforward: Xᵀ is {Xt.Shape}, W is {W.Rows}×{W.Cols}");
        Shapes.RowVector("SparseProducts.Feedforward", b, W.Rows);
        Zt.Resize(W.Rows, Xt.Cols);
        Combine(W.RowStart, W.Columns, values, Xt, b, Zt);
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

    /// <summary>DXᵀ = Wᵀ·DZᵀ; <paramref name="valuesByColumn"/> are W's values in column order (<see cref="CsrMatrix{T}.ColumnEntries"/>).</summary>
    public static void InputGradient<T>(CsrMatrix<T> W, Matrix<T> valuesByColumn, Matrix<T> DZt, Matrix<T> DXt)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(W, valuesByColumn);
        if (DZt.Rows != W.Rows) throw new ArgumentException($"SparseProducts.InputGradient: DZᵀ is {DZt.Shape}, W is {W.Rows}×{W.Cols}");
        DXt.Resize(W.Cols, DZt.Cols);
        Combine(W.ColumnStart, W.ColumnRows, valuesByColumn, DZt, null, DXt);
    }

    /// <summary>DW_e = DZᵀ[row_e,:]·Xᵀ[col_e,:] for every stored entry e: DW = DZᵀ·X on W's support only.</summary>
    public static void WeightGradient<T>(CsrMatrix<T> W, Matrix<T> DZt, Matrix<T> Xt, Matrix<T> DW)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(W, DW);
        if (DZt.Rows != W.Rows || Xt.Rows != W.Cols || DZt.Cols != Xt.Cols)
            throw new ArgumentException($"SparseProducts.WeightGradient: DZᵀ is {DZt.Shape}, Xᵀ is {Xt.Shape}, W is {W.Rows}×{W.Cols}");
        int P = Xt.Cols, blocks = BlockCount(W.NonZeroCount, P);
        Parallelism.For(blocks, (long)W.NonZeroCount * P, new Sddmm<T>(W.RowStart, W.Columns, DZt, Xt, DW, blocks));
    }

    /// <summary>Block b of <see cref="WeightGradient"/>: DW_e for the entries of its rows.</summary>
    private readonly struct Sddmm<T>(int[] rowStart, int[] columns, Matrix<T> DZt, Matrix<T> Xt, Matrix<T> DW, int blocks) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int block)
        {
            int P = Xt.Cols;
            var dw = DW.AsSpan();
            var (first, last) = RowRange(rowStart, block, blocks);
            ref T xt = ref MemoryMarshal.GetReference(Xt.AsSpan());
            for (int k = first; k < last; k++)
            {
                ref T dz = ref MemoryMarshal.GetReference(DZt.Row(k));
                if (Vector512.IsHardwareAccelerated && P <= 8 * Vector512<T>.Count)
                {
                    DotsOfRow(ref dz, ref xt, P, columns.AsSpan(rowStart[k], rowStart[k + 1] - rowStart[k]), dw.Slice(rowStart[k]));
                    continue;
                }
                for (int e = rowStart[k]; e < rowStart[k + 1]; e++)
                {
                    if (e + Ahead < columns.Length) Prefetch(ref Unsafe.Add(ref xt, (nint)columns[e + Ahead] * P), P);
                    dw[e] = Dot(ref dz, ref Unsafe.Add(ref xt, (nint)columns[e] * P), P);
                }
            }
        }

        /// <summary>
        /// dw[i] = DZᵀ[k,:]·Xᵀ[columns[i],:] for the entries of row k, with the row of DZᵀ (up to 8 vectors, a batch of
        /// up to 128 floats) held in registers: per entry only the row of Xᵀ is loaded.
        /// </summary>
        private static void DotsOfRow(ref T dz, ref T xt, int P, ReadOnlySpan<int> columns, Span<T> dw)
        {
            int V = Vector512<T>.Count, v = P / V;
            var z = Vector512<T>.Zero;
            var d0 = Vector512.LoadUnsafe(ref dz);
            var d1 = v > 1 ? Vector512.LoadUnsafe(ref dz, (nuint)V) : z;
            var d2 = v > 2 ? Vector512.LoadUnsafe(ref dz, (nuint)(2 * V)) : z;
            var d3 = v > 3 ? Vector512.LoadUnsafe(ref dz, (nuint)(3 * V)) : z;
            var d4 = v > 4 ? Vector512.LoadUnsafe(ref dz, (nuint)(4 * V)) : z;
            var d5 = v > 5 ? Vector512.LoadUnsafe(ref dz, (nuint)(5 * V)) : z;
            var d6 = v > 6 ? Vector512.LoadUnsafe(ref dz, (nuint)(6 * V)) : z;
            var d7 = v > 7 ? Vector512.LoadUnsafe(ref dz, (nuint)(7 * V)) : z;
            for (int i = 0; i < columns.Length; i++)
            {
                if (i + Ahead < columns.Length) Prefetch(ref Unsafe.Add(ref xt, (nint)columns[i + Ahead] * P), P);
                ref T x = ref Unsafe.Add(ref xt, (nint)columns[i] * P);
                // two chains (even and odd vectors), joined at the end
                var s0 = d0 * Vector512.LoadUnsafe(ref x);
                var s1 = v > 1 ? d1 * Vector512.LoadUnsafe(ref x, (nuint)V) : z;
                if (v > 2) s0 = MultiplyAdd(d2, Vector512.LoadUnsafe(ref x, (nuint)(2 * V)), s0);
                if (v > 3) s1 = MultiplyAdd(d3, Vector512.LoadUnsafe(ref x, (nuint)(3 * V)), s1);
                if (v > 4) s0 = MultiplyAdd(d4, Vector512.LoadUnsafe(ref x, (nuint)(4 * V)), s0);
                if (v > 5) s1 = MultiplyAdd(d5, Vector512.LoadUnsafe(ref x, (nuint)(5 * V)), s1);
                if (v > 6) s0 = MultiplyAdd(d6, Vector512.LoadUnsafe(ref x, (nuint)(6 * V)), s0);
                if (v > 7) s1 = MultiplyAdd(d7, Vector512.LoadUnsafe(ref x, (nuint)(7 * V)), s1);
                dw[i] = Vector512.Sum(s0 + s1);
            }
        }
    }

    /// <summary>a·b + c, fused (one rounding) for float and double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> MultiplyAdd<T>(Vector512<T> a, Vector512<T> b, Vector512<T> c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return Vector512.FusedMultiplyAdd(a.AsSingle(), b.AsSingle(), c.AsSingle()).As<float, T>();
        if (typeof(T) == typeof(double)) return Vector512.FusedMultiplyAdd(a.AsDouble(), b.AsDouble(), c.AsDouble()).As<double, T>();
        return a * b + c;
    }

    /// <summary>Xᵀ (D×P, zero-padded) from the row-major batch X (N×D).</summary>
    public static void TransposeToPadded<T>(Matrix<T> X, Matrix<T> Xt) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int N = X.Rows, D = X.Cols, P = PaddedWidth<T>(N);
        Xt.Resize(D, P);
        Transpose(X.AsSpan(), N, D, D, Xt.AsSpan(), P);
        var xt = Xt.AsSpan();
        for (int d = 0; d < D; d++) xt.Slice(d * P + N, P - N).Clear();
    }

    /// <summary>Z (N×K, row-major) from Zᵀ (K×P); the padding columns are dropped.</summary>
    public static void TransposeFromPadded<T>(Matrix<T> Zt, int N, Matrix<T> Z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int K = Zt.Rows, P = Zt.Cols;
        if (N > P) throw new ArgumentException($"TransposeFromPadded: {N} samples do not fit in Zᵀ of {Zt.Shape}");
        Z.Resize(N, K);
        Transpose(Zt.AsSpan(), K, N, P, Z.AsSpan(), K);
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
    /// out[r,:] = init_r + Σ_{i ∈ [start[r], start[r+1])} w_i·source[index_i,:] for every row r of out
    /// (init empty: 0). The one loop behind both SpMM products.
    /// </summary>
    private static void Combine<T>(int[] start, int[] index, Matrix<T> w, Matrix<T> source, Matrix<T>? init, Matrix<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int P = source.Cols, rows = output.Rows, blocks = BlockCount(w.Length + rows, P);
        Parallelism.For(blocks, (long)(w.Length + rows) * P, new CombineRows<T>(start, index, w, source, init, output, blocks));
    }

    /// <summary>Block b of <see cref="Combine"/>: the output rows of its share of the entries.</summary>
    private readonly struct CombineRows<T>(int[] start, int[] index, Matrix<T> w, Matrix<T> source, Matrix<T>? init, Matrix<T> output, int blocks) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int block)
        {
            int P = source.Cols;
            var weights = w.AsSpan();
            var (first, last) = RowRange(start, block, blocks);
            ref T src = ref MemoryMarshal.GetReference(source.AsSpan());
            for (int r = first; r < last; r++)
            {
                int s = start[r], count = start[r + 1] - s;
                AxpyRow(index.AsSpan(s, count), weights.Slice(s, count), ref src, P, init is null ? T.Zero : init[0, r], output.Row(r));
            }
        }
    }

    /// <summary>
    /// out = b0·1 + Σ_i w_i·source[index_i,:]. With AVX-512 a whole row of up to 128 floats is accumulated in
    /// eight zmm registers, so each source row is read once, front to back; otherwise four vectors at a time.
    /// </summary>
    private static void AxpyRow<T>(ReadOnlySpan<int> index, ReadOnlySpan<T> w, ref T source, int P, T b0, Span<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ref T o = ref MemoryMarshal.GetReference(output);
        if (Vector512.IsHardwareAccelerated)
        {
            int V = Vector512<T>.Count;
            var init = Vector512.Create(b0);
            for (int n = 0; n < P; n += 8 * V)
            {
                int v = Math.Min(8, (P - n) / V);
                Vector512<T> a0 = init, a1 = init, a2 = init, a3 = init, a4 = init, a5 = init, a6 = init, a7 = init;
                for (int i = 0; i < index.Length; i++)
                {
                    if (i + Ahead < index.Length) Prefetch(ref Unsafe.Add(ref source, (nint)index[i + Ahead] * P + n), Math.Min(P - n, 8 * V));
                    var wi = Vector512.Create(w[i]);
                    ref T s = ref Unsafe.Add(ref source, (nint)index[i] * P + n);
                    a0 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s), a0);
                    if (v > 1) a1 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)V), a1);
                    if (v > 2) a2 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)(2 * V)), a2);
                    if (v > 3) a3 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)(3 * V)), a3);
                    if (v > 4) a4 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)(4 * V)), a4);
                    if (v > 5) a5 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)(5 * V)), a5);
                    if (v > 6) a6 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)(6 * V)), a6);
                    if (v > 7) a7 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)(7 * V)), a7);
                }
                ref T on = ref Unsafe.Add(ref o, n);
                a0.StoreUnsafe(ref on);
                if (v > 1) a1.StoreUnsafe(ref on, (nuint)V);
                if (v > 2) a2.StoreUnsafe(ref on, (nuint)(2 * V));
                if (v > 3) a3.StoreUnsafe(ref on, (nuint)(3 * V));
                if (v > 4) a4.StoreUnsafe(ref on, (nuint)(4 * V));
                if (v > 5) a5.StoreUnsafe(ref on, (nuint)(5 * V));
                if (v > 6) a6.StoreUnsafe(ref on, (nuint)(6 * V));
                if (v > 7) a7.StoreUnsafe(ref on, (nuint)(7 * V));
            }
            return;
        }
        int W = Vector<T>.Count, m = 0;
        var start = new Vector<T>(b0);
        for (; m + 4 * W <= P; m += 4 * W)
        {
            Vector<T> a0 = start, a1 = start, a2 = start, a3 = start;
            for (int i = 0; i < index.Length; i++)
            {
                var wi = new Vector<T>(w[i]);
                ref T s = ref Unsafe.Add(ref source, (nint)index[i] * P + m);
                a0 += wi * Vector.LoadUnsafe(ref s);
                a1 += wi * Vector.LoadUnsafe(ref s, (nuint)W);
                a2 += wi * Vector.LoadUnsafe(ref s, (nuint)(2 * W));
                a3 += wi * Vector.LoadUnsafe(ref s, (nuint)(3 * W));
            }
            a0.StoreUnsafe(ref o, (nuint)m);
            a1.StoreUnsafe(ref o, (nuint)(m + W));
            a2.StoreUnsafe(ref o, (nuint)(m + 2 * W));
            a3.StoreUnsafe(ref o, (nuint)(m + 3 * W));
        }
        for (; m < P; m += W)
        {
            Vector<T> a0 = start;
            for (int i = 0; i < index.Length; i++)
                a0 += new Vector<T>(w[i]) * Vector.LoadUnsafe(ref source, (nuint)((nint)index[i] * P + m));
            a0.StoreUnsafe(ref o, (nuint)m);
        }
    }

    /// <summary>How many stored entries ahead the source rows are prefetched: they are picked at random, so the hardware cannot guess them.</summary>
    private const int Ahead = 4;

    /// <summary>Asks for the cache lines of count elements from <paramref name="row"/> on (a hint: never faults, no effect without SSE).</summary>
    private static unsafe void Prefetch<T>(ref T row, int count) where T : unmanaged
    {
        if (!Sse.IsSupported) return;
        byte* p = (byte*)Unsafe.AsPointer(ref row);
        for (int b = 0; b < count * sizeof(T); b += 64) Sse.Prefetch0(p + b);
    }

    /// <summary>Σ_n a[n]·b[n] over P elements (P a multiple of 64 bytes).</summary>
    private static T Dot<T>(ref T a, ref T b, int P) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            int V = Vector512<T>.Count;
            Vector512<T> s0 = Vector512<T>.Zero, s1 = Vector512<T>.Zero;
            for (; n + 2 * V <= P; n += 2 * V)
            {
                s0 += Vector512.LoadUnsafe(ref a, (nuint)n) * Vector512.LoadUnsafe(ref b, (nuint)n);
                s1 += Vector512.LoadUnsafe(ref a, (nuint)(n + V)) * Vector512.LoadUnsafe(ref b, (nuint)(n + V));
            }
            if (n < P) s0 += Vector512.LoadUnsafe(ref a, (nuint)n) * Vector512.LoadUnsafe(ref b, (nuint)n);
            return Vector512.Sum(s0 + s1);
        }
        int W = Vector<T>.Count;
        Vector<T> t0 = Vector<T>.Zero, t1 = Vector<T>.Zero, t2 = Vector<T>.Zero, t3 = Vector<T>.Zero;
        for (; n + 4 * W <= P; n += 4 * W)
        {
            t0 += Vector.LoadUnsafe(ref a, (nuint)n) * Vector.LoadUnsafe(ref b, (nuint)n);
            t1 += Vector.LoadUnsafe(ref a, (nuint)(n + W)) * Vector.LoadUnsafe(ref b, (nuint)(n + W));
            t2 += Vector.LoadUnsafe(ref a, (nuint)(n + 2 * W)) * Vector.LoadUnsafe(ref b, (nuint)(n + 2 * W));
            t3 += Vector.LoadUnsafe(ref a, (nuint)(n + 3 * W)) * Vector.LoadUnsafe(ref b, (nuint)(n + 3 * W));
        }
        for (; n < P; n += W) t0 += Vector.LoadUnsafe(ref a, (nuint)n) * Vector.LoadUnsafe(ref b, (nuint)n);
        return Vector.Sum((t0 + t1) + (t2 + t3));
    }

    /// <summary>
    /// How many row blocks to hand out: enough to balance two to a few threads, few enough to be cheap; one (this thread
    /// alone) below 2²³ multiply-adds. A sparse product reads rows of Xᵀ or DZᵀ that this thread has just written, so a
    /// second core first copies them from this one's cache; below about 8M multiply-adds (a 3072×1024 layer at density
    /// 0.02, batch 112) that costs more than the second core saves (bench, 2 threads: density-0.01 epoch 0.78 s → 0.45 s,
    /// 0.05: 1.43 → 1.41 s; a threshold of 2²⁵ made 0.05 and 0.2 slower).
    /// </summary>
    private static int BlockCount(int entries, int P) => (long)entries * P < 1 << 23 ? 1 : 4 * Parallelism.Threads;

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
