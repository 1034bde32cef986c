using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nerva.Kernels;

/// <summary>
/// SGEMM on AVX-512: C = op(A)·op(B), blocked over k in slices of <see cref="KC"/> so that a slice of B
/// stays in L2, and tiled in 2-D (<see cref="TileRows"/> × <see cref="TileCols"/>) over the threads.
/// <list type="bullet">
/// <item>A·B and Aᵀ·B: 8×32 register tiles (16 zmm accumulators) of rank-1 updates, B read in place.</item>
/// <item>A·Bᵀ (the forward product X·Wᵀ): 32-column panels of Bᵀ packed into an L1-sized buffer and
/// run through the same 8×32 tiles; a last partial panel uses 4×4 tiles of dot products.</item>
/// </list>
/// Tile boundaries do not depend on the thread count and each element is summed in one fixed order,
/// so results are bit-identical for any number of threads. Aᵀ·Bᵀ falls back to <see cref="ManagedGemm{T}"/>.
/// </summary>
public sealed unsafe class Avx512Gemm : IGemm<float>
{
    // k-slices and tiles: for A·B a KC×256 slice of B (256 KB) stays in L2. For A·Bᵀ each packed
    // KC×32 panel (32 KB) is reused by up to 128 rows of A, so a batch of 100 packs W once per call.
    private const int KC = 256;
    private const int TileRows = 32;
    private const int TileCols = 256;
    private const int TileRowsPacked = 128;
    private const int TileColsPacked = 128;
    private readonly ManagedGemm<float> _fallback = new();

    public static bool IsSupported => Avx512F.IsSupported;

    public void Multiply(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<float> A, ReadOnlySpan<float> B, Span<float> C)
    {
        if ((transposeA && transposeB) || k == 0 || m == 0 || n == 0)
        {
            _fallback.Multiply(transposeA, transposeB, m, n, k, A, B, C);
            return;
        }
        if (A.Length < m * k || B.Length < k * n || C.Length < m * n)
            throw new ArgumentException($"Gemm: storage too small for op(A) {m}×{k}, op(B) {k}×{n}, C {m}×{n}");
        fixed (float* a = A)
        fixed (float* b = B)
        fixed (float* c = C)
        {
            if (transposeB && m < SmallRows)
            {
                RowsTimesRows(a, b, c, m, n, k);
                return;
            }
            int tileRows = transposeB ? TileRowsPacked : TileRows, tileCols = transposeB ? TileColsPacked : TileCols;
            int tilesDown = (m + tileRows - 1) / tileRows, tilesAcross = (n + tileCols - 1) / tileCols;
            for (int kb = 0; kb < k; kb += KC)
            {
                var job = new Job(a, b, c, m, n, k, kb, Math.Min(KC, k - kb), transposeA, transposeB, tilesAcross, tileRows, tileCols);
                Parallelism.For(tilesDown * tilesAcross, (long)m * n * job.Kl, job);
            }
        }
    }

    // Below this many rows of A (a batch of 1 in inference, say), packing Bᵀ costs more than the product.
    private const int SmallRows = 4;
    private const int SmallColumnsPerTask = 64;

    /// <summary>C = A·Bᵀ for a few rows of A: every C_ij is one dot product of rows (the tiles' dot kernels, B read in place).</summary>
    private static void RowsTimesRows(float* a, float* b, float* c, int m, int n, int k)
    {
        int tasks = (n + SmallColumnsPerTask - 1) / SmallColumnsPerTask;
        var job = new Job(a, b, c, m, n, k, 0, k, false, true, tasks, m, SmallColumnsPerTask);
        Parallelism.For(tasks, (long)m * n * k, new DotColumns(job));
    }

    /// <summary>The tasks of <see cref="RowsTimesRows"/>: column tile t of every row of A.</summary>
    private readonly struct DotColumns(Job job) : IParallelBody
    {
        public void Run(int t) => job.DotColumns(t);
    }

