using System.Diagnostics;
using Nerva.Kernels;
using Nerva.Layers;
using Nerva.Losses;
using Nerva.Optimizers;
using Nerva.Specs;

namespace Nerva.Bench;

/// <summary>
/// Where the dense time goes on this CPU, as fractions of its measured FMA peak: first the micro-kernel's own ceiling
/// (its packed panels already in L1 and L2: no packing, no memory), then one training step of each epoch network cut
/// into its phases (each layer's feedforward, backpropagation and optimizer step) at 1 and 2 threads. The distance from
/// a product's phase to the ceiling is what packing, memory and threads cost; an optimizer step has no flops and shows
/// what a sweep over W, DW and the momentum costs.
/// </summary>
internal static unsafe class ProfileBenchmark
{
    private const int Batch = 100;

    public static void Run(TextWriter output, int batches, bool wide = false)
    {
        var peak = new[] { 1, 2 }.ToDictionary(t => t, FmaPeak.Measure);
        output.WriteLine($"Measured FMA peak ({FmaPeak.Kind}, best of 3 rounds): {peak[1]:F1} GFLOP/s on 1 thread, {peak[2]:F1} on 2");
        output.WriteLine();
        if (wide)
        {
            // the width study's widest sparse network (bench/width-study.sh, W = 65 536: its Erdős–Rényi layer densities)
            Step(output, [784, 65536, 65536, 65536, 10], 2, batches, peak[2], [0.0043643448, 0.000103185885, 0.000103185885, 0.3381714]);
            return;
        }
        if (PackedGemm<Avx512Kernel8x32>.IsSupported) Kernel<Avx512Kernel8x32>(output, peak[1]);
        else if (PackedGemm<Avx2Kernel6x16>.IsSupported) Kernel<Avx2Kernel6x16>(output, peak[1]);
        foreach (int[] sizes in new[] { new[] { 3072, 1024, 512, 10 }, new[] { 784, 1024, 512, 10 } })
            foreach (int threads in new[] { 1, 2 })
                Step(output, sizes, threads, batches, peak[threads]);
    }

    /// <summary>The micro-kernel's ceiling, then each benchmark product against its micro-kernel calls alone, on 1 thread.</summary>
    private static void Kernel<TKernel>(TextWriter output, double peak) where TKernel : struct, IMicroKernel
    {
        double ceiling = KernelCeiling<TKernel>();
        output.WriteLine($"The micro-kernel alone ({Kernels<float>.Gemm}; one tile of C, KC = {PackedGemm<TKernel>.KC}, its panels in L1 and L2, best of 3): "
            + $"{ceiling:F1} GFLOP/s on 1 thread, {ceiling / peak:P0} of the peak");
        output.WriteLine();
        Products<TKernel>(output, peak);
    }

    /// <summary>
    /// GFLOP/s of the micro-kernel over one MC×NC tile of C in PackedGemm's order (each column panel of B against every
    /// row panel of A), from packed buffers that stay in cache, adding into C as every k-slice after the first does.
    /// </summary>
    private static double KernelCeiling<TKernel>() where TKernel : struct, IMicroKernel
    {
        int mc = PackedGemm<TKernel>.MC, nc = PackedGemm<TKernel>.NC;
        const int KC = PackedGemm<TKernel>.KC;
        var rng = new Rng(3);
        float[] A = GemmBenchmark.Random(mc * KC, rng), B = GemmBenchmark.Random(KC * nc, rng), C = new float[mc * nc];
        double best = 0;
        fixed (float* a = A, b = B, c = C)
        {
            for (int round = 0; round < 4; round++)
            {
                long tiles = 0, start = Stopwatch.GetTimestamp();
                while (Stopwatch.GetElapsedTime(start).TotalSeconds < 0.3)
                {
                    for (int j = 0; j < nc; j += TKernel.NR)
                        for (int i = 0; i < mc; i += TKernel.MR)
                            TKernel.Run(KC, a + (long)i * KC, b + (long)j * KC, c + (long)i * nc + j, nc, true);
                    tiles++;
                }
                double rate = 2.0 * mc * nc * KC * tiles / Stopwatch.GetElapsedTime(start).TotalSeconds / 1e9;
                if (round > 0) best = Math.Max(best, rate);   // round 0 warms up the JIT and the caches
            }
        }
        return best;
    }

