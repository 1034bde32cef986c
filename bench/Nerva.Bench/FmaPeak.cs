using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nerva.Bench;

/// <summary>
/// The machine's measured float FMA peak: on every thread a loop of 12 independent fused multiply-adds on the widest
/// vectors the CPU has (zmm with AVX-512, else ymm with FMA), so that every GEMM and epoch figure can be given as a
/// fraction of what this CPU (and what the host lends of it) can do at most.
/// </summary>
internal static class FmaPeak
{
    /// <summary>
    /// GFLOP/s of <paramref name="threads"/> threads, each running the FMA loop for about 0.3 s: the best of three
    /// rounds, since a peak is what the CPU can do and a round the host disturbs reads low (one such round put a
    /// 2-thread peak at 134 instead of 230 GFLOP/s, and every figure measured against it above 100 %).
    /// </summary>
    public static double Measure(int threads) => Enumerable.Range(0, 3).Max(_ => MeasureOnce(threads));

    private static double MeasureOnce(int threads)
    {
        var rates = new double[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() => rates[t] = OneThread()) { IsBackground = true }).ToArray();
        foreach (var worker in workers) worker.Start();
        foreach (var worker in workers) worker.Join();
        return rates.Sum();
    }

    /// <summary>The vectors the loop uses, for the report.</summary>
    public static string Kind => Avx512F.IsSupported ? "512-bit FMA" : Fma.IsSupported ? "256-bit FMA" : $"{Vector<float>.Count}-lane multiply-add";

    private static double OneThread()
    {
        const long iterations = 20_000_000;
        Run(iterations / 10);   // warm-up: the JIT's optimised code, the core's clock
        long start = Stopwatch.GetTimestamp();
        float sink = Run(iterations);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        GC.KeepAlive(sink);
        int lanes = Avx512F.IsSupported ? 16 : Fma.IsSupported ? 8 : Vector<float>.Count;
        return 2.0 * 12 * lanes * iterations / seconds / 1e9;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run(long iterations)
    {
        if (Avx512F.IsSupported)
        {
            var m = Vector512.Create(0.999f);
            var a = Vector512.Create(0.5f);
            Vector512<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
            for (long i = 0; i < iterations; i++)
            {
                c0 = Avx512F.FusedMultiplyAdd(c0, m, a); c1 = Avx512F.FusedMultiplyAdd(c1, m, a); c2 = Avx512F.FusedMultiplyAdd(c2, m, a);
                c3 = Avx512F.FusedMultiplyAdd(c3, m, a); c4 = Avx512F.FusedMultiplyAdd(c4, m, a); c5 = Avx512F.FusedMultiplyAdd(c5, m, a);
                c6 = Avx512F.FusedMultiplyAdd(c6, m, a); c7 = Avx512F.FusedMultiplyAdd(c7, m, a); c8 = Avx512F.FusedMultiplyAdd(c8, m, a);
                c9 = Avx512F.FusedMultiplyAdd(c9, m, a); c10 = Avx512F.FusedMultiplyAdd(c10, m, a); c11 = Avx512F.FusedMultiplyAdd(c11, m, a);
            }
            return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
        }
        if (Fma.IsSupported)
        {
            var m = Vector256.Create(0.999f);
            var a = Vector256.Create(0.5f);
            Vector256<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
            for (long i = 0; i < iterations; i++)
            {
                c0 = Fma.MultiplyAdd(c0, m, a); c1 = Fma.MultiplyAdd(c1, m, a); c2 = Fma.MultiplyAdd(c2, m, a);
                c3 = Fma.MultiplyAdd(c3, m, a); c4 = Fma.MultiplyAdd(c4, m, a); c5 = Fma.MultiplyAdd(c5, m, a);
                c6 = Fma.MultiplyAdd(c6, m, a); c7 = Fma.MultiplyAdd(c7, m, a); c8 = Fma.MultiplyAdd(c8, m, a);
                c9 = Fma.MultiplyAdd(c9, m, a); c10 = Fma.MultiplyAdd(c10, m, a); c11 = Fma.MultiplyAdd(c11, m, a);
            }
            return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
        }
        var mv = new Vector<float>(0.999f);
        var av = new Vector<float>(0.5f);
        Vector<float> v0 = av, v1 = av, v2 = av, v3 = av, v4 = av, v5 = av, v6 = av, v7 = av, v8 = av, v9 = av, v10 = av, v11 = av;
        for (long i = 0; i < iterations; i++)
        {
            v0 = v0 * mv + av; v1 = v1 * mv + av; v2 = v2 * mv + av; v3 = v3 * mv + av; v4 = v4 * mv + av; v5 = v5 * mv + av;
            v6 = v6 * mv + av; v7 = v7 * mv + av; v8 = v8 * mv + av; v9 = v9 * mv + av; v10 = v10 * mv + av; v11 = v11 * mv + av;
        }
        return Vector.Sum(v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11);
    }
}
