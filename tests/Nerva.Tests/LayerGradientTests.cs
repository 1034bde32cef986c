using Nerva;
using Nerva.Activations;
using Nerva.Layers;
using Xunit.Abstractions;

namespace Nerva.Tests;

/// <summary>
/// Every layer kind against float64 central finite differences: DX and the gradient of every parameter,
/// for the loss L(Y) = Σ C ⊙ Y with a random C (so DY = C), on shapes including N = 1, K = 1 and
/// non-square W. The layers under test are the same generic classes that train in float32.
/// </summary>
public sealed class LayerGradientTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-6;

    private static readonly (int N, int D, int K)[] ShapesToCheck = [(1, 1, 1), (1, 3, 4), (4, 3, 1), (3, 5, 2), (6, 2, 7), (5, 4, 4)];

    public static TheoryData<string> Kinds => [.. Factories.Keys];

    private static readonly Dictionary<string, Func<int, int, Rng, Layer<double>>> Factories = new()
    {
        ["Linear"] = (D, K, rng) => new LinearLayer<double>(D, K, rng),
        ["ReLU"] = (D, K, rng) => new ActivationLayer<double, ReLU<double>>(D, K, default, rng),
        ["LeakyReLU"] = (D, K, rng) => new ActivationLayer<double, LeakyReLU<double>>(D, K, new(0.1), rng),
        ["AllReLU"] = (D, K, rng) => new ActivationLayer<double, AllReLU<double>>(D, K, new(-0.3), rng),
        ["TReLU"] = (D, K, rng) => new ActivationLayer<double, TReLU<double>>(D, K, new(0.05), rng),
        ["Sigmoid"] = (D, K, rng) => new ActivationLayer<double, Sigmoid<double>>(D, K, default, rng),
        ["HyperbolicTangent"] = (D, K, rng) => new ActivationLayer<double, HyperbolicTangent<double>>(D, K, default, rng),
        ["ELU"] = (D, K, rng) => new ActivationLayer<double, ELU<double>>(D, K, new(0.7), rng),
        ["SReLU"] = (D, K, rng) => new SReLULayer<double>(D, K, new(0.1, -0.2, 0.3, 0.25), rng),
        ["SReLU overlapping (tl > tr)"] = (D, K, rng) => new SReLULayer<double>(D, K, new(0.2, 0.3, 0.4, -0.1), rng),
        ["Softmax"] = (D, K, rng) => new SoftmaxLayer<double>(D, K, rng),
        ["LogSoftmax"] = (D, K, rng) => new LogSoftmaxLayer<double>(D, K, rng),
        ["BatchNormalization"] = (D, K, rng) => RandomizedBatchNormalization(D, rng),
        ["Linear with dropout"] = (D, K, rng) => WithMask(new LinearLayer<double>(D, K, rng, dropout: 0.4), rng),
        ["ReLU with dropout"] = (D, K, rng) => WithMask(new ActivationLayer<double, ReLU<double>>(D, K, default, rng, dropout: 0.3), rng),
        ["Softmax with dropout"] = (D, K, rng) => WithMask(new SoftmaxLayer<double>(D, K, rng, dropout: 0.5), rng),
        // sparse (CSR) layers: the gradients of the stored weights only
        ["Sparse Linear"] = (D, K, rng) => new LinearLayer<double>(D, K, rng, density: 0.5),
        ["Sparse ReLU"] = (D, K, rng) => new ActivationLayer<double, ReLU<double>>(D, K, default, rng, density: 0.6),
        ["Sparse Sigmoid"] = (D, K, rng) => new ActivationLayer<double, Sigmoid<double>>(D, K, default, rng, density: 0.4),
        ["Sparse ELU"] = (D, K, rng) => new ActivationLayer<double, ELU<double>>(D, K, new(0.7), rng, density: 0.5),
        ["Sparse SReLU"] = (D, K, rng) => new SReLULayer<double>(D, K, new(0.1, -0.2, 0.3, 0.25), rng, density: 0.5),
        ["Sparse Softmax"] = (D, K, rng) => new SoftmaxLayer<double>(D, K, rng, density: 0.5),
        ["Sparse LogSoftmax"] = (D, K, rng) => new LogSoftmaxLayer<double>(D, K, rng, density: 0.7),
        ["Sparse ReLU with dropout"] = (D, K, rng) => WithMask(new ActivationLayer<double, ReLU<double>>(D, K, default, rng, dropout: 0.3, density: 0.6), rng),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Gradients_match_central_finite_differences(string kind)
    {
        double worst = 0;
        ulong seed = 1;
        foreach (var (N, D, K0) in ShapesToCheck)
        {
            int K = kind == "BatchNormalization" ? D : K0;
            var rng = new Rng(seed++);
            var layer = Factories[kind](D, K, rng);
            // Random biases: with b = 0 a unit whose dropout mask row is all zero has z = 0 exactly,
            // a kink of ReLU where no finite difference agrees with a one-sided derivative.
            if (layer is LinearLayer<double> linear) TestData.Random(1, K, rng).CopyTo(linear.B);
            var X = TestData.Random(N, D, rng, -2, 2);
            var C = TestData.Random(N, K, rng);
            var Y = new Matrix<double>(0, 0);
            double Loss()
            {
                layer.Feedforward(X, Y);
                return MatrixOperations.ElementsSum(MatrixOperations.Hadamard(C, Y));
            }

            Loss();
            layer.Backpropagate(Y, C);
            var DX = layer.DX.Clone();
            var gradients = layer.Parameters.Select(p => (p.Name, p.Value, Gradient: p.Gradient.Clone())).ToList();

            double error = TestData.RelativeError(TestData.FiniteDifferences(X, Loss), DX);
            Assert.True(error <= Tolerance, $"{kind} DX for N={N}, D={D}, K={K}: relative error {error:E3}");
            worst = Math.Max(worst, error);
            foreach (var (name, value, gradient) in gradients)
            {
                error = TestData.RelativeError(TestData.FiniteDifferences(value, Loss), gradient);
                Assert.True(error <= Tolerance, $"{kind} D{name} for N={N}, D={D}, K={K}: relative error {error:E3}");
                worst = Math.Max(worst, error);
            }
        }
        output.WriteLine($"largest relative gradient error, {kind}: {worst:E2}");
    }

    [Fact]
    public void Every_layer_parameter_is_checked()
    {
        // The parameter lists the check walks through: W and b everywhere, plus beta/gamma and srelu.
        var rng = new Rng(3);
        Assert.Equal(["W", "b"], Factories["ReLU"](2, 3, rng).Parameters.Select(p => p.Name));
        Assert.Equal(["W", "b", "srelu"], Factories["SReLU"](2, 3, rng).Parameters.Select(p => p.Name));
        Assert.Equal(["beta", "gamma"], Factories["BatchNormalization"](2, 2, rng).Parameters.Select(p => p.Name));
    }

    private static BatchNormalizationLayer<double> RandomizedBatchNormalization(int D, Rng rng)
    {
        var layer = new BatchNormalizationLayer<double>(D);
        TestData.Random(1, D, rng).CopyTo(layer.Beta);
        TestData.Random(1, D, rng, 0.5, 1.5).CopyTo(layer.Gamma);
        return layer;
    }

    private static LinearLayer<double> WithMask(LinearLayer<double> layer, Rng rng)
    {
        layer.RenewDropoutMask(rng);
        return layer;
    }
}
