using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nerva.Kernels;

/// <summary>
/// The AVX2+FMA micro-kernel: a 6×16 block of C in 12 ymm accumulators (two per row), which with the two
/// vectors of B and one broadcast of A fills 15 of the 16 ymm registers.
/// </summary>
internal readonly unsafe struct Avx2Kernel6x16 : IMicroKernel
{
    public static int MR => 6;
    public static int NR => 16;
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;
    public static string Name => "AVX2+FMA";

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kl, float* ap, float* bp, float* c, long ldc, bool add)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int r = 0; r < 6; r++)   // C's rows are ldc apart: their lines asked for now, as in the AVX-512 kernel
        {
            Sse.Prefetch0(c + r * ldc);
            Sse.Prefetch0(c + r * ldc + 15);
        }
        for (int p = 0; p < kl; p++, ap += 6, bp += 16)
        {
            var b0 = Vector256.Load(bp);
            var b1 = Vector256.Load(bp + 8);
            var x = Vector256.Create(ap[0]);
            c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(ap[1]);
            c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(ap[2]);
            c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(ap[3]);
            c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
            x = Vector256.Create(ap[4]);
            c40 = Fma.MultiplyAdd(x, b0, c40); c41 = Fma.MultiplyAdd(x, b1, c41);
            x = Vector256.Create(ap[5]);
            c50 = Fma.MultiplyAdd(x, b0, c50); c51 = Fma.MultiplyAdd(x, b1, c51);
        }
        Put(c, c00, c01, add); c += ldc;
        Put(c, c10, c11, add); c += ldc;
        Put(c, c20, c21, add); c += ldc;
        Put(c, c30, c31, add); c += ldc;
        Put(c, c40, c41, add); c += ldc;
        Put(c, c50, c51, add);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* c, Vector256<float> left, Vector256<float> right, bool add)
    {
        if (add)
        {
            left += Vector256.Load(c);
            right += Vector256.Load(c + 8);
        }
        left.Store(c);
        right.Store(c + 8);
    }
}
