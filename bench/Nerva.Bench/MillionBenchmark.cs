using System.Diagnostics;
using System.Globalization;
using Nerva.Data;
using Nerva.Kernels;
using Nerva.Layers;
using Nerva.Optimizers;
using Nerva.Schedulers;
using Nerva.Sparse;
using Nerva.Specs;
using Nerva.Training;

namespace Nerva.Bench;

/// <summary>
/// Sparse training at a scale no dense library reaches (issue 12): the throughput of single wide layers against our
/// dense layer on the CIFAR shape, where a wide layer's batch spends its time, and the million-neuron network
/// 3072-250000-250000-250000-250000-10 trained, saved, loaded and evaluated.
/// </summary>
internal static class MillionBenchmark
{
    private const int N = 100;

    /// <summary>
    /// Feedforward + backpropagation (DW, Db, DX) of one layer at batch 100: the dense 3072→1024 layer of the CIFAR
    /// shape and sparse layers 65 536 and 250 000 wide, alternating, medians of the repetitions; useful GFLOP/s count
    /// 2·nnz·N per product (2·K·D·N when dense), three products per step. Then one step of each sparse layer by phase.
    /// </summary>
    public static void RunWide(TextWriter output, int repetitions, int threads)
    {
        Parallelism.Threads = threads;
        var rng = new Rng(1);
        var layers = new (string Name, LinearLayer<float> Layer)[]
        {
            ("dense 3072→1024", new LinearLayer<float>(3072, 1024, rng, WeightInitializer.He)),
            ("sparse 65536→65536, density 0.0005", new LinearLayer<float>(65536, 65536, rng, WeightInitializer.He, density: 0.0005)),
            ("sparse 250000→250000, density 0.000075", new LinearLayer<float>(250000, 250000, rng, WeightInitializer.He, density: 0.000075)),
        };
        var inputs = layers.Select(l => Uniform(N, l.Layer.InputSize, rng)).ToArray();
        var gradients = layers.Select(l => Uniform(N, l.Layer.OutputSize, rng)).ToArray();
        var Y = new Matrix<float>(0, 0);
        var times = layers.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < repetitions + 1; r++)
            for (int l = 0; l < layers.Length; l++)
            {
                int steps = l == 0 ? 20 : 3;
                long start = Stopwatch.GetTimestamp();
                for (int s = 0; s < steps; s++)
                {
                    layers[l].Layer.Feedforward(inputs[l], Y);
                    layers[l].Layer.Backpropagate(Y, gradients[l]);
                }
                if (r > 0) times[l].Add(Stopwatch.GetElapsedTime(start).TotalSeconds / steps);
            }
        output.WriteLine($"Batch {N}, {threads} thread(s), feedforward + backpropagation (DW, Db, DX), median of {repetitions}.");
        output.WriteLine();
        output.WriteLine("| layer | stored weights | ms per step | useful GFLOP/s | / dense GFLOP/s |");
        output.WriteLine("|---|---|---|---|---|");
        double dense = double.NaN;
        for (int l = 0; l < layers.Length; l++)
        {
            double seconds = GemmBenchmark.Median(times[l]), rate = 3.0 * 2 * layers[l].Layer.WeightCount * N / seconds / 1e9;
            if (l == 0) dense = rate;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {layers[l].Name} | {layers[l].Layer.WeightCount} | {seconds * 1e3:F1} | {rate:F1} | {rate / dense:F3} |"));
        }
        output.WriteLine();
        output.WriteLine("Where one step of a wide layer goes (ms, median of the repetitions): the batch into panels (Xᵀ, DZᵀ), the three products, and back (Z, DX).");
        output.WriteLine();
        output.WriteLine("| layer | Xᵀ panels | SpMM Zᵀ = W·Xᵀ | Z | DZᵀ panels | SDDMM DW | W by column | SpMM DXᵀ = Wᵀ·DZᵀ | DX |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|");
        for (int l = 1; l < layers.Length; l++)
            output.WriteLine($"| {layers[l].Name} | {string.Join(" | ", Phases(layers[l].Layer.SparseW!, inputs[l], gradients[l], repetitions).Select(t => (t * 1e3).ToString("F1", CultureInfo.InvariantCulture)))} |");
    }

    /// <summary>Median seconds of each phase of one sparse step, run through <see cref="SparseProducts"/> directly.</summary>
    private static double[] Phases(CsrMatrix<float> W, Matrix<float> X, Matrix<float> DZ, int repetitions)
    {
        Panels<float> Xp = new(), Zp = new(), DZp = new(), DXp = new();
        Matrix<float> Z = new(0, 0), DX = new(0, 0);
        var DW = new Matrix<float>(1, W.NonZeroCount);
        var byColumn = new Matrix<float>(1, W.NonZeroCount);
        var b = new Matrix<float>(1, W.Rows);
        var phases = new Action[]
        {
            () => SparseProducts.ToPanels(X, Xp, SparseProducts.PanelVectors<float>(Math.Max(W.Rows, W.Cols), N)),
            () => SparseProducts.Feedforward(W, W.Values, Xp, b, Zp),
            () => SparseProducts.FromPanels(Zp, N, Z),
            () => SparseProducts.ToPanels(DZ, DZp, SparseProducts.PanelVectors<float>(Math.Max(W.Rows, W.Cols), N)),
            () => SparseProducts.WeightGradient(W, DZp, Xp, DW),
            () => SparseProducts.ValuesByColumn(W, W.Values, byColumn),
            () => SparseProducts.InputGradient(W, byColumn, DZp, DXp),
            () => SparseProducts.FromPanels(DXp, N, DX),
        };
        var times = phases.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < repetitions + 1; r++)
            for (int p = 0; p < phases.Length; p++)
            {
                long start = Stopwatch.GetTimestamp();
                phases[p]();
                if (r > 0) times[p].Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        return [.. times.Select(GemmBenchmark.Median)];
    }

    /// <summary>
    /// The million-neuron network: built at Erdős–Rényi overall density 1e-4, trained for one epoch of
    /// <paramref name="samples"/> CIFAR-shaped synthetic samples (ReLU, momentum 0.9, batch 100, no statistics), then
    /// saved, loaded into a network built with another seed, and evaluated on 1 000 samples by both.
    /// </summary>
    public static void RunMillion(TextWriter output, int samples, int threads)
    {
        Parallelism.Threads = threads;
        int[] sizes = [3072, 250000, 250000, 250000, 250000, 10];
        var densities = ErdosRenyi.Densities(1e-4, sizes);
        string[] activations = ["ReLU", "ReLU", "ReLU", "ReLU", "Linear"];
        var data = EpochBenchmark.Synthetic(sizes[0], samples, new Rng(1), testSamples: 1000);

        long start = Stopwatch.GetTimestamp();
        var mlp = NetworkBuilder.Build(activations, sizes, [0], [WeightInitializer.He], [new Momentum(0.9)], new Rng(2), densities);
        double build = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var linear = mlp.Layers.OfType<LinearLayer<float>>().ToArray();
        long nnz = linear.Sum(l => (long)l.WeightCount);
        double denseGB = sizes.Zip(sizes.Skip(1)).Sum(p => (double)p.First * p.Second) * 4 / 1e9;
        // useful work per batch: 2·nnz·N per product; feedforward and DW everywhere, DX for all layers but the first
        double flopPerBatch = linear.Select((l, i) => 2.0 * l.WeightCount * N * (i == 0 ? 2 : 3)).Sum();

        var options = new TrainingOptions { Epochs = 1, BatchSize = N, Statistics = false };
        var sgd = new StochasticGradientDescent(mlp, new Losses.SoftmaxCrossEntropyLoss(), new ConstantScheduler(0.01), options, new Rng(3), TextWriter.Null);
        start = Stopwatch.GetTimestamp();
        sgd.Train(data);
        double epoch = Stopwatch.GetElapsedTime(start).TotalSeconds;
        int batches = (samples + N - 1) / N;

        string path = Path.Combine(Path.GetTempPath(), $"nerva-million-{Environment.ProcessId}.npz");
        try
        {
            start = Stopwatch.GetTimestamp();
            WeightsFile.Save(mlp, path);
            double save = Stopwatch.GetElapsedTime(start).TotalSeconds;
            long fileBytes = new FileInfo(path).Length;
            var loaded = NetworkBuilder.Build(activations, sizes, [0], [WeightInitializer.He], [new Momentum(0.9)], new Rng(99), densities);
            start = Stopwatch.GetTimestamp();
            WeightsFile.Load(loaded, path);
            double load = Stopwatch.GetElapsedTime(start).TotalSeconds;
            mlp.IsTraining = false;
            loaded.IsTraining = false;
            start = Stopwatch.GetTimestamp();
            var (lossTrained, accuracyTrained) = sgd.Evaluate(data.Xtest, data.Ttest);
            double evaluate = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var check = new StochasticGradientDescent(loaded, new Losses.SoftmaxCrossEntropyLoss(), new ConstantScheduler(0.01), options, new Rng(3), TextWriter.Null);
            var (lossLoaded, accuracyLoaded) = check.Evaluate(data.Xtest, data.Ttest);
            long bytesLimit = (long)(1.5 * 8 * nnz);

            output.WriteLine($"3072-250000-250000-250000-250000-10 (1 000 000 hidden neurons; dense: {denseGB:F0} GB of float weights), Erdős–Rényi overall density 1e-4, ReLU, momentum 0.9, batch {N}, {threads} thread(s), {samples} synthetic CIFAR-shaped samples.");
            output.WriteLine();
            output.WriteLine("| layer | density | stored weights |");
            output.WriteLine("|---|---|---|");
            for (int i = 0; i < linear.Length; i++)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {sizes[i]}→{sizes[i + 1]} | {densities[i]:G4} | {linear[i].WeightCount} |"));
            output.WriteLine();
            output.WriteLine("| measure | value |");
            output.WriteLine("|---|---|");
            Row("stored weights (nnz)", $"{nnz}");
            Row("build (s)", $"{build:F2}");
            Row($"one epoch of {samples} samples (s)", $"{epoch:F1}");
            Row("seconds per batch", $"{epoch / batches:F3}");
            Row("seconds per 50 000-sample epoch (from the batch time)", $"{epoch / batches * 500:F0}");
            Row("useful GFLOP/s (2·nnz·N per product; no DX in the first layer)", $"{flopPerBatch * batches / epoch / 1e9:F1}");
            Row("peak working set (GB)", $"{EpochBenchmark.PeakWorkingSet() / 1e9:F2}");
            Row("weights file (MB; limit 1.5 × 8 bytes × nnz)", $"{fileBytes / 1e6:F1} ({(double)fileBytes / bytesLimit:F2} of the limit)");
            Row("save + load (s)", $"{save:F2} + {load:F2}");
            Row("evaluate 1 000 samples (s)", $"{evaluate:F2}");
            Row("trained and loaded networks agree (test loss)", $"{lossTrained:F6} / {lossLoaded:F6}, accuracy {accuracyTrained:F4} / {accuracyLoaded:F4}");
        }
        finally
        {
            File.Delete(path);
        }

        void Row(string name, string value) => output.WriteLine($"| {name} | {value} |");
    }

    private static Matrix<float> Uniform(int rows, int cols, Rng rng)
    {
        var M = new Matrix<float>(rows, cols);
        foreach (ref var x in M.AsSpan()) x = (float)rng.Uniform(-1, 1);
        return M;
    }
}
