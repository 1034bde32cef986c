using System.Numerics;

namespace Nerva;

/// <summary>
/// How a linear layer's W (K×D, fan-in D, fan-out K) and b start (seed 000 §7, seed 004 §1.6, and the
/// original's <c>weights.h</c>). Values are drawn in double from <see cref="Rng"/>, W row by row, so float
/// and double layers start from the same numbers.
/// </summary>
public abstract record WeightInitializer
{
    /// <summary>U(−1/√D, 1/√D), b = 0 (seed 000 §7 "Xavier"; also PyTorch's nn.Linear default bound).</summary>
    public static readonly WeightInitializer Xavier = new UniformBound("Xavier", (D, K) => 1 / Math.Sqrt(D));

    /// <summary>U(−√6/√(D+K), √6/√(D+K)), b = 0 (seed 000 §7 "Normalized Xavier").</summary>
    public static readonly WeightInitializer XavierNormalized = new UniformBound("XavierNormalized", (D, K) => Math.Sqrt(6) / Math.Sqrt(D + K));

    /// <summary>U(−4√(6/(D+K)), 4√(6/(D+K))), b = 0: Xavier for logistic units (seed 004 eq. 1.35).</summary>
    public static readonly WeightInitializer XavierLogistic = new UniformBound("XavierLogistic", (D, K) => 4 * Math.Sqrt(6.0 / (D + K)));

    /// <summary>N(0, σ = √(2/D)), b = 0 (seed 000 §7 "He").</summary>
    public static readonly WeightInitializer He = new HeNormal();

    /// <summary>
    /// U(−√(6/D), √(6/D)), b = 0: He for ReLU/ELU units, uniform form (seed 004 eq. 1.33). The extracted
    /// seed prints the bound as 6/√D; we read it as √(6/D), the bound whose variance is He's 2/D.
    /// </summary>
    public static readonly WeightInitializer HeUniform = new UniformBound("HeUniform", (D, K) => Math.Sqrt(6.0 / D));

    /// <summary>U(−√6/√(D+K), √6/√(D+K)) with b = 0.01: the original's "PyTorch" initializer.</summary>
    public static readonly WeightInitializer PyTorch = new UniformBound("PyTorch", (D, K) => Math.Sqrt(6) / Math.Sqrt(D + K), bias: 0.01);

    /// <summary>W = 0, b = 0.</summary>
    public static readonly WeightInitializer Zero = new UniformBound("Zero", (D, K) => 0);

    /// <summary>U(a, b) for W, b = 0 (seed 000 §7 "Uniform"; the original's "Uniform" is U(−1, 1)).</summary>
    public static WeightInitializer Uniform(double a = -1, double b = 1) => new UniformRange(a, b);

    /// <summary>Fills W and b.</summary>
    public void Initialize<T>(Matrix<T> W, Matrix<T> b, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(rng);
        Shapes.RowVector("WeightInitializer", b, W.Rows);
        InitializeWeights(W.AsSpan(), W.Cols, W.Rows, rng);
        InitializeBias(b);
    }

    /// <summary>
    /// Fills the given weights of a layer with D inputs and K outputs, in order (the stored values of a
    /// sparse layer, or its new connections after growing).
    /// </summary>
    public void InitializeWeights<T>(Span<T> values, int D, int K, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(rng);
        for (int k = 0; k < values.Length; k++) values[k] = T.CreateChecked(NextWeight(D, K, rng));
    }

    /// <summary>Sets every bias entry.</summary>
    public void InitializeBias<T>(Matrix<T> b) where T : unmanaged, IFloatingPointIeee754<T> => b.Fill(T.CreateChecked(Bias));

    /// <summary>The value of every bias entry.</summary>
    protected virtual double Bias => 0;

    /// <summary>One weight of a layer with D inputs and K outputs.</summary>
    protected abstract double NextWeight(int D, int K, Rng rng);

    private sealed record UniformBound(string Name, Func<int, int, double> Bound, double bias = 0) : WeightInitializer
    {
        protected override double Bias => bias;

        protected override double NextWeight(int D, int K, Rng rng)
        {
            double r = Bound(D, K);
            return r == 0 ? 0 : rng.Uniform(-r, r);
        }

        public override string ToString() => Name;
    }

    private sealed record UniformRange(double A, double B) : WeightInitializer
    {
        protected override double NextWeight(int D, int K, Rng rng) => rng.Uniform(A, B);

        public override string ToString() => A == -1 && B == 1 ? "Uniform" : FormattableString.Invariant($"Uniform({A},{B})");
    }

    private sealed record HeNormal : WeightInitializer
    {
        protected override double NextWeight(int D, int K, Rng rng) => rng.Normal(0, Math.Sqrt(2.0 / D));

        public override string ToString() => "He";
    }
}
