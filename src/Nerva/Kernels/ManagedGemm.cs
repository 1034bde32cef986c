using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Nerva.Kernels;

/// <summary>
/// A portable managed GEMM on <see cref="Vector{T}"/>: register-blocked, unpacked, tiled in 2-D over the
/// threads. C = A·B and C = Aᵀ·B run as rank-1 updates of 4×2V register tiles; C = A·Bᵀ runs as dot
/// products of 2 rows of A with 4 rows of B. Each element of C is computed by one thread in a fixed
/// order, so the result does not depend on the thread count.
/// </summary>
public sealed class ManagedGemm<T> : IGemm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int TileRows = 32;
    private const int TileCols = 256;

    /// <inheritdoc/>
    public override string ToString() => $"managed Vector<{typeof(T).Name}> ({Vector<T>.Count} lanes)";

    /// <inheritdoc/>
    public void Multiply(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<T> A, ReadOnlySpan<T> B, Span<T> C)
    {
        if (!GemmArguments.NeedProduct(m, n, k, A, B, C)) return;
        if (transposeA && transposeB)
        {
            Naive(m, n, k, A, B, C);
            return;
        }
        unsafe
        {
            fixed (T* a = A)
            fixed (T* b = B)
            fixed (T* c = C)
            {
                var job = new Job(a, b, c, m, n, k, transposeA, transposeB);
                int tilesDown = (m + TileRows - 1) / TileRows, tilesAcross = (n + TileCols - 1) / TileCols;
                Parallelism.For(tilesDown * tilesAcross, (long)m * n * k, new Tiles(job, tilesAcross));
            }
        }
    }

    /// <summary>Iteration t computes tile t.</summary>
    private readonly struct Tiles(Job job, int tilesAcross) : IParallelBody
    {
        public void Run(int t) => job.Tile(t, tilesAcross);
    }

    private static void Naive(int m, int n, int k, ReadOnlySpan<T> A, ReadOnlySpan<T> B, Span<T> C)
    {
        // C = Aᵀ·Bᵀ: A is k×m and B is n×k.
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T sum = T.Zero;
                for (int p = 0; p < k; p++) sum += A[p * m + i] * B[j * k + p];
                C[i * n + j] = sum;
            }
    }

    private readonly unsafe struct Job(T* a, T* b, T* c, int m, int n, int k, bool transposeA, bool transposeB)
    {
        public void Tile(int t, int tilesAcross)
        {
            int i0 = t / tilesAcross * TileRows, j0 = t % tilesAcross * TileCols;
            int i1 = Math.Min(i0 + TileRows, m), j1 = Math.Min(j0 + TileCols, n);
            if (transposeB) DotTile(i0, i1, j0, j1);
            else AxpyTile(i0, i1, j0, j1);
        }

        // A(i, p) = RowOfA(i)[p·PStride]: A is row-major m×k, or (transposeA) the transpose of a row-major k×m matrix.
        private int PStride => transposeA ? m : 1;

        private T* RowOfA(int i) => transposeA ? a + i : a + (long)i * k;

        /// <summary>C[i0..i1, j0..j1] = Σ_p A(i, p)·B[p, j], B row-major k×n.</summary>
        private void AxpyTile(int i0, int i1, int j0, int j1)
        {
            int V = Vector<T>.Count;
            int i = i0;
            for (; i + 4 <= i1; i += 4)
            {
                int j = j0;
                for (; j + 2 * V <= j1; j += 2 * V) Axpy4x2(i, j);
                for (; j < j1; j++)
                    for (int r = 0; r < 4; r++) *(c + (long)(i + r) * n + j) = ScalarDot(i + r, j);
            }
            for (; i < i1; i++)
            {
                int j = j0;
                for (; j + V <= j1; j += V) Axpy1x1(i, j);
                for (; j < j1; j++) *(c + (long)i * n + j) = ScalarDot(i, j);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Axpy4x2(int i, int j)
        {
            int V = Vector<T>.Count;
            T* a0 = RowOfA(i), a1 = RowOfA(i + 1), a2 = RowOfA(i + 2), a3 = RowOfA(i + 3);
            int s = PStride;
            Vector<T> c00 = default, c01 = default, c10 = default, c11 = default;
            Vector<T> c20 = default, c21 = default, c30 = default, c31 = default;
            T* bp = b + j;
            for (int p = 0; p < k; p++, bp += n)
            {
                long ap = (long)p * s;
                var b0 = Vector.Load(bp);
                var b1 = Vector.Load(bp + V);
                var x0 = new Vector<T>(a0[ap]);
                var x1 = new Vector<T>(a1[ap]);
                var x2 = new Vector<T>(a2[ap]);
                var x3 = new Vector<T>(a3[ap]);
                c00 += x0 * b0; c01 += x0 * b1;
                c10 += x1 * b0; c11 += x1 * b1;
                c20 += x2 * b0; c21 += x2 * b1;
                c30 += x3 * b0; c31 += x3 * b1;
            }
            T* cp = c + (long)i * n + j;
            c00.Store(cp); c01.Store(cp + V); cp += n;
            c10.Store(cp); c11.Store(cp + V); cp += n;
            c20.Store(cp); c21.Store(cp + V); cp += n;
            c30.Store(cp); c31.Store(cp + V);
        }

        private void Axpy1x1(int i, int j)
        {
            T* a0 = RowOfA(i);
            int s = PStride;
            Vector<T> acc = default;
            T* bp = b + j;
            for (int p = 0; p < k; p++, bp += n) acc += new Vector<T>(a0[(long)p * s]) * Vector.Load(bp);
            acc.Store(c + (long)i * n + j);
        }

        private T ScalarDot(int i, int j)
        {
            T* a0 = RowOfA(i);
            int s = PStride;
            T sum = T.Zero;
            for (int p = 0; p < k; p++) sum += a0[(long)p * s] * b[(long)p * n + j];
            return sum;
        }

        /// <summary>C[i0..i1, j0..j1] = A[i, :]·B[j, :], with A row-major m×k and B row-major n×k.</summary>
        private void DotTile(int i0, int i1, int j0, int j1)
        {
            int i = i0;
            for (; i + 2 <= i1; i += 2)
            {
                int j = j0;
                for (; j + 4 <= j1; j += 4) Dot2x4(i, j);
                for (; j < j1; j++)
                {
                    c[(long)i * n + j] = RowDot(a + (long)i * k, b + (long)j * k);
                    c[(long)(i + 1) * n + j] = RowDot(a + (long)(i + 1) * k, b + (long)j * k);
                }
            }
            for (; i < i1; i++)
                for (int j = j0; j < j1; j++) c[(long)i * n + j] = RowDot(a + (long)i * k, b + (long)j * k);
        }

        private void Dot2x4(int i, int j)
        {
            int V = Vector<T>.Count;
            T* a0 = a + (long)i * k, a1 = a0 + k;
            T* b0 = b + (long)j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
            Vector<T> c00 = default, c01 = default, c02 = default, c03 = default;
            Vector<T> c10 = default, c11 = default, c12 = default, c13 = default;
            int p = 0;
            for (; p + V <= k; p += V)
            {
                var x0 = Vector.Load(a0 + p);
                var x1 = Vector.Load(a1 + p);
                var y0 = Vector.Load(b0 + p);
                var y1 = Vector.Load(b1 + p);
                var y2 = Vector.Load(b2 + p);
                var y3 = Vector.Load(b3 + p);
                c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
                c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
            }
            T s00 = Vector.Sum(c00), s01 = Vector.Sum(c01), s02 = Vector.Sum(c02), s03 = Vector.Sum(c03);
            T s10 = Vector.Sum(c10), s11 = Vector.Sum(c11), s12 = Vector.Sum(c12), s13 = Vector.Sum(c13);
            for (; p < k; p++)
            {
                s00 += a0[p] * b0[p]; s01 += a0[p] * b1[p]; s02 += a0[p] * b2[p]; s03 += a0[p] * b3[p];
                s10 += a1[p] * b0[p]; s11 += a1[p] * b1[p]; s12 += a1[p] * b2[p]; s13 += a1[p] * b3[p];
            }
            T* cp = c + (long)i * n + j;
            cp[0] = s00; cp[1] = s01; cp[2] = s02; cp[3] = s03;
            cp += n;
            cp[0] = s10; cp[1] = s11; cp[2] = s12; cp[3] = s13;
        }

        private T RowDot(T* x, T* y)
        {
            int V = Vector<T>.Count;
            Vector<T> acc = default;
            int p = 0;
            for (; p + V <= k; p += V) acc += Vector.Load(x + p) * Vector.Load(y + p);
            T sum = Vector.Sum(acc);
            for (; p < k; p++) sum += x[p] * y[p];
            return sum;
        }
    }
}
