using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nerva.Kernels;

/// <summary>
/// SGEMM on AVX-512 in the BLIS style: C = op(A)·op(B) for any op, from packed panels.
/// <list type="number">
/// <item>op(A) is packed once per call into micro-panels of <see cref="MR"/> rows, p-major
/// (Ap[slice][panel][p][r]), zero-padded below row m.</item>
/// <item>C is cut into tiles of <see cref="MC"/>×<see cref="NC"/>, one task each (2-D over the threads). For
/// each k-slice of <see cref="KC"/> a task packs its KC×NC block of op(B) into micro-panels of
/// <see cref="NR"/> columns (Bp[panel][p][j], zero-padded right of column n) in its own buffer, then runs
/// the 8×32 micro-kernel (16 zmm accumulators of rank-1 updates) over every pair of panels.</item>
/// </list>
/// Packing makes every operand of the micro-kernel a contiguous stream whatever the layouts and strides
/// (rows 12 KB apart in the MLP shapes would otherwise share one L1 set), and makes the transposed
/// products as fast as the plain one. Each C_ij is the sum over slices, in order, of a chain of FMAs over
/// p in order, whatever the tile, so results are bit-identical for any number of threads.
/// A few rows of A times Bᵀ (batch-1 inference) skip packing: dot products of rows, B read once in place.
/// </summary>
public sealed unsafe class Avx512Gemm : IGemm<float>
{
    private const int MR = 8, NR = 32;       // the micro-tile: 8 rows × 32 columns
    private const int KC = 256;              // a k-slice: an MR×KC panel of A (8 KB) and a KC×NR panel of B (32 KB) fit in L1
    private const int MC = 256, NC = 128;    // a task's tile of C; its KC×MC block of Ap (256 KB) and KC×NC block of Bp (128 KB) fit in L2
    private const int Align = 16;            // floats: packed buffers start on a 64-byte line

    // Below this many rows of A (a batch of 1 in inference, say), packing Bᵀ costs more than the product.
    private const int SmallRows = 4;
    private const int SmallColumnsPerTask = 64;

    // Packing buffers, per thread (a product may be called from several threads at once): Ap belongs to the
    // calling thread, Bp to the thread running a task. They grow once and are reused (no allocation after warm-up).
    [ThreadStatic] private static float[]? t_packedA;
    [ThreadStatic] private static float[]? t_packedB;

    public static bool IsSupported => Avx512F.IsSupported;

    public void Multiply(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<float> A, ReadOnlySpan<float> B, Span<float> C)
    {
        if (!GemmArguments.NeedProduct(m, n, k, A, B, C)) return;
        fixed (float* a = A)
        fixed (float* b = B)
        fixed (float* c = C)
        {
            if (transposeB && !transposeA && m < SmallRows)
            {
                int tasks = (n + SmallColumnsPerTask - 1) / SmallColumnsPerTask;
                Parallelism.For(tasks, (long)m * n * k, new DotColumns(a, b, c, m, n, k));
                return;
            }
            int panels = (m + MR - 1) / MR;
            float* ap = Buffer(ref t_packedA, (long)panels * MR * k);
            Parallelism.For(panels, (long)m * k * 8, new PackA(a, ap, m, k, transposeA));
            int tilesDown = (m + MC - 1) / MC, tilesAcross = (n + NC - 1) / NC;
            Parallelism.For(tilesDown * tilesAcross, (long)m * n * k, new Tiles(ap, b, c, m, n, k, transposeB, tilesAcross));
        }
    }

    /// <summary>A 64-byte aligned pointer into a pinned per-thread buffer of at least <paramref name="length"/> floats.</summary>
    private static float* Buffer(ref float[]? buffer, long length)
    {
        if (buffer is null || buffer.Length < length + Align)
            buffer = GC.AllocateUninitializedArray<float>(checked((int)(length + Align)), pinned: true);
        float* p = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (float*)(((nint)p + 63) & ~(nint)63);
    }

