using System.Diagnostics;
using System.Numerics;
using Nerva.Activations;
using Nerva.Kernels;
using Nerva.Losses;
using Nerva.Optimizers;
using Nerva.Specs;

namespace Nerva.Bench;

/// <summary>
/// The element-wise parts of a training step. The float32 exponential activations (Sigmoid, HyperbolicTangent, ELU): both
/// passes of an activation layer on a batch of 100×1024 against the same functions computed lane by lane with MathF (the
/// scalar code they replaced). Then a training step of 3072-1024-512-10 with each activation, with batch normalization,
/// with DropConnect (a fresh mask every step, as in training) and with each optimizer, against the same step with ReLU and
/// momentum. Variants alternate call by call (the host is shared and noisy); medians after a
/// warm-up that lets the JIT reach its final code.
/// </summary>
internal static class ElementwiseBenchmark
{
    private const int Rows = 100, Width = 1024;

    public static void Run(TextWriter output, int rounds)
    {
        foreach (int threads in new[] { 1, 2 })
        {
            Parallelism.Threads = threads;
            output.WriteLine($"Both passes (Y = act(Z), DZ = DY ⊙ act'(Z)) on {Rows}×{Width}, {threads} thread(s), µs (median of {rounds}):");
            output.WriteLine();
            output.WriteLine("| activation | ours (SIMD) | MathF, lane by lane | ours/MathF |");
            output.WriteLine("|---|---|---|---|");
            Passes(output, rounds, "Sigmoid", new Sigmoid<float>(), new MathFSigmoid());
            Passes(output, rounds, "HyperbolicTangent", new HyperbolicTangent<float>(), new MathFTanh());
            Passes(output, rounds, "ELU(1)", new ELU<float>(1), new MathFElu());
            output.WriteLine();
            Steps(output, rounds, threads);
            output.WriteLine();
        }
    }

