using Nerva;
using Nerva.Losses;
using Xunit.Abstractions;

namespace Nerva.Tests;

/// <summary>Every loss gradient against float64 central differences of its value, and known values.</summary>
public sealed class LossGradientTests(ITestOutputHelper output)
{
    public static TheoryData<string> Losses => [.. Cases.Keys];

    // Each case: the loss and how to draw an output Y in its domain with targets T.
    private static readonly Dictionary<string, (ILossFunction Loss, Func<int, int, Rng, (Matrix<double> Y, Matrix<double> T)> Draw)> Cases = new()
    {
        ["SquaredError"] = (new SquaredErrorLoss(), (N, K, rng) => (TestData.Random(N, K, rng), TestData.Random(N, K, rng))),
        ["MeanSquaredError"] = (new MeanSquaredErrorLoss(), (N, K, rng) => (TestData.Random(N, K, rng), TestData.Random(N, K, rng))),
        ["CrossEntropy"] = (new CrossEntropyLoss(), (N, K, rng) => (Probabilities(N, K, rng), TestData.OneHot(N, K, rng))),
        ["SoftmaxCrossEntropy one-hot"] = (new SoftmaxCrossEntropyLoss(), (N, K, rng) => (TestData.Random(N, K, rng, -3, 3), TestData.OneHot(N, K, rng))),
        ["SoftmaxCrossEntropy soft targets"] = (new SoftmaxCrossEntropyLoss(), (N, K, rng) => (TestData.Random(N, K, rng, -3, 3), TestData.Random(N, K, rng, 0, 1))),
        ["LogisticCrossEntropy"] = (new LogisticCrossEntropyLoss(), (N, K, rng) => (TestData.Random(N, K, rng, -3, 3), TestData.Random(N, K, rng, 0, 1))),
        ["NegativeLogLikelihood"] = (new NegativeLogLikelihoodLoss(), (N, K, rng) => (Probabilities(N, K, rng), TestData.OneHot(N, K, rng))),
        ["BinaryCrossEntropy"] = (new BinaryCrossEntropyLoss(), (N, K, rng) => (TestData.Random(N, K, rng, 0.05, 0.95), TestData.Random(N, K, rng, 0, 1))),
    };

    [Theory]
    [MemberData(nameof(Losses))]
    public void Gradient_matches_central_finite_differences(string name)
    {
        var (loss, draw) = Cases[name];
        double worst = 0;
        ulong seed = 10;
        foreach (var (N, K) in new[] { (1, 1), (1, 4), (5, 1), (3, 7), (8, 3) })
        {
            var rng = new Rng(seed++);
            var (Y, T) = draw(N, K, rng);
            var DY = new Matrix<double>(0, 0);
            loss.Gradient(Y, T, DY);
            double error = TestData.RelativeError(TestData.FiniteDifferences(Y, () => loss.Value(Y, T)), DY);
            Assert.True(error <= 1e-6, $"{name} for N={N}, K={K}: relative error {error:E3}");
            worst = Math.Max(worst, error);
        }
        output.WriteLine($"largest relative gradient error, {name}: {worst:E2}");
    }

    [Fact]
    public void Values_match_the_definitions_on_a_worked_example()
    {
        var Y = Matrix<double>.FromRows([0.2, 0.7, 0.1], [0.5, 0.25, 0.25]);
        var T = Matrix<double>.FromRows([0, 1, 0], [1, 0, 0]);
        Assert.Equal(0.2 * 0.2 + 0.3 * 0.3 + 0.1 * 0.1 + 0.5 * 0.5 + 0.25 * 0.25 * 2, new SquaredErrorLoss().Value(Y, T), 12);
        Assert.Equal(new SquaredErrorLoss().Value(Y, T) / 6, new MeanSquaredErrorLoss().Value(Y, T), 12);
        Assert.Equal(-Math.Log(0.7) - Math.Log(0.5), new CrossEntropyLoss().Value(Y, T), 12);
        Assert.Equal(-Math.Log(0.7) - Math.Log(0.5), new NegativeLogLikelihoodLoss().Value(Y, T), 12);
        double lse0 = Math.Log(Math.Exp(0.2) + Math.Exp(0.7) + Math.Exp(0.1)), lse1 = Math.Log(Math.Exp(0.5) + 2 * Math.Exp(0.25));
        Assert.Equal(-(0.7 - lse0) - (0.5 - lse1), new SoftmaxCrossEntropyLoss().Value(Y, T), 12);
        double logSigmoid(double x) => Math.Log(1 / (1 + Math.Exp(-x)));
        Assert.Equal(-logSigmoid(0.7) - logSigmoid(0.5), new LogisticCrossEntropyLoss().Value(Y, T), 12);
        double bce = 0;
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++) bce -= T[i, j] * Math.Log(Y[i, j]) + (1 - T[i, j]) * Math.Log(1 - Y[i, j]);
        Assert.Equal(bce, new BinaryCrossEntropyLoss().Value(Y, T), 12);
    }

    [Fact]
    public void Softmax_cross_entropy_of_huge_logits_is_finite()
    {
        var Y = Matrix<double>.FromRows([1000, 1001, -1000], [-5000, 0, 5000]);
        var T = Matrix<double>.FromRows([0, 1, 0], [1, 0, 0]);
        var loss = new SoftmaxCrossEntropyLoss();
        double value = loss.Value(Y, T);
        Assert.Equal(-(1001 - (1001 + Math.Log(1 + Math.Exp(-1)))) + 10000, value, 9);
        var DY = new Matrix<double>(0, 0);
        loss.Gradient(Y, T, DY);
        Assert.All(DY.AsSpan().ToArray(), d => Assert.True(double.IsFinite(d)));
    }

    [Fact]
    public void Binary_cross_entropy_of_a_saturated_sigmoid_has_a_finite_gradient()
    {
        // a float32 sigmoid of 20 is exactly 1: at the target the gradient is −1/Y = −1 (or 1/(1 − Y) = 1), not 0/0
        var Y = Matrix<float>.FromRows([1f, 0f, 0.25f]);
        var T = Matrix<float>.FromRows([1f, 0f, 1f]);
        var DY = new Matrix<float>(0, 0);
        new BinaryCrossEntropyLoss().Gradient(Y, T, DY);
        Assert.Equal([-1f, 1f, -4f], DY.AsSpan().ToArray());
        Assert.Equal(-Math.Log(0.25), new BinaryCrossEntropyLoss().Value(Y, T), 6);
    }

    [Fact]
    public void One_hot_softmax_cross_entropy_gradient_is_softmax_minus_T()
    {
        var rng = new Rng(4);
        var Y = TestData.Random(4, 5, rng, -2, 2);
        var T = TestData.OneHot(4, 5, rng);
        var DY = new Matrix<double>(0, 0);
        new SoftmaxCrossEntropyLoss().Gradient(Y, T, DY);
        TestData.AssertClose(SoftmaxFunctions.StableSoftmax(Y) - T, DY, 1e-15, "softmax(Y) − T");
    }

    [Fact]
    public void Mismatched_shapes_name_both()
    {
        var error = Assert.Throws<ArgumentException>(() => new SquaredErrorLoss().Value(new Matrix<double>(2, 3), new Matrix<double>(3, 2)));
        Assert.Contains("2×3", error.Message);
        Assert.Contains("3×2", error.Message);
    }

    private static Matrix<double> Probabilities(int N, int K, Rng rng) => SoftmaxFunctions.StableSoftmax(TestData.Random(N, K, rng, -2, 2));
}
