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
/// The rows go in slices of <see cref="SliceRows"/> (four vectors of 16 rows), the columns in windows of
/// <see cref="WindowColumns"/>. For each slice and window that has entries, step t holds, for every row of the slice, its
/// t-th entry in the window: the weight, and the column within the window; a row with fewer entries there holds −0 and
/// column 31, a lane of the window that is +0, and −0·(+0) = −0 leaves every sum as it is (x + (−0) = x for every x). A
/// step is then, per vector of 16 rows, the two halves of x's window picked by the columns (vpermt2ps) and one fused
/// multiply-add: no gathers. The price is the padding: at density 0.05 the steps hold about three times the entries
/// (784-1024-512-10 at density 0.05, batch 1, 1 thread, the two sparse layers: 25 µs by rows, 13–14 µs here, Zen 4).
/// </para>
/// </summary>
internal sealed class PreparedSparseRows
{
    /// <summary>Rows of a slice: four vectors of 16, four independent chains a step.</summary>
    public const int SliceRows = 64;

    /// <summary>Columns of a window: the 32 lanes of two vectors, the last of which is +0.</summary>
    public const int WindowColumns = 31;

    /// <summary>Below this share of entries in the steps' lanes a layer is left to the product by rows (a very sparse, wide layer would be mostly padding).</summary>
    public const double MinimumFill = 0.2;

    private readonly int _K, _D, _nonZeros;
    private readonly float[] _weights;       // step after step, SliceRows lanes each
    private readonly byte[] _columns;        // the same, the column within the window (31: the +0 lane)
    private readonly int[] _sliceRuns;       // slice s: runs [_sliceRuns[s], _sliceRuns[s + 1])
    private readonly int[] _runWindow, _runSteps;
    private readonly long[] _stepsBefore;    // steps before slice s (for splitting the slices over the threads)

    [ThreadStatic] private static float[]? t_x;

    /// <summary>Whether the CPU has the instructions (AVX-512 F); without them a predictor uses the product by rows, with the same bits.</summary>
    public static bool IsSupported => Avx512F.IsSupported;

    /// <summary>
    /// W with its <paramref name="values"/> prepared, or null where the CPU lacks AVX-512, W stores nothing, or the steps would
    /// hold less than <paramref name="fill"/> entries a lane (<see cref="MinimumFill"/> by default; judged before anything is
    /// allocated: a million-neuron layer would be almost all padding).
    /// </summary>
    public static PreparedSparseRows? TryCreate(CsrMatrix<float> W, Matrix<float> values, double fill = MinimumFill)
    {
        if (!IsSupported || W.NonZeroCount == 0) return null;
        long steps = 0;
        int runs = 0;
        Runs(W, (_, _, runSteps, _, _, _) => (steps, runs) = (steps + runSteps, runs + 1));
        if (W.NonZeroCount < fill * steps * SliceRows || steps * SliceRows > Array.MaxLength) return null;
        return new PreparedSparseRows(W, values, (int)steps * SliceRows, runs);
    }

    private PreparedSparseRows(CsrMatrix<float> W, Matrix<float> values, int lanes, int runs)
    {
        (_K, _D, _nonZeros) = (W.Rows, W.Cols, W.NonZeroCount);
        int slices = (_K + SliceRows - 1) / SliceRows;
        (_weights, _columns) = (new float[lanes], new byte[lanes]);
        _weights.AsSpan().Fill(-0f);
        _columns.AsSpan().Fill(WindowColumns);
        (_runWindow, _runSteps, _sliceRuns, _stepsBefore) = (new int[runs], new int[runs], new int[slices + 1], new long[slices + 1]);
        int r = 0;
        long step = 0;
        var weights = _weights;
        var columns = _columns;
        Runs(W, (slice, window, steps, keys, first, end) =>
        {
            // step t, lane q: the t-th entry of row q of the slice in this window
            for (int i = first, t = 0; i < end; i++)
            {
                int q = (int)(keys[i] >> 32 & 63), e = (int)(uint)keys[i];
                t = i > first && (keys[i - 1] >> 32 & 63) == q ? t + 1 : 0;
                weights[(step + t) * SliceRows + q] = values[0, e];
                columns[(step + t) * SliceRows + q] = (byte)(W.Columns[e] - window * WindowColumns);
            }
            (_runWindow[r], _runSteps[r]) = (window, steps);
            r++;
            step += steps;
            _sliceRuns[slice + 1] = r;
            _stepsBefore[slice + 1] = step;
        });
        for (int s = 1; s <= slices; s++)   // slices without entries: no runs, no steps
        {
            _sliceRuns[s] = Math.Max(_sliceRuns[s], _sliceRuns[s - 1]);
            _stepsBefore[s] = Math.Max(_stepsBefore[s], _stepsBefore[s - 1]);
        }
    }

    /// <summary>What <see cref="Runs"/> calls for one slice and window: its steps, and the slice's sorted entries keys[first..end) in the window.</summary>
    private delegate void RunAction(int slice, int window, int steps, List<long> keys, int first, int end);