    /// <summary>One k-slice of a product; as a parallel body, iteration t computes tile t.</summary>
    private readonly struct Job(float* a, float* b, float* c, int m, int n, int k, int kb, int kl, bool transposeA, bool transposeB, int tilesAcross, int tileRows, int tileCols) : IParallelBody
    {
        public int Kl => kl;

        public void Run(int t) => Tile(t);

        public void Tile(int t)
        {
            int i0 = t / tilesAcross * tileRows, j0 = t % tilesAcross * tileCols;
            int i1 = Math.Min(i0 + tileRows, m), j1 = Math.Min(j0 + tileCols, n);
            if (transposeB) PackedTile(i0, i1, j0, j1);
            else AxpyTile(i0, i1, j0, j1);
        }

        /// <summary>Column tile t of every row of A, by dot products without packing (A·Bᵀ, one k-slice).</summary>
        public void DotColumns(int t) => DotTile(0, m, t * tileCols, Math.Min(n, (t + 1) * tileCols));

        // ---- C = A·B or Aᵀ·B: A(i, p) = RowOfA(i)[p·PStride], B row-major k×n ----

        private int PStride => transposeA ? m : 1;

        private float* RowOfA(int i) => transposeA ? a + (long)kb * m + i : a + (long)i * k + kb;

        private void AxpyTile(int i0, int i1, int j0, int j1)
        {
            float* bk = b + (long)kb * n;
            int i = i0;
            for (; i + 8 <= i1; i += 8)
            {
                int j = j0;
                for (; j + 32 <= j1; j += 32) Axpy8x32(i, j, bk + j, n);
                for (int r = 0; r < 8; r++) AxpyRowTail(i + r, j, j1, bk + j, n);
            }
            if (i + 4 <= i1)
            {
                int j = j0;
                for (; j + 32 <= j1; j += 32) Axpy4x32(i, j, bk + j, n);
                for (int r = 0; r < 4; r++) AxpyRowTail(i + r, j, j1, bk + j, n);
                i += 4;
            }
            for (; i < i1; i++) AxpyRowTail(i, j0, j1, bk + j0, n);
        }

        /// <summary>
        /// C = A·Bᵀ on full 32-column panels: pack Bᵀ(kb.., j..j+32) = B[j..j+32, kb..] into a p-major
        /// 32-wide panel (L1-sized), then run the rank-1 kernels on it for every row of the tile.
        /// </summary>
        private void PackedTile(int i0, int i1, int j0, int j1)
        {
            float* panel = stackalloc float[KC * 32];
            int j = j0;
            for (; j + 32 <= j1; j += 32)
            {
                for (int jj = 0; jj < 32; jj++)
                {
                    float* row = b + (long)(j + jj) * k + kb;
                    for (int p = 0; p < kl; p++) panel[p * 32 + jj] = row[p];
                }
                int i = i0;
                for (; i + 8 <= i1; i += 8) Axpy8x32(i, j, panel, 32);
                if (i + 4 <= i1)
                {
                    Axpy4x32(i, j, panel, 32);
                    i += 4;
                }
                for (; i < i1; i++) AxpyRowTail(i, j, j + 32, panel, 32);
            }
            if (j < j1) DotTile(i0, i1, j, j1);
        }

        private void Axpy4x32(int i, int j, float* bp, long ldb)
        {
            int s = PStride;
            float* a0 = RowOfA(i);
            long rs = transposeA ? 1 : k;
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            for (int p = 0; p < kl; p++, bp += ldb)
            {
                var b0 = Vector512.Load(bp);
                var b1 = Vector512.Load(bp + 16);
                float* ap = a0 + (long)p * s;
                var x = Vector512.Create(ap[0]);
                c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
                x = Vector512.Create(ap[rs]);
                c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
                x = Vector512.Create(ap[2 * rs]);
                c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
                x = Vector512.Create(ap[3 * rs]);
                c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            }
            float* cp = c + (long)i * n + j;
            Put(cp, c00); Put(cp + 16, c01); cp += n;
            Put(cp, c10); Put(cp + 16, c11); cp += n;
            Put(cp, c20); Put(cp + 16, c21); cp += n;
            Put(cp, c30); Put(cp + 16, c31);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Axpy8x32(int i, int j, float* bp, long ldb)
        {
            int s = PStride;
            float* a0 = RowOfA(i);
            long rs = transposeA ? 1 : k; // from row r to row r+1 of A
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
            for (int p = 0; p < kl; p++, bp += ldb)
            {
                var b0 = Vector512.Load(bp);
                var b1 = Vector512.Load(bp + 16);
                float* ap = a0 + (long)p * s;
                var x = Vector512.Create(ap[0]);
                c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
                x = Vector512.Create(ap[rs]);
                c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
                x = Vector512.Create(ap[2 * rs]);
                c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
                x = Vector512.Create(ap[3 * rs]);
                c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
                x = Vector512.Create(ap[4 * rs]);
                c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
                x = Vector512.Create(ap[5 * rs]);
                c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
                x = Vector512.Create(ap[6 * rs]);
                c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
                x = Vector512.Create(ap[7 * rs]);
                c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
            }
            float* cp = c + (long)i * n + j;
            Put(cp, c00); Put(cp + 16, c01); cp += n;
            Put(cp, c10); Put(cp + 16, c11); cp += n;
            Put(cp, c20); Put(cp + 16, c21); cp += n;
            Put(cp, c30); Put(cp + 16, c31); cp += n;
            Put(cp, c40); Put(cp + 16, c41); cp += n;
            Put(cp, c50); Put(cp + 16, c51); cp += n;
            Put(cp, c60); Put(cp + 16, c61); cp += n;
            Put(cp, c70); Put(cp + 16, c71);
        }

        /// <summary>Row i, columns j..j1 (B(kb, j) at bp, rows ldb apart): 16 at a time, then one by one.</summary>
        private void AxpyRowTail(int i, int j, int j1, float* bp, long ldb)
        {
            int s = PStride;
            float* a0 = RowOfA(i);
            for (; j + 16 <= j1; j += 16, bp += 16)
            {
                Vector512<float> acc = default;
                float* bq = bp;
                for (int p = 0; p < kl; p++, bq += ldb) acc = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[(long)p * s]), Vector512.Load(bq), acc);
                Put(c + (long)i * n + j, acc);
            }
            for (; j < j1; j++, bp++)
            {
                float sum = 0;
                float* bq = bp;
                for (int p = 0; p < kl; p++, bq += ldb) sum = MathF.FusedMultiplyAdd(a0[(long)p * s], *bq, sum);
                Put(c + (long)i * n + j, sum);
            }
        }

