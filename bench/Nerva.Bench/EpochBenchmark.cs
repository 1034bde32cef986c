using System.Diagnostics;
using Nerva.Data;
using Nerva.Kernels;
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

    private static Dataset Synthetic(int features, int samples, Rng rng)
    {
        var X = new Matrix<float>(samples, features);
        var x = X.AsSpan();
        for (int k = 0; k < x.Length; k++) x[k] = (float)rng.Uniform(-1, 1);
        var labels = new long[samples];
        for (int i = 0; i < samples; i++) labels[i] = rng.NextInt(10);
        var Xtest = new Matrix<float>(1, features);
        return Dataset.FromLabels(X, labels, Xtest, [0], classes: 10);
    }
}