    /// <summary>
    /// Each benchmark product on 1 thread, against the same micro-kernel calls in the same order over operands already
    /// packed (random panels: the values do not matter to the time): what is left of the product is packing and the
    /// edges of C. Medians of alternating timings.
    /// </summary>
    private static void Products<TKernel>(TextWriter output, double peak) where TKernel : struct, IMicroKernel
    {
        Parallelism.Threads = 1;
        var gemm = Kernels<float>.Gemm;
        output.WriteLine("Each product on 1 thread, and its micro-kernel calls alone over operands packed in advance (medians of 7):");
        output.WriteLine();
        output.WriteLine("| product | GFLOP/s | of peak | micro-kernels alone, GFLOP/s | share of the product's time in its micro-kernels |");
        output.WriteLine("|---|---|---|---|---|");
        foreach (var s in GemmBenchmark.Shapes.Append(new("inference X·Wᵀ 1000×1024×3072", false, true, 1000, 1024, 3072)))
        {
            var rng = new Rng(4);
            float[] A = GemmBenchmark.Random(s.M * s.K, rng), B = GemmBenchmark.Random(s.K * s.N, rng), C = new float[s.M * s.N];
            int panels = (s.M + TKernel.MR - 1) / TKernel.MR;
            float[] Ap = GemmBenchmark.Random(panels * TKernel.MR * s.K, rng), Bp = GemmBenchmark.Random(PackedGemm<TKernel>.KC * PackedGemm<TKernel>.WideNC, rng);
            var edge = new float[TKernel.MR * TKernel.NR];
            double flop = 2.0 * s.M * s.N * s.K;
            int calls = Math.Max(1, (int)(2e9 / flop));
            var product = new List<double>();
            var kernels = new List<double>();
            for (int round = 0; round < 8; round++)
            {
                long start = Stopwatch.GetTimestamp();
                for (int i = 0; i < calls; i++) gemm.Multiply(s.TransposeA, s.TransposeB, s.M, s.N, s.K, A, B, C);
                double t = Stopwatch.GetElapsedTime(start).TotalSeconds;
                start = Stopwatch.GetTimestamp();
                for (int i = 0; i < calls; i++) KernelCalls<TKernel>(s.M, s.N, s.K, Ap, Bp, C, edge);
                double u = Stopwatch.GetElapsedTime(start).TotalSeconds;
                if (round == 0) continue;   // warm-up
                product.Add(flop * calls / t / 1e9);
                kernels.Add(flop * calls / u / 1e9);
            }
            double p = GemmBenchmark.Median(product), q = GemmBenchmark.Median(kernels);
            output.WriteLine($"| {s.Name} | {p:F1} | {p / peak:P0} | {q:F1} | {p / q:P0} |");
        }
        output.WriteLine();
    }

    /// <summary>
    /// PackedGemm's micro-kernel calls for an m×n×k product on one thread, in its order (column blocks of its TaskShape, k-slices,
    /// tiles of MC rows, panels of B, panels of A), over packed A (all slices) and one packed block of B, partial panels
    /// into a scratch tile.
    /// </summary>
    private static void KernelCalls<TKernel>(int m, int n, int k, float[] Ap, float[] Bp, float[] C, float[] edge) where TKernel : struct, IMicroKernel
    {
        int mr = TKernel.MR, nr = TKernel.NR, mc = PackedGemm<TKernel>.MC, nc = PackedGemm<TKernel>.TaskShape(m, n).Columns, panels = (m + mr - 1) / mr;
        const int KC = PackedGemm<TKernel>.KC;
        fixed (float* ap = Ap, bp = Bp, c = C, e = edge)
            for (int j0 = 0; j0 < n; j0 += nc)
                for (int kb = 0; kb < k; kb += KC)
                {
                    int kl = Math.Min(KC, k - kb);
                    for (int i0 = 0; i0 < m; i0 += mc)
                        for (int j = j0; j < Math.Min(j0 + nc, n); j += nr)
                            for (int i = i0; i < Math.Min(i0 + mc, m); i += mr)
                            {
                                bool whole = i + mr <= m && j + nr <= n;
                                TKernel.Run(kl, ap + (long)panels * mr * kb + (long)i * kl, bp + (long)(j - j0) * kl,
                                    whole ? c + (long)i * n + j : e, whole ? n : nr, whole && kb > 0);
                            }
                }
    }

