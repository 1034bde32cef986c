using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Nerva.Kernels;

namespace Nerva.Sparse;

/// <summary>
/// The three products of a sparse linear layer (seed 000 §4 with W in CSR), on the batch in transposed panels
/// (<see cref="Panels{T}"/>): the N samples are cut into panels of V·L samples (L = 16 floats per 64-byte vector,
/// V = 1 … 8 vectors, zero-padded), and panel p of Xᵀ holds Xᵀ[d, p·VL … (p+1)·VL − 1] for d = 0 … D−1, one row of
/// V whole cache lines per feature. Every stored weight then costs V aligned lines per panel and product:
/// <code>
/// Zᵀ  = W·Xᵀ + b·1ᵀ       row k:    Zᵀ[k,:] = b_k + Σ_{e ∈ row k} W_e·Xᵀ[col_e,:]      (SpMM)
/// DXᵀ = Wᵀ·DZᵀ            column d: DXᵀ[d,:] = Σ_{e ∈ col d} W_e·DZᵀ[row_e,:]         (SpMM, by columns)
/// DW  = (DZᵀ·X) on supp W  entry e:  DW_e = Σ_p DZᵀ[row_e, panel p]·Xᵀ[col_e, panel p]  (SDDMM)
/// </code>
/// Why panels: the rows a product gathers are random, so in a wide layer they come from memory, not cache. A
/// one-vector panel of a 65 536-wide layer is 4 MB and stays in the last-level cache while every stored weight
/// gathers its line from it; the whole batch (D × 448 bytes, 29 MB) did not, and each weight waited for seven lines
/// from DRAM (bench: one 65 536 × 65 536 SpMM at density 0.0005, batch 100, 2.4 → ~9 GFLOP/s on one core). A narrow
/// layer's whole batch fits in cache, and one panel of up to 8 vectors then reads each gathered row in one go
/// (<see cref="PanelVectors"/>).
/// <para>
/// Each output element is a fixed sum whatever the thread count or CPU: SpMM rows of one vector run four chains of
/// fused multiply-adds over the entries i ≡ 0, 1, 2, 3 (mod 4), b_k + ((a0 + a1) + (a2 + a3)); wider rows one chain
/// per vector from b_k; a DW entry sums its panels' dot products in panel order, each reduced by a fixed tree.
/// </para>
/// </summary>
public static class SparseProducts
{
    /// <summary>The bytes of gathered rows (rows × panel width) that one panel may span and stay in a core's cache: 2 MB.</summary>
    public const int CacheBudget = 2 << 20;