    /// <summary>Panel i of op(A): Ap[slice s][panel i][p][r] = op(A)(i·MR + r, s·KC + p), 0 below row m.</summary>
    private readonly struct PackA(float* a, float* ap, int m, int k, bool transposeA) : IParallelBody
    {
        public void Run(int panel)
        {
            int panels = (m + MR - 1) / MR, i0 = panel * MR, rows = Math.Min(MR, m - i0);
            for (int kb = 0; kb < k; kb += KC)
            {
                int kl = Math.Min(KC, k - kb);
                float* target = ap + (long)panels * MR * kb + (long)panel * MR * kl;
                int p = 0;
                if (rows == MR && transposeA)
                    for (; p < kl; p++)           // op(A) = Aᵀ: the 8 rows of a panel are contiguous in A
                        Vector256.Store(Vector256.Load(a + (long)(kb + p) * m + i0), target + p * MR);
                else if (rows == MR)
                    for (; p + 8 <= kl; p += 8)   // rows of A are k apart: 8×8 transposes
                        BlockTranspose.Transpose8x8(ref a[(long)i0 * k + kb + p], k, ref target[p * MR], MR);
                for (; p < kl; p++)
                    for (int r = 0; r < MR; r++)
                        target[p * MR + r] = r < rows ? (transposeA ? a[(long)(kb + p) * m + i0 + r] : a[(long)(i0 + r) * k + kb + p]) : 0f;
            }
        }
    }

    /// <summary>One tile of C per iteration: for each k-slice, pack the tile's block of op(B), then run the micro-kernels.</summary>
    private readonly struct Tiles(float* ap, float* b, float* c, int m, int n, int k, bool transposeB, int tilesAcross) : IParallelBody
    {
        public void Run(int t)
        {
            int panels = (m + MR - 1) / MR;
            int i0 = t / tilesAcross * MC, j0 = t % tilesAcross * NC;
            int i1 = Math.Min(i0 + MC, m), j1 = Math.Min(j0 + NC, n);
            float* bp = Buffer(ref t_packedB, KC * NC + MR * NR);
            float* edge = bp + KC * NC;   // an MR×NR scratch tile for the edges of C
            for (int kb = 0; kb < k; kb += KC)
            {
                int kl = Math.Min(KC, k - kb);
                PackB(bp, kb, kl, j0, j1);
                for (int j = j0; j < j1; j += NR)
                {
                    float* bPanel = bp + (long)(j - j0) * kl;
                    int cols = Math.Min(NR, j1 - j);
                    for (int i = i0; i < i1; i += MR)
                    {
                        float* aPanel = ap + (long)panels * MR * kb + (long)i / MR * MR * kl;
                        int rows = Math.Min(MR, i1 - i);
                        float* cp = c + (long)i * n + j;
                        if (rows == MR && cols == NR)
                        {
                            Kernel8x32(kl, aPanel, bPanel, cp, n, kb > 0);
                            continue;
                        }
                        Kernel8x32(kl, aPanel, bPanel, edge, NR, false);
                        for (int r = 0; r < rows; r++)
                            for (int jj = 0; jj < cols; jj++)
                                cp[(long)r * n + jj] = kb > 0 ? cp[(long)r * n + jj] + edge[r * NR + jj] : edge[r * NR + jj];
                    }
                }
            }
        }

        /// <summary>Bp[panel][p][jj] = op(B)(kb + p, j0 + panel·NR + jj) for the columns j0..j1 of one k-slice, 0 right of j1.</summary>
        private void PackB(float* bp, int kb, int kl, int j0, int j1)
        {
            for (int j = j0; j < j1; j += NR)
            {
                float* panel = bp + (long)(j - j0) * kl;
                int cols = Math.Min(NR, j1 - j);
                if (!transposeB && cols == NR)
                {
                    // op(B) = B, k×n: each p is a contiguous run of 32 floats
                    for (int p = 0; p < kl; p++)
                    {
                        float* row = b + (long)(kb + p) * n + j;
                        Vector512.Store(Vector512.Load(row), panel + p * NR);
                        Vector512.Store(Vector512.Load(row + 16), panel + p * NR + 16);
                    }
                    continue;
                }
                int p8 = 0;
                if (transposeB && cols == NR)
                {
                    // op(B) = Bᵀ, B n×k: rows of B become columns of the panel, by 8×8 transposes
                    for (; p8 + 8 <= kl; p8 += 8)
                        for (int jj = 0; jj < NR; jj += 8)
                            BlockTranspose.Transpose8x8(ref b[(long)(j + jj) * k + kb + p8], k, ref panel[p8 * NR + jj], NR);
                }
                for (int p = p8; p < kl; p++)
                    for (int jj = 0; jj < NR; jj++)
                        panel[p * NR + jj] = jj < cols ? (transposeB ? b[(long)(j + jj) * k + kb + p] : b[(long)(kb + p) * n + j + jj]) : 0f;
            }
        }
    }

