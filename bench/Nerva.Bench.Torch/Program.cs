using System.Diagnostics;
using System.Globalization;
using Nerva;
using Nerva.Data;
using Nerva.Kernels;
using Nerva.Layers;
using Nerva.Optimizers;
using Nerva.Schedulers;
using Nerva.Sparse;
using Nerva.Specs;
using Nerva.Training;
using TorchSharp;
using static TorchSharp.torch;

// Ours against TorchSharp-cpu (libtorch) in one process, case by case, on the same synthetic data:
//   epoch [timed epochs]             seconds per epoch, 3072-1024-512-10 and 784-1024-512-10, 1 and 2 threads
//   infer                            samples/s at batch 1000, batch-1 and batch-8 latency, 3072-1024-512-10
//   sparse [timed epochs] [threads]  our sparse epochs at Erdős–Rényi densities against dense epochs of both
//   cnn [timed epochs] [threads]     seconds per epoch of the small CNN of issue 15 (2 conv + pooling, 784-128-10)
// Run through bench/run.sh, which deals with libLibTorchSharp's GLIBCXX_3.4.32 on Debian 12.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
string what = args.Length > 0 ? args[0] : "epoch";
int epochs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
switch (what)
{
    case "epoch":
        // the epoch's GEMM work as a fraction of the measured FMA peak: 2·N·D·K per product, three products per layer
        // (Z, DW, DX) but no DX for the first
        var peak = new[] { 1, 2 }.ToDictionary(t => t, Nerva.Bench.FmaPeak.Measure);
        Console.WriteLine($"Measured FMA peak ({Nerva.Bench.FmaPeak.Kind}, best of 3 rounds): {peak[1]:F1} GFLOP/s on 1 thread, {peak[2]:F1} on 2");
        Console.WriteLine();
        Console.WriteLine("| network | samples | threads | ours s/epoch | TorchSharp s/epoch | ratio | ours of peak | TorchSharp of peak | two-core capacity before, after |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var (sizes, samples) in new[] { (new[] { 3072, 1024, 512, 10 }, 50000), (new[] { 784, 1024, 512, 10 }, 60000) })
        {
            var data = Peer.Synthetic(sizes[0], samples);
            double flop = 2.0 * samples * (3.0 * sizes.Zip(sizes.Skip(1), (D, K) => (double)D * K).Sum() - (double)sizes[0] * sizes[1]);
            foreach (int threads in new[] { 1, 2 })
            {
                double before = Nerva.Bench.Capacity.TwoThreads();
                var (ours, theirs) = Peer.AlternateEpochs(sizes, data, threads, epochs);
                double after = Nerva.Bench.Capacity.TwoThreads();
                double Fraction(double seconds) => flop / seconds / 1e9 / peak[threads];
                Console.WriteLine($"| {string.Join('-', sizes)} | {samples} | {threads} | {ours:F2} | {theirs:F2} | {ours / theirs:F2} | {Fraction(ours):P0} | {Fraction(theirs):P0} | {before:F2}, {after:F2} |");
            }
        }
        return 0;
    case "cnn":
    {
        // the CNN of issue 15 on Fashion-MNIST-shaped data (60 000 rows of 784), batch 100, SGD with momentum 0.9
        Console.WriteLine("| network | threads | ours s/epoch | TorchSharp s/epoch | ratio | two-core capacity before, after |");
        Console.WriteLine("|---|---|---|---|---|---|");
        var data = Peer.Synthetic(784, 60000);
        foreach (int threads in args.Length > 2 ? [int.Parse(args[2], CultureInfo.InvariantCulture)] : new[] { 1, 2 })
        {
            double before = Nerva.Bench.Capacity.TwoThreads();
            var (ours, theirs) = Peer.AlternateEpochs(Peer.OurCnn, Peer.TorchCnn, data, threads, epochs);
            double after = Nerva.Bench.Capacity.TwoThreads();
            Console.WriteLine($"| 2 conv + pool, 784-128-10 | {threads} | {ours:F2} | {theirs:F2} | {ours / theirs:F2} | {before:F2}, {after:F2} |");
        }
        return 0;
    }
    case "infer":
        Console.WriteLine("| case | threads | ours | TorchSharp | ours/TorchSharp |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (int threads in new[] { 1, 2 })
        {
            var (ourRate, ourLatency, ourLatency8) = Peer.OurInference([3072, 1024, 512, 10], 1, threads);
            var (torchRate, torchLatency, torchLatency8) = Peer.TorchInference([3072, 1024, 512, 10], threads);
            Console.WriteLine($"| samples/s, batch 1000 | {threads} | {ourRate:F0} | {torchRate:F0} | {ourRate / torchRate:F2} |");
            Console.WriteLine($"| latency µs, batch 1 | {threads} | {ourLatency:F1} | {torchLatency:F1} | {ourLatency / torchLatency:F2} |");
            Console.WriteLine($"| latency µs, batch 8 | {threads} | {ourLatency8:F1} | {torchLatency8:F1} | {ourLatency8 / torchLatency8:F2} |");
        }
        return 0;
    case "sparse":
    {
        int threads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2;
        int[] sizes = [3072, 1024, 512, 10];
        var data = Peer.Synthetic(sizes[0], 50000);
        double torchDense = Peer.TorchEpoch(sizes, data, threads, epochs);
        var (_, torchLatency, _) = Peer.TorchInference(sizes, threads);
        double oursDense = Peer.OurEpoch(sizes, data, threads, epochs, 1);
        Console.WriteLine($"3072-1024-512-10, 50 000 samples, batch 100, {threads} threads. TorchSharp dense: {torchDense:F3} s/epoch, batch-1 latency {torchLatency:F1} µs; ours dense: {oursDense:F3} s/epoch.");
        Console.WriteLine();
        Console.WriteLine("| overall density | layer densities | ours s/epoch | TorchSharp dense / ours | our dense / ours | batch-1 latency µs | TorchSharp dense latency / ours |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (double density in new[] { 0.5, 0.2, 0.1, 0.05, 0.01, 0.001 })
        {
            double ours = Peer.OurEpoch(sizes, data, threads, epochs, density);
            var (_, latency, _) = Peer.OurInference(sizes, density, threads);
            string layers = string.Join(", ", ErdosRenyi.Densities(density, sizes).Select(d => d.ToString("G4", CultureInfo.InvariantCulture)));
            Console.WriteLine($"| {density} | {layers} | {ours:F3} | {torchDense / ours:F1} | {oursDense / ours:F1} | {latency:F1} | {torchLatency / latency:F1} |");
        }
        return 0;
    }
    default:
        Console.Error.WriteLine($"error: unknown benchmark '{what}' (valid: epoch, infer, sparse)");
        return 1;
}

internal static class Peer
{
    public static Dataset Synthetic(int features, int samples)
    {
        var rng = new Rng(1);
        var X = new Matrix<float>(samples, features);
        foreach (ref float x in X.AsSpan()) x = (float)rng.Uniform(-1, 1);
        var labels = new long[samples];
        for (int i = 0; i < samples; i++) labels[i] = rng.NextInt(10);
        return Dataset.FromLabels(X, labels, new Matrix<float>(1, features), [0], classes: 10);
    }

    private static MultilayerPerceptron<float> Ours(int[] sizes, double density, Rng rng)
        => NetworkBuilder.Build(["ReLU", "ReLU", "Linear"], sizes, [0], [WeightInitializer.He], [new Momentum(0.9)], rng, ErdosRenyi.Densities(density, sizes));

    /// <summary>Median seconds of <paramref name="epochs"/> epochs after one warm-up epoch.</summary>
    public static double OurEpoch(int[] sizes, Dataset data, int threads, int epochs, double density)
    {
        var epoch = OurTrainer(sizes, data, threads, density);
        return Median([.. Enumerable.Range(0, epochs + 1).Select(_ => epoch()).Skip(1)]);
    }

    /// <summary>Our training: each call runs one epoch and returns its seconds.</summary>
    private static Func<double> OurTrainer(int[] sizes, Dataset data, int threads, double density) => OurTrainer(rng => Ours(sizes, density, rng), data, threads);

    /// <summary>Our training of the network <paramref name="make"/> builds: each call runs one epoch and returns its seconds.</summary>
    private static Func<double> OurTrainer(Func<Rng, MultilayerPerceptron<float>> make, Dataset data, int threads)
    {
        var rng = new Rng(2);
        var mlp = make(rng);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 100, Statistics = false };
        return () =>
        {
            Parallelism.Threads = threads;
            var sgd = new StochasticGradientDescent(mlp, new Nerva.Losses.SoftmaxCrossEntropyLoss(), new ConstantScheduler(0.01), options, rng, TextWriter.Null);
            long start = Stopwatch.GetTimestamp();
            sgd.Train(data);
            return Stopwatch.GetElapsedTime(start).TotalSeconds;
        };
    }

    /// <summary>
    /// Medians of (ours, TorchSharp's) seconds per epoch, after one warm-up epoch each, timed in turns (ours, theirs,
    /// ours, …) with a pause between, so that a change in what the host gives this machine falls on both sides.
    /// </summary>
    public static (double Ours, double Theirs) AlternateEpochs(int[] sizes, Dataset data, int threads, int epochs) =>
        AlternateEpochs(rng => Ours(sizes, 1, rng), () => TorchModel(sizes), data, threads, epochs);

    /// <summary>As above, for any pair of networks: ours built by <paramref name="ours"/>, TorchSharp's by <paramref name="theirs"/>.</summary>
    public static (double Ours, double Theirs) AlternateEpochs(Func<Rng, MultilayerPerceptron<float>> make, Func<nn.Module<Tensor, Tensor>> makeTorch, Dataset data, int threads, int epochs)
    {
        var ours = OurTrainer(make, data, threads);
        using var theirs = new TorchTrainer(makeTorch, data, threads);
        var (our, their) = (new List<double>(), new List<double>());
        for (int e = 0; e <= epochs; e++)
        {
            double o = ours();
            Thread.Sleep(300);   // libgomp's and our workers spin for a while after their last loop
            double t = theirs.Epoch();
            Thread.Sleep(300);
            if (e == 0) continue;
            our.Add(o);
            their.Add(t);
        }
        return (Median(our), Median(their));
    }

    /// <summary>The small CNN of issue 15 (2 conv + pooling blocks and one hidden dense layer) in the mlp grammar.</summary>
    public const string CnnLayers = "Conv(out=32, kernel=3, padding=1);ReLU;MaxPool(2);Conv(out=64, kernel=3, padding=1);ReLU;MaxPool(2);Flatten;ReLU;Linear";

    public static MultilayerPerceptron<float> OurCnn(Rng rng) => NetworkBuilder.Build(SpecParser.List(CnnLayers), [784, 128, 10], [0],
        [WeightInitializer.He], [new Momentum(0.9)], rng, input: new ImageShape(1, 28, 28));

    /// <summary>The same CNN in TorchSharp: rows reshaped to 1×28×28 images, as ours read them.</summary>
    public static nn.Module<Tensor, Tensor> TorchCnn() => nn.Sequential(
        ("unflatten", nn.Unflatten(1, [1, 28, 28])),
        ("conv1", nn.Conv2d(1, 32, 3, padding: 1)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(32, 64, 3, padding: 1)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()), ("linear1", nn.Linear(3136, 128)), ("relu3", nn.ReLU()), ("linear2", nn.Linear(128, 10)));

    private static nn.Module<Tensor, Tensor> TorchModel(int[] sizes) => nn.Sequential(
        ("linear1", nn.Linear(sizes[0], sizes[1])), ("relu1", nn.ReLU()),
        ("linear2", nn.Linear(sizes[1], sizes[2])), ("relu2", nn.ReLU()),
        ("linear3", nn.Linear(sizes[2], sizes[3])));

    /// <summary>Median seconds of TorchSharp's epochs after one warm-up epoch.</summary>
    public static double TorchEpoch(int[] sizes, Dataset data, int threads, int epochs)
    {
        using var trainer = new TorchTrainer(() => TorchModel(sizes), data, threads);
        return Median([.. Enumerable.Range(0, epochs + 1).Select(_ => trainer.Epoch()).Skip(1)]);
    }

    /// <summary>The same training in TorchSharp: shuffled batches of 100, cross-entropy, SGD with momentum 0.9.</summary>
    private sealed class TorchTrainer : IDisposable
    {
        private readonly int _threads;
        private readonly Tensor _X, _T;
        private readonly nn.Module<Tensor, Tensor> _model;
        private readonly optim.Optimizer _optimizer;
        private readonly nn.Module<Tensor, Tensor, Tensor> _loss = nn.CrossEntropyLoss();

        public TorchTrainer(Func<nn.Module<Tensor, Tensor>> make, Dataset data, int threads)
        {
            _threads = threads;
            torch.manual_seed(2);
            int N = data.Xtrain.Rows, D = data.Xtrain.Cols;
            _X = torch.tensor(data.Xtrain.AsSpan().ToArray(), [N, D]);
            var labels = new long[N];
            for (int i = 0; i < N; i++) labels[i] = Dataset.ArgMax<float>(data.Ttrain.Row(i));
            _T = torch.tensor(labels);
            _model = make();
            _optimizer = optim.SGD(_model.parameters(), 0.01, momentum: 0.9);
        }

        /// <summary>One epoch; its seconds.</summary>
        public double Epoch()
        {
            torch.set_num_threads(_threads);
            long N = _X.shape[0];
            long start = Stopwatch.GetTimestamp();
            using (var scope = torch.NewDisposeScope())
            {
                var permutation = torch.randperm(N);
                for (long first = 0; first < N; first += 100)
                {
                    using var batchScope = torch.NewDisposeScope();
                    var index = permutation.slice(0, first, Math.Min(N, first + 100), 1);
                    _optimizer.zero_grad();
                    var output = _loss.forward(_model.forward(_X.index_select(0, index)), _T.index_select(0, index));
                    output.backward();
                    _optimizer.step();
                }
            }
            return Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        public void Dispose()
        {
            _X.Dispose();
            _T.Dispose();
            _model.Dispose();
        }
    }

    /// <summary>(samples/s at batch 1000, median µs per batch of 1, median µs per batch of 8).</summary>
    public static (double Rate, double LatencyMicroseconds, double Latency8Microseconds) OurInference(int[] sizes, double density, int threads)
    {
        Parallelism.Threads = threads;
        var rng = new Rng(3);
        var mlp = Ours(sizes, density, rng);
        mlp.IsTraining = false;
        var X = new Matrix<float>(1000, sizes[0]);
        foreach (ref float x in X.AsSpan()) x = (float)rng.Uniform(-1, 1);
        var Y = new Matrix<float>(0, 0);
        double rate = Rate(() => mlp.Feedforward(X, Y), 1000);
        var x1 = new Matrix<float>(1, sizes[0], X.Row(0).ToArray());
        var x8 = new Matrix<float>(8, sizes[0], X.AsSpan()[..(8 * sizes[0])].ToArray());
        return (rate, Latency(() => mlp.Feedforward(x1, Y)), Latency(() => mlp.Feedforward(x8, Y)));
    }

    public static (double Rate, double LatencyMicroseconds, double Latency8Microseconds) TorchInference(int[] sizes, int threads)
    {
        torch.set_num_threads(threads);
        var model = TorchModel(sizes);
        model.eval();
        using var noGrad = torch.no_grad();
        using var X = torch.rand(1000, sizes[0]);
        using var x1 = X.slice(0, 0, 1, 1).contiguous();
        using var x8 = X.slice(0, 0, 8, 1).contiguous();
        double rate = Rate(() => model.forward(X).Dispose(), 1000);
        return (rate, Latency(() => model.forward(x1).Dispose()), Latency(() => model.forward(x8).Dispose()));
    }

    private static double Rate(Action run, int samples)
    {
        WarmUp(run, 5);
        var times = new List<double>();
        for (int r = 0; r < 7; r++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < 5; i++) run();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds / 5);
        }
        return samples / Median(times);
    }

    private static double Latency(Action run)
    {
        WarmUp(run, 200);
        var times = new List<double>();
        for (int r = 0; r < 2000; r++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }
        return Median(times);
    }

    /// <summary>
    /// At least <paramref name="calls"/> calls and one second: .NET's tiered JIT replaces the first code of a method
    /// only after 30 calls and 100 ms without new compilations, so a count alone can time unoptimised code.
    /// </summary>
    private static void WarmUp(Action run, int calls)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls || Stopwatch.GetElapsedTime(start).TotalSeconds < 1; i++) run();
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }
}
