using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nerva.Kernels;

/// <summary>The AVX-512 micro-kernel: an 8×32 block of C in 16 zmm accumulators (two per row), one broadcast of A per row and p.</summary>
internal readonly unsafe struct Avx512Kernel8x32 : IMicroKernel
{
    public static int MR => 8;
    public static int NR => 32;
    public static bool IsSupported => Avx512F.IsSupported && Fma.IsSupported;
    public static string Name => "AVX-512";

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kl, float* ap, float* bp, float* c, long ldc, bool add)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        // C's 8 rows are ldc apart (often pages apart, which no hardware prefetcher follows): ask for their lines now (2,
        // or 3 where a row of 128 bytes straddles them), so that they arrive while the FMAs run instead of stalling the
        // stores at the end (measured on Zen 4: DW = DZᵀ·X +1–12 %, 2048³ +4–6 %, the other MLP shapes within ±4 %)
        for (int r = 0; r < 8; r++)
        {
            Sse.Prefetch0(c + r * ldc);
            Sse.Prefetch0(c + r * ldc + 16);
            Sse.Prefetch0(c + r * ldc + 31);
        }
        for (int p = 0; p < kl; p++, ap += 8, bp += 32)
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
}