    /// <summary>
    /// C(8×32) = Σ_p Ap[p][0..8]ᵀ·Bp[p][0..32] over one k-slice (rank-1 updates, 16 zmm accumulators), stored into
    /// C, rows ldc apart, or added to it when <paramref name="add"/> (the slices after the first).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32(int kl, float* ap, float* bp, float* c, long ldc, bool add)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kl; p++, ap += MR, bp += NR)
        {
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            var x = Vector512.Create(ap[0]);
            c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(ap[1]);
            c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(ap[2]);
            c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(ap[3]);
            c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(ap[4]);
            c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(ap[5]);
            c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(ap[6]);
            c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(ap[7]);
            c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
        }
        Put(c, c00, c01, add); c += ldc;
        Put(c, c10, c11, add); c += ldc;
        Put(c, c20, c21, add); c += ldc;
        Put(c, c30, c31, add); c += ldc;
        Put(c, c40, c41, add); c += ldc;
        Put(c, c50, c51, add); c += ldc;
        Put(c, c60, c61, add); c += ldc;
        Put(c, c70, c71, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, Vector512<float> left, Vector512<float> right, bool add)
    {
        if (add)
        {
            left += Vector512.Load(c);
            right += Vector512.Load(c + 16);
        }
        left.Store(c);
        right.Store(c + 16);
    }

    /// <summary>
    /// C = A·Bᵀ for fewer than <see cref="SmallRows"/> rows of A: column tile t of every row, each C_ij one dot
    /// product of row i of A and row j of B, four rows of B at a time (four streams of B in flight).
    /// </summary>
    private readonly struct DotColumns(float* a, float* b, float* c, int m, int n, int k) : IParallelBody
    {
        public void Run(int t)
        {
            int j0 = t * SmallColumnsPerTask, j1 = Math.Min(n, j0 + SmallColumnsPerTask);
            for (int i = 0; i < m; i++)
            {
                float* x = a + (long)i * k;
                int j = j0;
                for (; j + 4 <= j1; j += 4) Dot1x4(x, b + (long)j * k, k, c + (long)i * n + j);
                for (; j < j1; j++) c[(long)i * n + j] = Dot(x, b + (long)j * k, k);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Dot1x4(float* x, float* y0, int k, float* c)
        {
            float* y1 = y0 + k, y2 = y1 + k, y3 = y2 + k;
            Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
            int p = 0;
            for (; p + 16 <= k; p += 16)
            {
                var v = Vector512.Load(x + p);
                s0 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(y0 + p), s0);
                s1 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(y1 + p), s1);
                s2 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(y2 + p), s2);
                s3 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(y3 + p), s3);
            }
            float t0 = Vector512.Sum(s0), t1 = Vector512.Sum(s1), t2 = Vector512.Sum(s2), t3 = Vector512.Sum(s3);
            for (; p < k; p++)
            {
                t0 = MathF.FusedMultiplyAdd(x[p], y0[p], t0);
                t1 = MathF.FusedMultiplyAdd(x[p], y1[p], t1);
                t2 = MathF.FusedMultiplyAdd(x[p], y2[p], t2);
                t3 = MathF.FusedMultiplyAdd(x[p], y3[p], t3);
            }
            c[0] = t0;
            c[1] = t1;
            c[2] = t2;
            c[3] = t3;
        }

        private static float Dot(float* x, float* y, int k)
        {
            Vector512<float> acc = default;
            int p = 0;
            for (; p + 16 <= k; p += 16) acc = Avx512F.FusedMultiplyAdd(Vector512.Load(x + p), Vector512.Load(y + p), acc);
            float sum = Vector512.Sum(acc);
            for (; p < k; p++) sum = MathF.FusedMultiplyAdd(x[p], y[p], sum);
            return sum;
        }
    }
}
