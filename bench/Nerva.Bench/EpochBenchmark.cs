using System.Diagnostics;
using Nerva.Data;
using Nerva.Kernels;
using Nerva.Layers;
using Nerva.Optimizers;
using Nerva.Schedulers;
using Nerva.Specs;
using Nerva.Training;

namespace Nerva.Bench;

/// <summary>
/// Seconds per epoch of the networks (3072-1024-512-10 on 50 000 CIFAR-shaped samples and
/// 784-1024-512-10 on 60 000), ReLU, softmax cross-entropy, momentum SGD, batch 100, on synthetic data,
/// at 1 and 2 threads. Medians of the epochs after the first (which warms up the JIT and the buffers).
/// </summary>
internal static class EpochBenchmark
{
    public static void Run(TextWriter output, int epochs)
    {
        output.WriteLine("| network | samples | threads | ours s/epoch |");
        output.WriteLine("|---|---|---|---|");
        foreach (var (sizes, samples) in new[] { (new[] { 3072, 1024, 512, 10 }, 50000), (new[] { 784, 1024, 512, 10 }, 60000) })
        {
            var data = Synthetic(sizes[0], samples, new Rng(1));
            foreach (int threads in new[] { 1, 2 })
            {
                Parallelism.Threads = threads;
                var rng = new Rng(2);
                var mlp = NetworkBuilder.Build(["ReLU", "ReLU", "Linear"], sizes, [0], [WeightInitializer.He], [new Momentum(0.9)], rng);
                var options = new TrainingOptions { Epochs = 1, BatchSize = 100, Statistics = false };
                var times = new List<double>();
                for (int e = 0; e < epochs + 1; e++)
                {
                    var sgd = new StochasticGradientDescent(mlp, new Losses.SoftmaxCrossEntropyLoss(), new ConstantScheduler(0.01), options, rng, TextWriter.Null);
                    long start = Stopwatch.GetTimestamp();
                    sgd.Train(data);
                    if (e > 0) times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
                }
                output.WriteLine($"| {string.Join('-', sizes)} | {samples} | {threads} | {GemmBenchmark.Median(times):F2} |");
            }
        }
    }