        // ---- C = A·Bᵀ: A row-major m×k, B row-major n×k ----

        private void DotTile(int i0, int i1, int j0, int j1)
        {
            int i = i0;
            for (; i + 4 <= i1; i += 4)
            {
                int j = j0;
                for (; j + 4 <= j1; j += 4) Dot4x4(i, j);
                for (; j < j1; j++)
                    for (int r = 0; r < 4; r++) Put(c + (long)(i + r) * n + j, RowDot(i + r, j));
            }
            for (; i < i1; i++)
                for (int j = j0; j < j1; j++) Put(c + (long)i * n + j, RowDot(i, j));
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Dot4x4(int i, int j)
        {
            float* a0 = a + (long)i * k + kb, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
            float* b0 = b + (long)j * k + kb, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
            Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default, c10 = default, c11 = default, c12 = default, c13 = default;
            Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default, c30 = default, c31 = default, c32 = default, c33 = default;
            int p = 0;
            for (; p + 16 <= kl; p += 16)
            {
                var y0 = Vector512.Load(b0 + p);
                var y1 = Vector512.Load(b1 + p);
                var y2 = Vector512.Load(b2 + p);
                var y3 = Vector512.Load(b3 + p);
                var x = Vector512.Load(a0 + p);
                c00 = Avx512F.FusedMultiplyAdd(x, y0, c00); c01 = Avx512F.FusedMultiplyAdd(x, y1, c01);
                c02 = Avx512F.FusedMultiplyAdd(x, y2, c02); c03 = Avx512F.FusedMultiplyAdd(x, y3, c03);
                x = Vector512.Load(a1 + p);
                c10 = Avx512F.FusedMultiplyAdd(x, y0, c10); c11 = Avx512F.FusedMultiplyAdd(x, y1, c11);
                c12 = Avx512F.FusedMultiplyAdd(x, y2, c12); c13 = Avx512F.FusedMultiplyAdd(x, y3, c13);
                x = Vector512.Load(a2 + p);
                c20 = Avx512F.FusedMultiplyAdd(x, y0, c20); c21 = Avx512F.FusedMultiplyAdd(x, y1, c21);
                c22 = Avx512F.FusedMultiplyAdd(x, y2, c22); c23 = Avx512F.FusedMultiplyAdd(x, y3, c23);
                x = Vector512.Load(a3 + p);
                c30 = Avx512F.FusedMultiplyAdd(x, y0, c30); c31 = Avx512F.FusedMultiplyAdd(x, y1, c31);
                c32 = Avx512F.FusedMultiplyAdd(x, y2, c32); c33 = Avx512F.FusedMultiplyAdd(x, y3, c33);
            }
            float* cp = c + (long)i * n + j;
            Row4(cp, p, a0, b0, b1, b2, b3, c00, c01, c02, c03); cp += n;
            Row4(cp, p, a1, b0, b1, b2, b3, c10, c11, c12, c13); cp += n;
            Row4(cp, p, a2, b0, b1, b2, b3, c20, c21, c22, c23); cp += n;
            Row4(cp, p, a3, b0, b1, b2, b3, c30, c31, c32, c33);
        }

        /// <summary>Reduces one row of a 4×4 tile, adds the scalar tail p..kl, and stores.</summary>
        private void Row4(float* cp, int p0, float* x, float* y0, float* y1, float* y2, float* y3,
            Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3)
        {
            float t0 = Vector512.Sum(s0), t1 = Vector512.Sum(s1), t2 = Vector512.Sum(s2), t3 = Vector512.Sum(s3);
            for (int p = p0; p < kl; p++)
            {
                t0 = MathF.FusedMultiplyAdd(x[p], y0[p], t0);
                t1 = MathF.FusedMultiplyAdd(x[p], y1[p], t1);
                t2 = MathF.FusedMultiplyAdd(x[p], y2[p], t2);
                t3 = MathF.FusedMultiplyAdd(x[p], y3[p], t3);
            }
            Put(cp, t0);
            Put(cp + 1, t1);
            Put(cp + 2, t2);
            Put(cp + 3, t3);
        }

        private float RowDot(int i, int j)
        {
            float* x = a + (long)i * k + kb, y = b + (long)j * k + kb;
            Vector512<float> acc = default;
            int p = 0;
            for (; p + 16 <= kl; p += 16) acc = Avx512F.FusedMultiplyAdd(Vector512.Load(x + p), Vector512.Load(y + p), acc);
            float sum = Vector512.Sum(acc);
            for (; p < kl; p++) sum = MathF.FusedMultiplyAdd(x[p], y[p], sum);
            return sum;
        }

        // The first k-slice stores, later ones add.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Put(float* cp, Vector512<float> value) => (kb == 0 ? value : Vector512.Load(cp) + value).Store(cp);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Put(float* cp, float value) => *cp = kb == 0 ? value : *cp + value;
    }
}