    /// <summary>
    /// V, the vectors per panel row for a product that gathers from <paramref name="gatheredRows"/> rows: as many as keep
    /// a panel within <see cref="CacheBudget"/>, at most 8 and at most the batch needs; 1 where the budget holds fewer
    /// than 4 (more than 8 192 rows). A constant of the shapes only (not of the CPU), so a seed gives the same results
    /// everywhere.
    /// </summary>
    /// <remarks>
    /// Why not 2 or 3 for wide layers: in the SpMMs a row of V ≥ 2 vectors keeps V chains, each waiting a multiply-add's
    /// latency an entry (a one-vector row keeps four chains over its entries), and in DW each entry's lanes are summed
    /// alone (one-vector rows sum four entries' at once), so two or three vectors do too little per entry. The three
    /// products of one layer at V = 1 / 2 / 4 / 7 (Zen 4, batch 100, 2 threads, a one-off harness): 4 096 rows at density
    /// 0.01 2.4 / 3.7 / 2.3 / 2.2 ms, 8 192 at 0.005 5.5 / 7.9 / 5.2 / 5.2, 16 384 at 0.0025 12.0 / 16.5 / 12.0 / 11.9;
    /// 65 536 at 0.0005, V = 1 / 2 / 4: 52 / 61 / 65 ms.
    /// </remarks>
    public static int PanelVectors<T>(int gatheredRows, int N) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long fit = CacheBudget / (Math.Max(1L, gatheredRows) * 64);
        if (fit < 4) return 1;
        int needed = (N + Panels<T>.Lanes - 1) / Panels<T>.Lanes;
        return (int)Math.Min(fit, Math.Clamp(needed, 1, 8));
    }

    /// <summary>Zᵀ = W·Xᵀ + b·1ᵀ in panels (Xp: panels of D rows, Zp: of K rows), with the weights <paramref name="values"/> in W's entry order.</summary>
    public static void Feedforward<T>(CsrMatrix<T> W, Matrix<T> values, Panels<T> Xp, Matrix<T> b, Panels<T> Zp)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(W, values);
        CheckPanels("Feedforward", Xp, W.Cols, "Xᵀ", W);
        Shapes.RowVector("SparseProducts.Feedforward", b, W.Rows);
        Zp.Resize(Xp.Count, W.Rows, Xp.Vectors);
        Combine(W.RowStart, W.Columns, values, Xp, b, Zp);
    }

    /// <summary>Below this many samples the feedforward skips the transposed layout (<see cref="FeedforwardRows"/>).</summary>
    public const int RowLayoutBatch = 4;

    /// <summary>
    /// Z = X·Wᵀ + 1_N·b for a few samples, straight from the row layout: Z[i,k] = b_k + Σ_{e ∈ row k} W_e·X[i, col_e],
    /// one sparse dot product per output (batch-1 inference: no transposes, no padding to 16 samples). Each dot product is
    /// one chain of fused multiply-adds over the row's entries in order (by column), from 0, then added to b_k: the plain
    /// definition, which plain scalar code computes with the same bits on every CPU, and which a <see cref="Predictor"/>'s
    /// vector kernel reproduces (<see cref="PreparedSparseRows"/>). Four rows run side by side (four independent chains keep
    /// four gathers in flight where one chain waited for each multiply-add), their entries addressed by offsets
    /// that advance an entry at a time, so that each multiply-add is its three loads and no index arithmetic; the rows'
    /// last entries, past the shortest of the four, wait on their chains (784-1024-512-10 at density 0.05, batch 1, 1
    /// thread: the two sparse layers 25 µs, where eight chains a row, summed by a tree, took 23 µs: an order no vector
    /// kernel reproduces without gathers; a predictor's takes 7.5–9.4 µs).
    /// </summary>
    public static void FeedforwardRows<T>(CsrMatrix<T> W, Matrix<T> values, Matrix<T> X, Matrix<T> b, Matrix<T> Z)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(W, values);
        if (X.Cols != W.Cols) throw new ArgumentException($"SparseProducts.FeedforwardRows: X is {X.Shape}, W is {W.Rows}×{W.Cols}");
        Shapes.RowVector("SparseProducts.FeedforwardRows", b, W.Rows);
        Z.Resize(X.Rows, W.Rows);
        int threads = Math.Min(Kernels.Parallelism.Threads, 8);
        if (threads > 1 && (long)W.NonZeroCount * X.Rows >= RowsSplitWork && !Kernels.WorkerPool.InRegion)
        {
            // the outputs k in parts of equal stored weights, one per thread: each z[k] is summed as above, so the bits do
            // not depend on the split
            Kernels.WorkerPool.Run(threads, threads, new RowParts<T>(W, values, X, b, Z, threads));
            return;
        }
        Rows(W, values, X, b, Z, 0, W.Rows);
    }

    /// <summary>
    /// The stored weights a product of a few rows needs before its outputs are split over the threads (784-1024-512-10
    /// at density 0.05, batch 1, 2 threads: 33 µs unsplit, 19 µs splitting both its 40 141- and 26 214-weight layers, 25 µs
    /// at 2¹⁵ splitting only the first; a one-off alternating harness, bench/results/AMD-EPYC-Zen4.md).
    /// </summary>
    internal static long RowsSplitWork = 1 << 14;

    /// <summary>Z[i, k] = b_k + RowDot(row k, X_i) for the outputs k ∈ [first, end) of every row i, four outputs at a time.</summary>
    private static void Rows<T>(CsrMatrix<T> W, Matrix<T> values, Matrix<T> X, Matrix<T> b, Matrix<T> Z, int first, int end)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = values.AsSpan();
        var bias = b.Row(0);   // read straight, not through the indexer (a call an output)
        var rowStart = W.RowStart;
        var columns = W.Columns;
        for (int i = 0; i < X.Rows; i++)
        {
            var x = X.Row(i);
            var z = Z.Row(i);
            int k = first;
            for (; k + 4 <= end; k += 4) RowDots4(w, columns, x, rowStart, k, z.Slice(k, 4));
            for (; k < end; k++) z[k] = RowDot(w, columns, x, rowStart[k], rowStart[k + 1]);
            for (k = first; k < end; k++) z[k] = bias[k] + z[k];
        }
    }

    /// <summary>Part p of P of <see cref="FeedforwardRows"/>: the outputs from the first whose entries start at p/P of the stored weights.</summary>
    private readonly struct RowParts<T>(CsrMatrix<T> W, Matrix<T> values, Matrix<T> X, Matrix<T> b, Matrix<T> Z, int parts) : Kernels.IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int part) => Rows(W, values, X, b, Z, Boundary(part), Boundary(part + 1));

        private int Boundary(int part)
        {
            if (part == 0) return 0;
            if (part == parts) return W.Rows;
            long target = (long)W.NonZeroCount * part / parts;
            int k = Array.BinarySearch(W.RowStart, 0, W.Rows + 1, (int)target);
            return k >= 0 ? k : Math.Min(~k, W.Rows);
        }
    }

    /// <summary>Σ_{e ∈ [start, end)} w_e·x[col_e], one chain in entry order from 0 (see <see cref="FeedforwardRows"/>).</summary>
    private static T RowDot<T>(ReadOnlySpan<T> w, int[] columns, ReadOnlySpan<T> x, int start, int end) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // the row's entries and columns checked once; the gathers x[col_e] need no check: a CsrMatrix's columns are below
        // its column count, which FeedforwardRows has checked to be x's length
        if ((uint)end > (uint)w.Length || (uint)end > (uint)columns.Length || start > end) throw new ArgumentOutOfRangeException(nameof(end));
        return Chain(ref MemoryMarshal.GetReference(w), ref MemoryMarshal.GetArrayDataReference(columns), ref MemoryMarshal.GetReference(x), start, end, T.Zero);
    }

    /// <summary>z[j] = RowDot of row k + j for j = 0 … 3: the four chains side by side for as many entries as the shortest row has, then each on alone.</summary>
    private static void RowDots4<T>(ReadOnlySpan<T> w, int[] columns, ReadOnlySpan<T> x, int[] rowStart, int k, Span<T> z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int s0 = rowStart[k], s1 = rowStart[k + 1], s2 = rowStart[k + 2], s3 = rowStart[k + 3], s4 = rowStart[k + 4];
        if ((uint)s4 > (uint)w.Length || (uint)s4 > (uint)columns.Length || s0 > s1 || s1 > s2 || s2 > s3 || s3 > s4 || z.Length < 4)
            throw new ArgumentOutOfRangeException(nameof(k));
        int common = Math.Min(Math.Min(s1 - s0, s2 - s1), Math.Min(s3 - s2, s4 - s3));
        ref T W0 = ref MemoryMarshal.GetReference(w);
        ref int C0 = ref MemoryMarshal.GetArrayDataReference(columns);
        ref T X = ref MemoryMarshal.GetReference(x);
        nint o0 = s0, o1 = s1, o2 = s2, o3 = s3;
        T a0 = T.Zero, a1 = T.Zero, a2 = T.Zero, a3 = T.Zero;
        for (int n = common; n > 0; n--, o0++, o1++, o2++, o3++)
        {
            a0 = T.FusedMultiplyAdd(Unsafe.Add(ref W0, o0), Unsafe.Add(ref X, (nint)Unsafe.Add(ref C0, o0)), a0);
            a1 = T.FusedMultiplyAdd(Unsafe.Add(ref W0, o1), Unsafe.Add(ref X, (nint)Unsafe.Add(ref C0, o1)), a1);
            a2 = T.FusedMultiplyAdd(Unsafe.Add(ref W0, o2), Unsafe.Add(ref X, (nint)Unsafe.Add(ref C0, o2)), a2);
            a3 = T.FusedMultiplyAdd(Unsafe.Add(ref W0, o3), Unsafe.Add(ref X, (nint)Unsafe.Add(ref C0, o3)), a3);
        }
        z[0] = Chain(ref W0, ref C0, ref X, o0, s1, a0);
        z[1] = Chain(ref W0, ref C0, ref X, o1, s2, a1);
        z[2] = Chain(ref W0, ref C0, ref X, o2, s3, a2);
        z[3] = Chain(ref W0, ref C0, ref X, o3, s4, a3);
    }

    /// <summary>a + w_e·x[col_e] for e = <paramref name="e"/> … <paramref name="end"/> − 1 in order, one chain (entries unchecked: the callers check them).</summary>
    private static T Chain<T>(ref T W0, ref int C0, ref T X, nint e, int end, T a) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (; e < end; e++) a = T.FusedMultiplyAdd(Unsafe.Add(ref W0, e), Unsafe.Add(ref X, (nint)Unsafe.Add(ref C0, e)), a);
        return a;
    }

    /// <summary>DXᵀ = Wᵀ·DZᵀ in panels; <paramref name="valuesByColumn"/> are W's values in column order (<see cref="CsrMatrix{T}.ColumnEntries"/>).</summary>
    public static void InputGradient<T>(CsrMatrix<T> W, Matrix<T> valuesByColumn, Panels<T> DZp, Panels<T> DXp)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(W, valuesByColumn);
        CheckPanels("InputGradient", DZp, W.Rows, "DZᵀ", W);
        DXp.Resize(DZp.Count, W.Cols, DZp.Vectors);
        Combine(W.ColumnStart, W.ColumnRows, valuesByColumn, DZp, null, DXp);
    }

    /// <summary>byColumn = the weights <paramref name="values"/> (in W's entry order) in column order, as <see cref="InputGradient"/> takes them; in parallel chunks.</summary>
    public static void ValuesByColumn<T>(CsrMatrix<T> W, Matrix<T> values, Matrix<T> byColumn) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(W, values);
        byColumn.Resize(1, values.Length);
        Optimizers.ParallelUpdate.Run(values.Length, new Gather<T>(values, W.ColumnEntries, byColumn));
    }

    /// <summary>target[i] = source[index[i]] on a chunk.</summary>
    private readonly struct Gather<T>(Matrix<T> source, int[] index, Matrix<T> target) : Optimizers.IElementwiseUpdate
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Update(int start, int end)
        {
            var s = source.AsSpan();
            var t = target.AsSpan();
            for (int i = start; i < end; i++) t[i] = s[index[i]];
        }
    }

    /// <summary>DW_e = DZᵀ[row_e,:]·Xᵀ[col_e,:] for every stored entry e, from both in panels: DW = DZᵀ·X on W's support only.</summary>
    public static void WeightGradient<T>(CsrMatrix<T> W, Panels<T> DZp, Panels<T> Xp, Matrix<T> DW)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckValues(W, DW);
        CheckPanels("WeightGradient", Xp, W.Cols, "Xᵀ", W);
        CheckPanels("WeightGradient", DZp, W.Rows, "DZᵀ", W);
        if (DZp.Count != Xp.Count || DZp.Vectors != Xp.Vectors)
            throw new ArgumentException($"SparseProducts.WeightGradient: DZᵀ ({DZp.Shape}) and Xᵀ ({Xp.Shape}) are not panels of one batch");
        // one parallel loop per panel, in panel order: DW_e sums its panels' dot products in that order, and each
        // panel is swept by all rows while it is in cache
        long work = (long)W.NonZeroCount * Xp.Width;
        int blocks = BlockCount(work * Xp.Count);
        for (int p = 0; p < Xp.Count; p++)
            Parallelism.For(blocks, work, new Sddmm<T>(W.RowStart, W.Columns, DZp, Xp, DW, p, blocks));
    }

    /// <summary>Row block b of <see cref="WeightGradient"/> in panel p: DW_e (p = 0) or DW_e + the panel's dot product, for the entries of its rows.</summary>
    private readonly struct Sddmm<T>(int[] rowStart, int[] columns, Panels<T> DZp, Panels<T> Xp, Matrix<T> DW, int p, int blocks) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]   // never recompiled inside a caller (tiered PGO inlined it into Parallelism.For and left MultiplyAdd a call: 5× slower)
        public void Run(int block)
        {
            int L = Vector512<T>.Count, V = Xp.Vectors, width = Xp.Width, last0 = columns.Length - 1;
            var (first, last) = RowRange(rowStart, block, blocks);
            ref T dw = ref MemoryMarshal.GetReference(DW.AsSpan());
            ref int column = ref MemoryMarshal.GetArrayDataReference(columns);
            ref T x = ref MemoryMarshal.GetReference(Xp.Panel(p));
            ref T dzPanel = ref MemoryMarshal.GetReference(DZp.Panel(p));
            for (int k = first; k < last; k++)
            {
                // the row of DZᵀ in registers (up to 8 vectors); per entry only the row of Xᵀ is loaded
                ref T dzRow = ref Unsafe.Add(ref dzPanel, (nint)k * width);
                var z = Vector512<T>.Zero;
                var d0 = Vector512.LoadUnsafe(ref dzRow);
                var d1 = V > 1 ? Vector512.LoadUnsafe(ref dzRow, (nuint)L) : z;
                var d2 = V > 2 ? Vector512.LoadUnsafe(ref dzRow, (nuint)(2 * L)) : z;
                var d3 = V > 3 ? Vector512.LoadUnsafe(ref dzRow, (nuint)(3 * L)) : z;
                var d4 = V > 4 ? Vector512.LoadUnsafe(ref dzRow, (nuint)(4 * L)) : z;
                var d5 = V > 5 ? Vector512.LoadUnsafe(ref dzRow, (nuint)(5 * L)) : z;
                var d6 = V > 6 ? Vector512.LoadUnsafe(ref dzRow, (nuint)(6 * L)) : z;
                var d7 = V > 7 ? Vector512.LoadUnsafe(ref dzRow, (nuint)(7 * L)) : z;
                int e = rowStart[k], end = rowStart[k + 1];
                if (V == 1 && typeof(T) == typeof(float) && Sse.IsSupported)
                    for (; e + 3 < end; e += 4)
                    {
                        // four entries of a one-vector panel at a time: their lanes summed together, by the tree of Sum
                        for (int j = 0; j < 4; j++) Prefetch(ref Unsafe.Add(ref x, (nint)Unsafe.Add(ref column, Math.Min(e + j + Ahead, last0)) * width));
                        var dots = Sum4(
                            d0 * Vector512.LoadUnsafe(ref x, (nuint)((nint)Unsafe.Add(ref column, e) * width)),
                            d0 * Vector512.LoadUnsafe(ref x, (nuint)((nint)Unsafe.Add(ref column, e + 1) * width)),
                            d0 * Vector512.LoadUnsafe(ref x, (nuint)((nint)Unsafe.Add(ref column, e + 2) * width)),
                            d0 * Vector512.LoadUnsafe(ref x, (nuint)((nint)Unsafe.Add(ref column, e + 3) * width)));
                        ref T target = ref Unsafe.Add(ref dw, e);
                        (p == 0 ? dots : Vector128.LoadUnsafe(ref target) + dots).StoreUnsafe(ref target);
                    }
                for (; e < end; e++)
                {
                    Prefetch(ref Unsafe.Add(ref x, (nint)Unsafe.Add(ref column, Math.Min(e + Ahead, last0)) * width), width);
                    ref T xRow = ref Unsafe.Add(ref x, (nint)Unsafe.Add(ref column, e) * width);
                    // two chains over the vectors (even and odd), joined, then the lanes summed by a fixed tree
                    var s0 = d0 * Vector512.LoadUnsafe(ref xRow);
                    var s1 = V > 1 ? d1 * Vector512.LoadUnsafe(ref xRow, (nuint)L) : z;
                    if (V > 2) s0 = MultiplyAdd(d2, Vector512.LoadUnsafe(ref xRow, (nuint)(2 * L)), s0);
                    if (V > 3) s1 = MultiplyAdd(d3, Vector512.LoadUnsafe(ref xRow, (nuint)(3 * L)), s1);
                    if (V > 4) s0 = MultiplyAdd(d4, Vector512.LoadUnsafe(ref xRow, (nuint)(4 * L)), s0);
                    if (V > 5) s1 = MultiplyAdd(d5, Vector512.LoadUnsafe(ref xRow, (nuint)(5 * L)), s1);
                    if (V > 6) s0 = MultiplyAdd(d6, Vector512.LoadUnsafe(ref xRow, (nuint)(6 * L)), s0);
                    if (V > 7) s1 = MultiplyAdd(d7, Vector512.LoadUnsafe(ref xRow, (nuint)(7 * L)), s1);
                    T dot = Sum(s0 + s1);
                    ref T target = ref Unsafe.Add(ref dw, e);
                    target = p == 0 ? dot : target + dot;
                }
            }
        }
    }

    /// <summary>The sum of a vector's lanes by a fixed tree (halves added until 128 bits, then lane by lane), the same on every CPU.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T Sum<T>(Vector512<T> v) where T : unmanaged, IFloatingPointIeee754<T>
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

    /// <summary>
    /// The lane sums of four float vectors, [Sum(v0), Sum(v1), Sum(v2), Sum(v3)], by the same tree as <see cref="Sum"/>
    /// (halves added down to 128 bits, then (q0 + q2) + (q1 + q3)), so an entry's dot product does not depend on
    /// whether it was reduced alone or in a group. Needs SSE.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<T> Sum4<T>(Vector512<T> v0, Vector512<T> v1, Vector512<T> v2, Vector512<T> v3) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var q0 = Quarter(v0).AsSingle();
        var q1 = Quarter(v1).AsSingle();
        var q2 = Quarter(v2).AsSingle();
        var q3 = Quarter(v3).AsSingle();
        var ab = Sse.UnpackLow(q0, q1) + Sse.UnpackHigh(q0, q1);   // [q0.0+q0.2, q1.0+q1.2, q0.1+q0.3, q1.1+q1.3]
        var cd = Sse.UnpackLow(q2, q3) + Sse.UnpackHigh(q2, q3);   // the same for v2, v3
        return (Sse.MoveLowToHigh(ab, cd) + Sse.MoveHighToLow(cd, ab)).As<float, T>();

        static Vector128<T> Quarter(Vector512<T> v)
        {
            var half = v.GetLower() + v.GetUpper();
            return half.GetLower() + half.GetUpper();
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

    /// <summary>
    /// Xp: the batch X (N×D) in panels of <paramref name="vectors"/> vectors (<see cref="PanelVectors"/>): panel p, row
    /// d holds X[p·VL … p·VL + VL − 1, d], zero past the last sample.
    /// </summary>
    public static void ToPanels<T>(Matrix<T> X, Panels<T> Xp, int vectors) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int N = X.Rows, D = X.Cols, width = vectors * Panels<T>.Lanes;
        Xp.Resize((N + width - 1) / width, D, vectors);
        int chunks = (D + TransposeChunk - 1) / TransposeChunk;
        Parallelism.For(Xp.Count * chunks, (long)Xp.Count * width * D, new PanelTranspose<T>(X, Xp, N, chunks, toPanels: true));
    }

    /// <summary>Z (N×K, row-major) from Zp (panels of K rows); the padding samples are dropped.</summary>
    public static void FromPanels<T>(Panels<T> Zp, int N, Matrix<T> Z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int width = Zp.Width, K = Zp.Rows;
        if (N < 1 || Zp.Count != (N + width - 1) / width) throw new ArgumentException($"SparseProducts.FromPanels: {Zp.Shape} is not the panels of {N} samples");
        Z.Resize(N, K);
        int chunks = (K + TransposeChunk - 1) / TransposeChunk;
        Parallelism.For(Zp.Count * chunks, (long)Zp.Count * width * K, new PanelTranspose<T>(Z, Zp, N, chunks, toPanels: false));
    }

    /// <summary>Features per work item of the panel transposes (a multiple of 8): a wide batch is copied by both cores.</summary>
    private const int TransposeChunk = 4096;

    /// <summary>
    /// Item t: panel t / chunks, features [c·chunk, (c+1)·chunk) with c = t mod chunks, from the row-major batch M into
    /// the panel (toPanels, zero past the last sample) or back. Exact copies, so any split gives the same matrices.
    /// </summary>
    private readonly struct PanelTranspose<T>(Matrix<T> M, Panels<T> panels, int N, int chunks, bool toPanels) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Run(int item)
        {
            int width = panels.Width, features = M.Cols, p = item / chunks;
            int first = item % chunks * TransposeChunk, count = Math.Min(TransposeChunk, features - first);
            int samples = Math.Min(width, N - p * width);
            var rows = M.AsSpan().Slice(p * width * features + first);
            var panel = panels.Panel(p).Slice(first * width, count * width);
            if (!toPanels)
            {
                Transpose(panel, count, samples, width, rows, features);
                return;
            }
            Transpose(rows, samples, count, features, panel, width);
            if (samples < width)
                for (int d = 0; d < count; d++) panel.Slice(d * width + samples, width - samples).Clear();
        }
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
    /// (init empty: 0). The one loop behind both SpMM products: one parallel loop over row blocks per panel, so that
    /// the threads gather from the same panel at the same time and every panel is swept by all rows while it is in
    /// cache (bench, 65 536- and 250 000-wide layers on 2 threads: threads on different panels, or row blocks that
    /// sweep all panels each, took 1.4–2.8× as long).
    /// </summary>
    private static void Combine<T>(int[] start, int[] index, Matrix<T> w, Panels<T> source, Matrix<T>? init, Panels<T> output)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        long work = (long)(w.Length + start.Length - 1) * source.Width;
        int blocks = BlockCount(work * source.Count);
        for (int p = 0; p < source.Count; p++)
            Parallelism.For(blocks, work, new CombineRows<T>(start, index, w, source, init, output, p, blocks));
    }

    /// <summary>Row block b of <see cref="Combine"/> in panel p.</summary>
    private readonly struct CombineRows<T>(int[] start, int[] index, Matrix<T> w, Panels<T> source, Matrix<T>? init, Panels<T> output, int p, int blocks) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]   // never recompiled inside a caller (tiered PGO inlined it into Parallelism.For and left MultiplyAdd a call: 5× slower)
        public void Run(int block)
        {
            var (first, last) = RowRange(start, block, blocks);
            ref T weights = ref MemoryMarshal.GetReference(w.AsSpan());
            ref int columns = ref MemoryMarshal.GetArrayDataReference(index);
            ref T src = ref MemoryMarshal.GetReference(source.Panel(p));
            ref T o = ref MemoryMarshal.GetReference(output.Panel(p));
            var bias = init is null ? default : init.Row(0);   // read straight, not through the indexer (a call a row)
            int width = source.Width, last0 = index.Length - 1;
            for (int r = first; r < last; r++)
            {
                T b = init is null ? T.Zero : bias[r];
                int i = start[r], end = start[r + 1];
                ref T target = ref Unsafe.Add(ref o, (nint)r * width);
                if (width == Vector512<T>.Count) OneVector(ref weights, ref columns, ref src, i, end, last0, b).StoreUnsafe(ref target);
                else Vectors(ref weights, ref columns, ref src, i, end, last0, width, b, ref target);
            }
        }

        /// <summary>A row of one vector: four chains over the entries i ≡ 0, 1, 2, 3 (mod 4), then b + ((a0 + a1) + (a2 + a3)); independent chains keep several gathers in flight.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<T> OneVector(ref T weights, ref int columns, ref T src, int i, int end, int last0, T b)
        {
            int width = Vector512<T>.Count;
            var z = Vector512<T>.Zero;
            Vector512<T> a0 = z, a1 = z, a2 = z, a3 = z;
            for (; i + 3 < end; i += 4)
            {
                for (int j = 0; j < 4; j++) Prefetch(ref Unsafe.Add(ref src, (nint)Unsafe.Add(ref columns, Math.Min(i + j + Ahead, last0)) * width));
                a0 = MultiplyAdd(Vector512.Create(Unsafe.Add(ref weights, i)), Vector512.LoadUnsafe(ref src, (nuint)((nint)Unsafe.Add(ref columns, i) * width)), a0);
                a1 = MultiplyAdd(Vector512.Create(Unsafe.Add(ref weights, i + 1)), Vector512.LoadUnsafe(ref src, (nuint)((nint)Unsafe.Add(ref columns, i + 1) * width)), a1);
                a2 = MultiplyAdd(Vector512.Create(Unsafe.Add(ref weights, i + 2)), Vector512.LoadUnsafe(ref src, (nuint)((nint)Unsafe.Add(ref columns, i + 2) * width)), a2);
                a3 = MultiplyAdd(Vector512.Create(Unsafe.Add(ref weights, i + 3)), Vector512.LoadUnsafe(ref src, (nuint)((nint)Unsafe.Add(ref columns, i + 3) * width)), a3);
            }
            if (i < end) a0 = MultiplyAdd(Vector512.Create(Unsafe.Add(ref weights, i)), Vector512.LoadUnsafe(ref src, (nuint)((nint)Unsafe.Add(ref columns, i) * width)), a0);
            if (i + 1 < end) a1 = MultiplyAdd(Vector512.Create(Unsafe.Add(ref weights, i + 1)), Vector512.LoadUnsafe(ref src, (nuint)((nint)Unsafe.Add(ref columns, i + 1) * width)), a1);
            if (i + 2 < end) a2 = MultiplyAdd(Vector512.Create(Unsafe.Add(ref weights, i + 2)), Vector512.LoadUnsafe(ref src, (nuint)((nint)Unsafe.Add(ref columns, i + 2) * width)), a2);
            return Vector512.Create(b) + ((a0 + a1) + (a2 + a3));
        }

        /// <summary>A row of 2 to 8 vectors: one chain per vector from b, in entry order; each gathered row is read front to back.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Vectors(ref T weights, ref int columns, ref T src, int i, int end, int last0, int width, T b, ref T target)
        {
            int L = Vector512<T>.Count, V = width / L;
            var init = Vector512.Create(b);
            Vector512<T> a0 = init, a1 = init, a2 = init, a3 = init, a4 = init, a5 = init, a6 = init, a7 = init;
            for (; i < end; i++)
            {
                ref T s = ref Unsafe.Add(ref src, (nint)Unsafe.Add(ref columns, i) * width);
                Prefetch(ref Unsafe.Add(ref src, (nint)Unsafe.Add(ref columns, Math.Min(i + Ahead, last0)) * width), width);
                var wi = Vector512.Create(Unsafe.Add(ref weights, i));
                a0 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s), a0);
                a1 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)L), a1);
                if (V > 2) a2 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)(2 * L)), a2);
                if (V > 3) a3 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)(3 * L)), a3);
                if (V > 4) a4 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)(4 * L)), a4);
                if (V > 5) a5 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)(5 * L)), a5);
                if (V > 6) a6 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)(6 * L)), a6);
                if (V > 7) a7 = MultiplyAdd(wi, Vector512.LoadUnsafe(ref s, (nuint)(7 * L)), a7);
            }
            a0.StoreUnsafe(ref target);
            a1.StoreUnsafe(ref target, (nuint)L);
            if (V > 2) a2.StoreUnsafe(ref target, (nuint)(2 * L));
            if (V > 3) a3.StoreUnsafe(ref target, (nuint)(3 * L));
            if (V > 4) a4.StoreUnsafe(ref target, (nuint)(4 * L));
            if (V > 5) a5.StoreUnsafe(ref target, (nuint)(5 * L));
            if (V > 6) a6.StoreUnsafe(ref target, (nuint)(6 * L));
            if (V > 7) a7.StoreUnsafe(ref target, (nuint)(7 * L));
        }
    }

    /// <summary>How many stored entries ahead the gathered lines are prefetched: they are picked at random, so the hardware cannot guess them (bench, three products of a 250 000-wide layer: 16 → 32 entries ahead 240 → 205 ms, 65 536-wide 57 → 54 ms; 64 no better).</summary>
    private const int Ahead = 32;

    /// <summary>Asks for the cache lines of <paramref name="count"/> elements from <paramref name="row"/> on (a hint: never faults, no effect without SSE).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Prefetch<T>(ref T row, int count = 1) where T : unmanaged
    {
        if (!Sse.IsSupported) return;
        byte* line = (byte*)Unsafe.AsPointer(ref row);
        for (int b = 0; b < count * sizeof(T); b += 64) Sse.Prefetch0(line + b);
    }

    private static void CheckPanels<T>(string method, Panels<T> M, int rows, string name, CsrMatrix<T> W) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (M.Rows != rows || M.Count == 0)
            throw new ArgumentException($"SparseProducts.{method}: {name} is {M.Shape}, not panels of {rows} rows for W of {W.Rows}×{W.Cols}");
    }

    /// <summary>
    /// How many row blocks to hand out: enough to balance two to a few threads, few enough to be cheap; one (this thread
    /// alone) below 2²⁰ multiply-adds. A sparse product reads rows of Xᵀ or DZᵀ that this thread has just written, so a
    /// second core first copies them from this one's cache, which costs more than the second core saves in the smallest
    /// products (bench, 2 threads: every product parallel, the density-0.01 epoch of 3072-1024-512-10 took 0.78 s; from
    /// 2²³ up, 0.45 s). 2²⁰ keeps those epochs (alternating runs on Zen 4, 2²³ against 2²⁰: density 0.05 1.44 and 1.42 s
    /// against 1.45 and 1.11 s; 0.01 0.52 and 0.54 s against 0.52 and 0.50 s) and lets inference at batch 100 use both
    /// cores (784-1024-512-10 at density 0.05: 551 → 452–464 µs).
    /// </summary>
    private static int BlockCount(long multiplyAdds) => multiplyAdds < 1 << 20 ? 1 : 4 * Parallelism.Threads;

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
