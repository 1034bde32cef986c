using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Nerva.Kernels;

namespace Nerva.Sparse;

/// <summary>
/// A sparse layer's W (K×D, CSR) prepared once for the row-layout product of a few samples on AVX-512 (a
/// <see cref="Predictor"/>'s layers, whose weights never change): Z[i,k] = b_k + Σ_{e ∈ row k} W_e·X[i, col_e], each sum one
/// chain over the row's entries in column order from 0, the bits of <see cref="SparseProducts.FeedforwardRows"/>, sixteen
/// rows to a vector.
/// <para>
/// The rows go in slices of <see cref="SliceRows"/> (four vectors of 16 rows), each computed in steps. A step reads a window
/// of <see cref="WindowColumns"/> columns of x, from the first column any row of the slice has yet to take, and every row
/// whose next entry lies in the window takes it: the step holds, for every row, that entry's weight and its column within
/// the window; a row whose next entry lies beyond holds −0 and column 31, a lane of the window that is +0, and −0·(+0) = −0
/// leaves every sum as it is (x + (−0) = x for every x). Each row's entries are taken one a step in order, so each sum is
/// the chain of the product by rows. A step is, per vector of 16 rows, the two halves of x's window picked by the columns
/// (vpermt2ps) and one fused multiply-add: no gathers. The price is the padding: at density 0.05 the steps hold 43–49 %
/// entries (windows fixed at multiples of 31 columns held 29–32 %: every row of a slice waited for the one with the most
/// entries in each window). 784-1024-512-10 at density 0.05, batch 1, the two sparse layers' products on a Zen 4: 7.5–9.4 µs
/// on 1 thread, 5.7–7.6 on 2 (fixed windows, with a kernel the JIT left its references on the stack: 18–23 and 11–17; by
/// rows about 25).
/// </para>
/// </summary>
internal sealed unsafe class PreparedSparseRows
{
    /// <summary>Rows of a slice: four vectors of 16, four independent chains a step.</summary>
    public const int SliceRows = 64;

    /// <summary>Columns of a window: the 32 lanes of two vectors, the last of which is +0.</summary>
    public const int WindowColumns = 31;

    /// <summary>Below this share of entries in the steps' lanes a layer is left to the product by rows (a very sparse, wide layer would be mostly padding).</summary>
    public const double MinimumFill = 0.2;

    private readonly int _K, _D, _nonZeros;
    // step after step, SliceRows lanes each: the weights, and their columns within the step's window (31: the +0 lane); then
    // the first column of each step's window. Pinned arrays, read through pointers from 64-byte lines (a vector load across
    // two lines costs two)
    private readonly float[] _weightsArray;
    private readonly byte[] _columnsArray;
    private readonly int[] _windowsArray;
    private readonly float* _weights;
    private readonly byte* _columns;
    private readonly int* _windows;
    private readonly int[] _stepsBefore;     // steps before slice s

    /// <summary>The share of the steps' lanes that hold entries (the rest is padding).</summary>
    public double Fill => (double)_nonZeros / ((long)_stepsBefore[^1] * SliceRows);

    [ThreadStatic] private static float[]? t_x;

    /// <summary>Whether the CPU has the instructions (AVX-512 F); without them a predictor uses the product by rows, with the same bits.</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>
    /// W with its <paramref name="values"/> prepared, or null where the CPU lacks AVX-512, W stores nothing, or the steps would
    /// hold less than <paramref name="fill"/> entries a lane (<see cref="MinimumFill"/> by default; judged before the steps
    /// are allocated, and as soon as the steps counted so far pass the bound: a million-neuron layer would be almost all
    /// padding).
    /// </summary>
    public static PreparedSparseRows? TryCreate(CsrMatrix<float> W, Matrix<float> values, double fill = MinimumFill)
    {
        if (!IsSupported || W.NonZeroCount == 0) return null;
        long most = Math.Min((Array.MaxLength - 64) / SliceRows, fill > 0 ? (long)(W.NonZeroCount / (fill * SliceRows)) : long.MaxValue);
        int slices = (W.Rows + SliceRows - 1) / SliceRows;
        var stepsBefore = new int[slices + 1];
        var next = new int[SliceRows];
        for (int s = 0; s < slices; s++)
        {
            long steps = stepsBefore[s] + (long)Schedule(W, s, next, null);
            if (steps > most) return null;
            stepsBefore[s + 1] = (int)steps;
        }
        return new PreparedSparseRows(W, values, stepsBefore, next);
    }

