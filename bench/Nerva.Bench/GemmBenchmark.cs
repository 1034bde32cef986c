using System.Diagnostics;
using System.Runtime.InteropServices;
using Nerva.Kernels;

namespace Nerva.Bench;

/// <summary>
/// GFLOP/s of our SGEMM and OpenBLAS's on the MLP shapes and 2048³, at 1 and 2 threads, measured
/// side by side (alternating) in one run; prints the median of the repetitions and the ratio.
/// </summary>
internal static unsafe class GemmBenchmark
{
    internal sealed record Shape(string Name, bool TransposeA, bool TransposeB, int M, int N, int K);

    internal static readonly Shape[] Shapes =
    [
        new("fwd X·Wᵀ 100×1024×3072", false, true, 100, 1024, 3072),
        new("DW DZᵀ·X 1024×3072×100", true, false, 1024, 3072, 100),
        new("DX DZ·W 100×3072×1024", false, false, 100, 3072, 1024),
        new("fwd X·Wᵀ 100×512×1024", false, true, 100, 512, 1024),
        new("2048³", false, false, 2048, 2048, 2048),
    ];

    public static void Run(TextWriter output, int repetitions)
    {
        bool blas = OpenBlas.Available();
        output.WriteLine($"OpenBLAS: {(blas ? Marshal.PtrToStringUTF8(OpenBlas.openblas_get_corename()) : "not installed (apt-get install libopenblas0-pthread)")}");
        output.WriteLine($"Vector<float>: {System.Numerics.Vector<float>.Count} lanes; AVX-512F: {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}; FMA: {System.Runtime.Intrinsics.X86.Fma.IsSupported}");
        output.WriteLine();
        var gemm = Kernels<float>.Gemm;
        output.WriteLine($"Our kernel: {gemm}");
        output.WriteLine();
        // the machine's FMA peak on 1 and 2 threads, so that every figure reads as a fraction of what this CPU can do
        var peak = new[] { 1, 2 }.ToDictionary(t => t, FmaPeak.Measure);
        output.WriteLine($"Measured FMA peak ({FmaPeak.Kind}, 12 independent chains per thread, best of 3 rounds): {peak[1]:F1} GFLOP/s on 1 thread, {peak[2]:F1} on 2");
        output.WriteLine();
        output.WriteLine("| shape | threads | ours GFLOP/s | ours of peak | OpenBLAS GFLOP/s | OpenBLAS of peak | ratio | two-core capacity |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (int threads in new[] { 1, 2 })
        {
            Parallelism.Threads = threads;
            if (blas) OpenBlas.openblas_set_num_threads(threads);
            foreach (var s in Shapes)
            {
                var rng = new Rng(1);
                float[] A = Random(s.M * s.K, rng), B = Random(s.K * s.N, rng), C = new float[s.M * s.N];
                string capacity = threads > 1 ? Capacity.TwoThreads().ToString("F2") : "–";
                double flop = 2.0 * s.M * s.N * s.K;
                int calls = Math.Max(1, (int)(1e10 / flop));   // about 50 ms per timing
                var ours = new List<double>();
                var theirs = new List<double>();
                fixed (float* a = A, b = B, c = C)
                {
                    // Warm-up at full size, so that the JIT's optimised code and OpenBLAS's threads are in place.
                    float* wa = a, wb = b, wc = c;
                    for (long start = Stopwatch.GetTimestamp(); Stopwatch.GetElapsedTime(start).TotalSeconds < 0.3;)
                    {
                        gemm.Multiply(s.TransposeA, s.TransposeB, s.M, s.N, s.K, A, B, C);
                        if (blas) OpenBlas.Sgemm(s.TransposeA, s.TransposeB, s.M, s.N, s.K, wa, wb, wc);
                    }
                    for (int r = 0; r < repetitions + 1; r++)
                    {
                        // OpenBLAS's workers spin for ~2^28 cycles after a call; let them park before timing ours.
                        // After the pause both sides' workers sleep: one untimed call wakes them before each timing.
                        Thread.Sleep(250);
                        gemm.Multiply(s.TransposeA, s.TransposeB, s.M, s.N, s.K, A, B, C);
                        double t = Time(() => { for (int i = 0; i < calls; i++) gemm.Multiply(s.TransposeA, s.TransposeB, s.M, s.N, s.K, A, B, C); });
                        if (r > 0) ours.Add(flop * calls / t / 1e9);
                        if (!blas) continue;
                        Thread.Sleep(250);
                        float* pa = a, pb = b, pc = c;
                        OpenBlas.Sgemm(s.TransposeA, s.TransposeB, s.M, s.N, s.K, pa, pb, pc);
                        t = Time(() => { for (int i = 0; i < calls; i++) OpenBlas.Sgemm(s.TransposeA, s.TransposeB, s.M, s.N, s.K, pa, pb, pc); });
                        if (r > 0) theirs.Add(flop * calls / t / 1e9);
                    }
                }
                double o = Median(ours), p = blas ? Median(theirs) : double.NaN;
                output.WriteLine($"| {s.Name} | {threads} | {o:F1} | {o / peak[threads]:P0} | {(blas ? p.ToString("F1") : "–")} | {(blas ? (p / peak[threads]).ToString("P0") : "–")} | {(blas ? (o / p).ToString("F2") : "–")} | {capacity} |");
            }
        }
    }

    internal static float[] Random(int n, Rng rng)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)rng.Uniform(-1, 1);
        return x;
    }

    private static double Time(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