    /// <summary>One table: the median time of each phase of a training step over <paramref name="batches"/> batches.</summary>
    private static void Step(TextWriter output, int[] sizes, int threads, int batches, double peak, double[]? densities = null)
    {
        Parallelism.Threads = threads;
        string[] activations = [.. Enumerable.Repeat("ReLU", sizes.Length - 2), "Linear"];
        var mlp = NetworkBuilder.Build(activations, sizes, [0], [WeightInitializer.He], [new Momentum(0.9)], new Rng(2), densities);
        var rng = new Rng(1);
        var inputs = Enumerable.Range(0, 8).Select(_ => new Matrix<float>(Batch, sizes[0], GemmBenchmark.Random(Batch * sizes[0], rng))).ToArray();
        var T = new Matrix<float>(Batch, sizes[^1]);
        for (int i = 0; i < Batch; i++) T[i, i % sizes[^1]] = 1;
        var layers = mlp.Layers;
        var outputs = layers.Select(layer => new Matrix<float>(Batch, layer.OutputSize)).ToArray();
        var DY = new Matrix<float>(Batch, sizes[^1]);
        var loss = new SoftmaxCrossEntropyLoss();

        // the phases in the order a step runs them, with their flops (a product of N×D by D×K is 2·N·D·K; a sparse one 2·N·nnz)
        var phases = new List<(string Name, double Flop)>();
        double Product(int l) => 2.0 * Batch * (((LinearLayer<float>)layers[l]).SparseW?.NonZeroCount ?? (double)layers[l].InputSize * layers[l].OutputSize);
        for (int l = 0; l < layers.Count; l++) phases.Add(($"layer {l + 1} feedforward", Product(l)));
        phases.Add(("loss gradient", 0));
        for (int l = layers.Count - 1; l >= 0; l--)
            phases.Add(($"layer {l + 1} backpropagation ({(layers[l].ComputeInputGradient ? "DW, Db, DX" : "DW, Db")})", Product(l) * (layers[l].ComputeInputGradient ? 2 : 1)));
        for (int l = 0; l < layers.Count; l++) phases.Add(($"layer {l + 1} momentum step", 0));
        var times = phases.Select(_ => new List<double>()).ToArray();
        var steps = new List<double>();

        for (int b = -20; b < batches; b++)   // 20 batches of warm-up
        {
            int phase = 0;
            long start = Stopwatch.GetTimestamp(), last = start;
            void Done()
            {
                long now = Stopwatch.GetTimestamp();
                if (b >= 0) times[phase].Add((now - last) * 1e3 / Stopwatch.Frequency);
                phase++;
                last = now;
            }
            var X = inputs[(b + 20) % inputs.Length];
            for (int l = 0; l < layers.Count; l++) { layers[l].Feedforward(l == 0 ? X : outputs[l - 1], outputs[l]); Done(); }
            loss.Gradient(outputs[^1], T, DY);
            Done();
            for (int l = layers.Count - 1; l >= 0; l--) { layers[l].Backpropagate(outputs[l], l == layers.Count - 1 ? DY : layers[l + 1].DX); Done(); }
            for (int l = 0; l < layers.Count; l++) { layers[l].Optimize(0.001f); Done(); }
            if (b >= 0) steps.Add((last - start) * 1e3 / Stopwatch.Frequency);
        }

        double step = GemmBenchmark.Median(steps), flop = phases.Sum(p => p.Flop);
        output.WriteLine($"{string.Join('-', sizes)}, batch {Batch}, {threads} thread(s): {step:F3} ms per step (median of {batches}), "
            + $"{flop / step / 1e6:F1} GFLOP/s over the step, {flop / step / 1e6 / peak:P0} of the peak");
        output.WriteLine();
        output.WriteLine("| phase | ms | share of the step | GFLOP/s | of peak |");
        output.WriteLine("|---|---|---|---|---|");
        for (int p = 0; p < phases.Count; p++)
        {
            double ms = GemmBenchmark.Median(times[p]);
            string rate = phases[p].Flop > 0 ? $"{phases[p].Flop / ms / 1e6:F1} | {phases[p].Flop / ms / 1e6 / peak:P0}" : "– | –";
            output.WriteLine($"| {phases[p].Name} | {ms:F3} | {ms / step:P1} | {rate} |");
        }
        output.WriteLine();
    }
}