    private PreparedSparseRows(CsrMatrix<float> W, Matrix<float> values, int[] stepsBefore, int[] next)
    {
        (_K, _D, _nonZeros, _stepsBefore) = (W.Rows, W.Cols, W.NonZeroCount, stepsBefore);
        int steps = stepsBefore[^1];
        _weightsArray = Aligned(steps * SliceRows, out _weights);
        _columnsArray = Aligned(steps * SliceRows, out _columns);
        _windowsArray = Aligned(steps, out _windows);
        new Span<float>(_weights, steps * SliceRows).Fill(-0f);
        new Span<byte>(_columns, steps * SliceRows).Fill(WindowColumns);
        for (int s = 0; s + 1 < stepsBefore.Length; s++) Schedule(W, s, next, (this, values));
    }

    /// <summary>A pinned array of at least <paramref name="length"/> elements, and a pointer to the first on a 64-byte line.</summary>
    private static T[] Aligned<T>(int length, out T* first) where T : unmanaged
    {
        var array = GC.AllocateArray<T>(length + 64 / sizeof(T), pinned: true);
        first = (T*)(((nint)Unsafe.AsPointer(ref array[0]) + 63) & ~(nint)63);
        return array;
    }

    /// <summary>
    /// The steps of slice <paramref name="slice"/>: the window of each starts at the smallest column a row of the slice has yet
    /// to take (<paramref name="next"/>: each row's next entry), and every row whose next entry lies in it takes it. With a
    /// <paramref name="target"/>, writes them there (its weights, columns and windows from the slice's first step).
    /// </summary>
    private static int Schedule(CsrMatrix<float> W, int slice, int[] next, (PreparedSparseRows Rows, Matrix<float> Values)? target)
    {
        int[] start = W.RowStart, columns = W.Columns;
        int k0 = slice * SliceRows, rows = Math.Min(SliceRows, W.Rows - k0);
        for (int q = 0; q < rows; q++) next[q] = start[k0 + q];
        for (int step = 0; ; step++)
        {
            int c0 = int.MaxValue;
            for (int q = 0; q < rows; q++)
                if (next[q] < start[k0 + q + 1]) c0 = Math.Min(c0, columns[next[q]]);
            if (c0 == int.MaxValue) return step;
            for (int q = 0; q < rows; q++)
            {
                int e = next[q];
                if (e == start[k0 + q + 1] || columns[e] - c0 >= WindowColumns) continue;
                if (target is ({ } into, { } values))
                {
                    long lane = (long)(into._stepsBefore[slice] + step) * SliceRows + q;
                    into._weights[lane] = values[0, e];
                    into._columns[lane] = (byte)(columns[e] - c0);
                }
                next[q] = e + 1;
            }
            if (target is ({ } prepared, _)) prepared._windows[prepared._stepsBefore[slice] + step] = c0;
        }
    }

    /// <summary>Z = X·Wᵀ + 1_N·b (X N×D; Z takes the shape N×K), the bits of <see cref="SparseProducts.FeedforwardRows"/>.</summary>
    public void Multiply(Matrix<float> X, Matrix<float> b, Matrix<float> Z)
    {
        if (X.Cols != _D) throw new ArgumentException($"PreparedSparseRows.Multiply: X is {X.Shape}, W is {_K}×{_D}");
        Shapes.RowVector("PreparedSparseRows.Multiply", b, _K);
        Z.Resize(X.Rows, _K);
        int slices = _stepsBefore.Length - 1, threads = Math.Min(Parallelism.Threads, 8);
        // split as the product by rows splits (SparseProducts.RowsSplitWork)
        bool split = threads > 1 && (long)_nonZeros * X.Rows >= SparseProducts.RowsSplitWork && !WorkerPool.InRegion;
        // x, one row after another, each with a window's lanes past D: a window starts at a column below D
        int stride = _D + 2 * Vector512<float>.Count;
        long length = (long)X.Rows * stride;
        if (t_x is null || t_x.Length < length) t_x = GC.AllocateUninitializedArray<float>(checked((int)length));
        var x = t_x;
        for (int i = 0; i < X.Rows; i++)
        {
            X.Row(i).CopyTo(x.AsSpan(i * stride));
            x.AsSpan(i * stride + _D, stride - _D).Clear();
        }
        if (split) WorkerPool.Run(threads, threads, new Parts(this, x, stride, b, Z, threads));
        else Run(0, slices, x, stride, b, Z);
    }