    private static void Passes<TOurs, TMathF>(TextWriter output, int rounds, string name, TOurs ours, TMathF mathF)
        where TOurs : struct, IActivationFunction<float> where TMathF : struct, IActivationFunction<float>
    {
        var rng = new Rng(3);
        float[] Z = GemmBenchmark.Random(Rows * Width, rng), DY = GemmBenchmark.Random(Rows * Width, rng);
        float[] Y = new float[Z.Length], DZ = new float[Z.Length];
        for (int i = 0; i < Z.Length; i++) Z[i] = 6 * Z[i] - 3;
        double Time<TAct>(TAct act) where TAct : struct, IActivationFunction<float>
        {
            long start = Stopwatch.GetTimestamp();
            ActivationKernels.Value(act, Z, Y);
            ActivationKernels.Backpropagate(act, Z, DY, DZ);
            return Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        for (int i = 0; i < 2000; i++) { Time(ours); Time(mathF); }   // past tiering
        var a = new List<double>();
        var b = new List<double>();
        for (int i = 0; i < rounds; i++)
        {
            a.Add(Time(ours));
            b.Add(Time(mathF));
        }
        double x = GemmBenchmark.Median(a), y = GemmBenchmark.Median(b);
        output.WriteLine($"| {name} | {x:F1} | {y:F1} | {x / y:F2} |");
    }

    private static void Steps(TextWriter output, int rounds, int threads)
    {
        int[] sizes = [3072, 1024, 512, 10];
        string[] Layers(string activation) => [activation, activation, "Linear"];
        double[] none = [0], dropConnect = [0.2, 0.1, 0];
        (string[] Layers, OptimizerSpec Optimizer, double[] Dropouts)[] variants =
        [
            (Layers("ReLU"), new Momentum(0.9), none), (Layers("Sigmoid"), new Momentum(0.9), none), (Layers("HyperbolicTangent"), new Momentum(0.9), none),
            (Layers("ELU(1)"), new Momentum(0.9), none), (["ReLU", "BatchNormalization", "ReLU", "BatchNormalization", "Linear"], new Momentum(0.9), none),
            (Layers("ReLU"), new Momentum(0.9), dropConnect),
            (Layers("ReLU"), new GradientDescent(), none), (Layers("ReLU"), new Nesterov(0.9), none), (Layers("ReLU"), new Adam(), none),
        ];
        var rng = new Rng(4);
        var X = new Matrix<float>(Rows, sizes[0], GemmBenchmark.Random(Rows * sizes[0], rng));
        var T = new Matrix<float>(Rows, sizes[^1]);
        for (int i = 0; i < Rows; i++) T[i, i % sizes[^1]] = 1;
        var loss = new SoftmaxCrossEntropyLoss();
        var networks = variants.Select(v => NetworkBuilder.Build(v.Layers, sizes, v.Dropouts, [WeightInitializer.Xavier], [v.Optimizer], new Rng(2))).ToArray();
        var masks = new Rng(5);
        var Y = new Matrix<float>(Rows, sizes[^1]);
        var DY = new Matrix<float>(Rows, sizes[^1]);
        double Step(MultilayerPerceptron<float> mlp)
        {
            long start = Stopwatch.GetTimestamp();
            mlp.RenewDropoutMasks(masks);
            mlp.Feedforward(X, Y);
            loss.Gradient(Y, T, DY);
            mlp.Backpropagate(Y, DY);
            mlp.Optimize(0.001f);
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        foreach (var mlp in networks) mlp.IsTraining = true;
        for (int i = 0; i < 200; i++) foreach (var mlp in networks) Step(mlp);   // past tiering
        var times = networks.Select(_ => new List<double>()).ToArray();
        for (int i = 0; i < rounds; i++)
            for (int n = 0; n < networks.Length; n++) times[n].Add(Step(networks[n]));
        double baseline = GemmBenchmark.Median(times[0]);
        output.WriteLine($"A training step of {string.Join('-', sizes)} (batch {Rows}), {threads} thread(s), ms (median of {rounds}):");
        output.WriteLine();
        output.WriteLine("| layers | optimizer | dropouts | ms per step | against ReLU and momentum |");
        output.WriteLine("|---|---|---|---|---|");
        for (int n = 0; n < networks.Length; n++)
            output.WriteLine($"| {string.Join(';', variants[n].Layers)} | {variants[n].Optimizer} | {string.Join(';', variants[n].Dropouts)} | {GemmBenchmark.Median(times[n]):F2} | {GemmBenchmark.Median(times[n]) / baseline:F2} |");
    }

    /// <summary>σ with MathF.Exp, lane by lane: the scalar code the SIMD form replaced (MatrixOperations.Sigmoid now takes our e^x in float32).</summary>
    private readonly struct MathFSigmoid : IActivationFunction<float>
    {
        public float Value(float z)
        {
            if (z >= 0) return 1 / (1 + MathF.Exp(-z));
            float e = MathF.Exp(z);
            return e / (1 + e);
        }

        public float Derivative(float z)
        {
            float s = Value(z);
            return s * (1 - s);
        }

        public static bool IsVectorized => false;

        public Vector<float> Value(Vector<float> z) => ActivationKernels.Lanewise(z, Value);

        public Vector<float> Derivative(Vector<float> z) => ActivationKernels.Lanewise(z, Derivative);
    }

    /// <summary>tanh with MathF.Tanh, lane by lane.</summary>
    private readonly struct MathFTanh : IActivationFunction<float>
    {
        public float Value(float z) => MathF.Tanh(z);

        public float Derivative(float z)
        {
            float t = MathF.Tanh(z);
            return 1 - t * t;
        }

        public static bool IsVectorized => false;

        public Vector<float> Value(Vector<float> z) => ActivationKernels.Lanewise(z, Value);

        public Vector<float> Derivative(Vector<float> z) => ActivationKernels.Lanewise(z, Derivative);
    }

    /// <summary>ELU(1) with the Kahan expm1 over MathF.Exp, lane by lane.</summary>
    private readonly struct MathFElu : IActivationFunction<float>
    {
        public float Value(float z) => z < 0 ? ScalarFunctions.Expm1(z) : z;

        public float Derivative(float z) => z < 0 ? MathF.Exp(z) : 1;

        public static bool IsVectorized => false;

        public Vector<float> Value(Vector<float> z) => ActivationKernels.Lanewise(z, Value);

        public Vector<float> Derivative(Vector<float> z) => ActivationKernels.Lanewise(z, Derivative);
    }
}