    /// <summary>
    /// Seconds per epoch of 3072-1024-512-10 (50 000 samples, 2 threads) at Erdős–Rényi overall densities,
    /// with our dense network in the same run; medians of the epochs after a warm-up.
    /// </summary>
    public static void RunSparse(TextWriter output, int epochs, int threads, double[] densities, string timer = "disabled")
    {
        int[] sizes = [3072, 1024, 512, 10];
        var data = Synthetic(sizes[0], 50000, new Rng(1));
        Parallelism.Threads = threads;
        output.WriteLine($"| overall density | layer densities | ours s/epoch | dense/sparse |");
        output.WriteLine("|---|---|---|---|");
        double dense = double.NaN;
        foreach (double density in densities)
        {
            var layerDensities = Sparse.ErdosRenyi.Densities(density, sizes);
            var rng = new Rng(2);
            var mlp = NetworkBuilder.Build(["ReLU", "ReLU", "Linear"], sizes, [0], [WeightInitializer.He], [new Momentum(0.9)], rng, layerDensities);
            var options = new TrainingOptions { Epochs = 1, BatchSize = 100, Statistics = false, Timer = timer };
            var times = new List<double>();
            for (int e = 0; e < epochs + 1; e++)
            {
                var sgd = new StochasticGradientDescent(mlp, new Losses.SoftmaxCrossEntropyLoss(), new ConstantScheduler(0.01), options, rng, timer == "disabled" ? TextWriter.Null : output);
                long start = Stopwatch.GetTimestamp();
                sgd.Train(data);
                if (e > 0) times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
            double seconds = GemmBenchmark.Median(times);
            if (density == 1) dense = seconds;
            string text = string.Join(", ", layerDensities.Select(d => d.ToString("G4", System.Globalization.CultureInfo.InvariantCulture)));
            output.WriteLine($"| {density} | {text} | {seconds:F3} | {dense / seconds:F1} |");
        }
    }

    /// <summary>
    /// One linear layer 3072 → 1024 on a batch of 100 (feedforward, then backpropagation with DW, Db and DX, then
    /// a momentum step), sparse at the given densities against the dense layer, alternating layer by layer in
    /// every repetition; medians in milliseconds per step.
    /// </summary>
    public static void RunLayer(TextWriter output, int repetitions, int threads, double[] densities)
    {
        const int D = 3072, K = 1024, N = 100;
        Parallelism.Threads = threads;
        var rng = new Rng(1);
        var X = new Matrix<float>(N, D);
        var DY = new Matrix<float>(N, K);
        foreach (var m in new[] { X, DY })
        {
            var v = m.AsSpan();
            for (int i = 0; i < v.Length; i++) v[i] = (float)rng.Uniform(-1, 1);
        }
        var layers = densities.Select(d => new LinearLayer<float>(D, K, rng, WeightInitializer.He, new Momentum(0.9), density: d)).ToArray();
        var Y = new Matrix<float>(N, K);
        var times = densities.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < repetitions + 1; r++)
            for (int l = 0; l < layers.Length; l++)
            {
                const int steps = 20;
                long start = Stopwatch.GetTimestamp();
                for (int s = 0; s < steps; s++)
                {
                    layers[l].Feedforward(X, Y);
                    layers[l].Backpropagate(Y, DY);
                    layers[l].Optimize(1e-6f);
                }
                if (r > 0) times[l].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps);
            }
        double dense = densities.Contains(1) ? GemmBenchmark.Median(times[Array.IndexOf(densities, 1.0)]) : double.NaN;
        output.WriteLine($"One layer {D}→{K}, batch {N}, {threads} thread(s): feedforward + backpropagation (DW, Db, DX) + momentum step, median of {repetitions}.");
        output.WriteLine();
        output.WriteLine("| layer density | stored weights | ms per step | dense / sparse |");
        output.WriteLine("|---|---|---|---|");
        for (int l = 0; l < layers.Length; l++)
        {
            double t = GemmBenchmark.Median(times[l]);
            output.WriteLine($"| {densities[l]} | {layers[l].WeightCount} | {t:F3} | {dense / t:F2} |");
        }
    }

    /// <summary>
    /// Peak working set (the kernel's VmHWM) of this process while it trains one epoch of 3072-1024-512-10 on
    /// 50 000 CIFAR-shaped samples, against the bound: dataset + 4 × parameter bytes + 64 MB.
    /// </summary>
    public static void RunMemory(TextWriter output, int threads)
    {
        int[] sizes = [3072, 1024, 512, 10];
        Parallelism.Threads = threads;
        var data = Synthetic(sizes[0], 50000, new Rng(1));
        var rng = new Rng(2);
        var mlp = NetworkBuilder.Build(["ReLU", "ReLU", "Linear"], sizes, [0], [WeightInitializer.He], [new Momentum(0.9)], rng);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 100, Statistics = false };
        new StochasticGradientDescent(mlp, new Losses.SoftmaxCrossEntropyLoss(), new ConstantScheduler(0.01), options, rng, TextWriter.Null).Train(data);
        long datasetBytes = 4L * (data.Xtrain.AsSpan().Length + data.Ttrain.AsSpan().Length + data.Xtest.AsSpan().Length + data.Ttest.AsSpan().Length);
        long parameterBytes = 0;
        for (int i = 1; i < sizes.Length; i++) parameterBytes += 4L * (sizes[i - 1] + 1) * sizes[i];
        long bound = datasetBytes + 4 * parameterBytes + (64L << 20);
        long peak = PeakWorkingSet();
        output.WriteLine("| dataset MB | parameters MB | bound MB (dataset + 4 × parameters + 64) | peak working set MB | peak / bound |");
        output.WriteLine("|---|---|---|---|---|");
        output.WriteLine($"| {datasetBytes / 1e6:F1} | {parameterBytes / 1e6:F1} | {bound / 1e6:F1} | {peak / 1e6:F1} | {(double)peak / bound:F2} |");
    }

    /// <summary>VmHWM from /proc/self/status (Linux), else the runtime's peak working set.</summary>
    internal static long PeakWorkingSet()
    {
        if (File.Exists("/proc/self/status"))
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        return System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64;
    }

    /// <summary>Uniform features in [−1, 1) and random labels of 10 classes; <paramref name="testSamples"/> test samples drawn the same way.</summary>
    internal static Dataset Synthetic(int features, int samples, Rng rng, int testSamples = 1)
    {
        var X = new Matrix<float>(samples, features);
        var x = X.AsSpan();
        for (int k = 0; k < x.Length; k++) x[k] = (float)rng.Uniform(-1, 1);
        var labels = new long[samples];
        for (int i = 0; i < samples; i++) labels[i] = rng.NextInt(10);
        var Xtest = new Matrix<float>(testSamples, features);
        foreach (ref var t in Xtest.AsSpan()) t = (float)rng.Uniform(-1, 1);
        var test = new long[testSamples];
        for (int i = 0; i < testSamples; i++) test[i] = rng.NextInt(10);
        return Dataset.FromLabels(X, labels, Xtest, test, classes: 10);
    }
}