    /// <summary>Part p of P: the slices from the first whose steps start at p/P of them (each z[k] is summed alike in any part).</summary>
    private readonly struct Parts(PreparedSparseRows W, float[] x, int stride, Matrix<float> b, Matrix<float> Z, int parts) : IParallelBody
    {
        public void Run(int part) => W.Run(Boundary(part), Boundary(part + 1), x, stride, b, Z);

        private int Boundary(int part)
        {
            int[] before = W._stepsBefore;
            int slices = before.Length - 1;
            if (part == 0) return 0;   // slices without entries still write b: none is skipped at the start
            if (part == parts) return slices;
            int target = (int)((long)before[slices] * part / parts);
            int s = Array.BinarySearch(before, 0, slices + 1, target);
            return s >= 0 ? s : Math.Min(~s, slices);
        }
    }

    /// <summary>z[k] = b_k + Σ_{e ∈ row k} W_e·x[col_e] for the rows of slices [first, end), for every row of X (x: X's rows, <paramref name="stride"/> apart).</summary>
    private void Run(int first, int end, float[] x, int stride, Matrix<float> b, Matrix<float> Z)
    {
        fixed (float* xs = x)
        fixed (float* bias = b.AsSpan())
        fixed (float* zs = Z.AsSpan())
            for (int s = first; s < end; s++)
            {
                int t = _stepsBefore[s], k0 = s * SliceRows, rows = Math.Min(SliceRows, _K - k0);
                for (int i = 0; i < Z.Rows; i++)
                    Slice(xs + (long)i * stride, _weights + (long)t * SliceRows, _columns + (long)t * SliceRows, _windows + t, _stepsBefore[s + 1] - t, bias + k0, zs + (long)i * _K + k0, rows);
            }
    }

    /// <summary>
    /// z[q] = b[q] + the sum of row q of a slice (q &lt; <paramref name="rows"/>), from its <paramref name="steps"/> steps: weights
    /// W, columns C and window starts c0; x one sample's row. Small and on pointers, so that the four sums stay in registers
    /// (a big method whose sums the JIT kept on the stack, a store and a load a step, ran at half speed or less for seconds
    /// at a time, as its callers were recompiled: bench/results/AMD-EPYC-Zen4.md).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Slice(float* x, float* W, byte* C, int* c0, int steps, float* b, float* z, int rows)
    {
        var last = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0).AsSingle();
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (; steps > 0; steps--, W += SliceRows, C += SliceRows, c0++)
        {
            // the step's window of 31 columns in two vectors, lane 31 made +0
            var lo = Vector512.Load(x + *c0);
            var hi = Vector512.Load(x + *c0 + 16) & last;
            a0 = Avx512F.FusedMultiplyAdd(Vector512.LoadAligned(W), Avx512F.PermuteVar16x32x2(lo, Avx512F.ConvertToVector512Int32(Vector128.LoadAligned(C)), hi), a0);
            a1 = Avx512F.FusedMultiplyAdd(Vector512.LoadAligned(W + 16), Avx512F.PermuteVar16x32x2(lo, Avx512F.ConvertToVector512Int32(Vector128.LoadAligned(C + 16)), hi), a1);
            a2 = Avx512F.FusedMultiplyAdd(Vector512.LoadAligned(W + 32), Avx512F.PermuteVar16x32x2(lo, Avx512F.ConvertToVector512Int32(Vector128.LoadAligned(C + 32)), hi), a2);
            a3 = Avx512F.FusedMultiplyAdd(Vector512.LoadAligned(W + 48), Avx512F.PermuteVar16x32x2(lo, Avx512F.ConvertToVector512Int32(Vector128.LoadAligned(C + 48)), hi), a3);
        }
        if (rows == SliceRows)
        {
            (Vector512.Load(b) + a0).Store(z);
            (Vector512.Load(b + 16) + a1).Store(z + 16);
            (Vector512.Load(b + 32) + a2).Store(z + 32);
            (Vector512.Load(b + 48) + a3).Store(z + 48);
            return;
        }
        float* sums = stackalloc float[SliceRows];
        a0.Store(sums);
        a1.Store(sums + 16);
        a2.Store(sums + 32);
        a3.Store(sums + 48);
        for (int q = 0; q < rows; q++) z[q] = b[q] + sums[q];
    }
}