    /// <summary>
    /// Calls <paramref name="run"/> for every slice and window with entries, in order, with the slice's entries sorted by
    /// (window, row of the slice, entry): each row's entries of a window stay in column order. A run's steps: the most
    /// entries one row of the slice has in the window.
    /// </summary>
    private static void Runs(CsrMatrix<float> W, RunAction run)
    {
        var keys = new List<long>();
        for (int s = 0, slices = (W.Rows + SliceRows - 1) / SliceRows; s < slices; s++)
        {
            keys.Clear();
            for (int q = 0; q < SliceRows && s * SliceRows + q < W.Rows; q++)
                for (int e = W.RowStart[s * SliceRows + q]; e < W.RowStart[s * SliceRows + q + 1]; e++)
                    keys.Add(((long)(W.Columns[e] / WindowColumns) << 38) | ((long)q << 32) | (uint)e);
            keys.Sort();
            for (int first = 0; first < keys.Count;)
            {
                long window = keys[first] >> 38;
                int end = first, steps = 0;
                for (int rowFirst = first; end < keys.Count && keys[end] >> 38 == window; end++)
                {
                    if ((keys[end] >> 32 & 63) != (keys[rowFirst] >> 32 & 63)) rowFirst = end;
                    steps = Math.Max(steps, end - rowFirst + 1);
                }
                run(s, (int)window, steps, keys, first, end);
                first = end;
            }
        }
    }

    /// <summary>Z = X·Wᵀ + 1_N·b (X N×D; Z takes the shape N×K), the bits of <see cref="SparseProducts.FeedforwardRows"/>.</summary>
    public void Multiply(Matrix<float> X, Matrix<float> b, Matrix<float> Z)
    {
        if (X.Cols != _D) throw new ArgumentException($"PreparedSparseRows.Multiply: X is {X.Shape}, W is {_K}×{_D}");
        Shapes.RowVector("PreparedSparseRows.Multiply", b, _K);
        Z.Resize(X.Rows, _K);
        int slices = _sliceRuns.Length - 1, threads = Math.Min(Parallelism.Threads, 8);
        // split as the product by rows splits (SparseProducts.RowsSplitWork)
        bool split = threads > 1 && (long)_nonZeros * X.Rows >= SparseProducts.RowsSplitWork && !WorkerPool.InRegion;
        // x in windows, zero from D on: a window's last lane, and every lane past D, is +0
        int padded = ((_D + WindowColumns - 1) / WindowColumns + 1) * WindowColumns + 1;
        if (t_x is null || t_x.Length < padded) t_x = GC.AllocateUninitializedArray<float>(padded);
        var x = t_x;
        x.AsSpan(_D, padded - _D).Clear();   // the rows below overwrite x[0, D) only
        for (int i = 0; i < X.Rows; i++)
        {
            X.Row(i).CopyTo(x);
            if (split) WorkerPool.Run(threads, threads, new Parts(this, x, b, Z, i, threads));
            else Run(0, slices, x, b, Z.Row(i));
        }
    }

    /// <summary>Part p of P of sample <paramref name="row"/>: the slices from the first whose steps start at p/P of them (each z[k] is summed alike in any part).</summary>
    private readonly struct Parts(PreparedSparseRows W, float[] x, Matrix<float> b, Matrix<float> Z, int row, int parts) : IParallelBody
    {
        public void Run(int part) => W.Run(Boundary(part), Boundary(part + 1), x, b, Z.Row(row));

        private int Boundary(int part)
        {
            long[] before = W._stepsBefore;
            int slices = before.Length - 1;
            if (part == 0) return 0;   // slices without entries still write b: none is skipped at the start
            if (part == parts) return slices;
            long target = before[slices] * part / parts;
            int s = Array.BinarySearch(before, 0, slices + 1, target);
            return s >= 0 ? s : Math.Min(~s, slices);
        }
    }

    /// <summary>z[k] = b_k + Σ_{e ∈ row k} W_e·x[col_e] for the rows of slices [first, end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run(int first, int end, float[] x, Matrix<float> b, Span<float> z)
    {
        if (first >= end) return;
        ref float X = ref MemoryMarshal.GetArrayDataReference(x);
        int offset = checked((int)(_stepsBefore[first] * SliceRows));
        ref float W = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_weights), offset);
        ref byte C = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_columns), offset);
        var last = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0).AsSingle();
        Span<float> sums = stackalloc float[SliceRows];
        for (int s = first; s < end; s++)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int r = _sliceRuns[s]; r < _sliceRuns[s + 1]; r++)
            {
                // the window's 31 columns in two vectors, lane 31 made +0 (x holds a window and one lane past D)
                nuint c0 = (nuint)_runWindow[r] * WindowColumns;
                var lo = Vector512.LoadUnsafe(ref X, c0);
                var hi = Vector512.LoadUnsafe(ref X, c0 + 16) & last;
                for (int t = _runSteps[r]; t > 0; t--)
                {
                    a0 = Avx512F.FusedMultiplyAdd(Vector512.LoadUnsafe(ref W), Avx512F.PermuteVar16x32x2(lo, Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref C)), hi), a0);
                    a1 = Avx512F.FusedMultiplyAdd(Vector512.LoadUnsafe(ref W, 16), Avx512F.PermuteVar16x32x2(lo, Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref C, 16)), hi), a1);
                    a2 = Avx512F.FusedMultiplyAdd(Vector512.LoadUnsafe(ref W, 32), Avx512F.PermuteVar16x32x2(lo, Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref C, 32)), hi), a2);
                    a3 = Avx512F.FusedMultiplyAdd(Vector512.LoadUnsafe(ref W, 48), Avx512F.PermuteVar16x32x2(lo, Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref C, 48)), hi), a3);
                    W = ref Unsafe.Add(ref W, SliceRows);
                    C = ref Unsafe.Add(ref C, SliceRows);
                }
            }
            a0.CopyTo(sums);
            a1.CopyTo(sums[16..]);
            a2.CopyTo(sums[32..]);
            a3.CopyTo(sums[48..]);
            int k0 = s * SliceRows, rows = Math.Min(SliceRows, _K - k0);
            for (int q = 0; q < rows; q++) z[k0 + q] = b[0, k0 + q] + sums[q];
        }
    }
}
