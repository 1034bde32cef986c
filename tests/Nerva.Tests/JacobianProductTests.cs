using Nerva;
using Nerva.Activations;
using Nerva.Layers;
using Nerva.Losses;
using static Nerva.MatrixOperations;

namespace Nerva.Tests;

/// <summary>
/// Seed 001, Algorithm 1: for each sample, build every layer's Jacobian explicitly, multiply them,
///   J_{W^l,b^l}(z^L) = W^L·J(f^{L−1})·W^{L−1} ⋯ J(f^l)·[block-diag(a^{l−1}ᵀ) | 𝕀],
///   ∇_θ ℓ = (J_θ z^L)ᵀ·∇_{z^L} ℓ,
/// and check that the sum over the batch equals the batch matrix-form DW and Db of seed 000.
/// The last activation and the loss are one of seed 001's Table 1 pairs; their ∇_{z^L} ℓ is checked too.
/// </summary>
public sealed class JacobianProductTests
{
    private sealed record Hidden(string Name, Func<int, int, Rng, Layer<double>> Make, Func<double, double> Derivative);

    private static Hidden Make<TAct>(string name, TAct act) where TAct : struct, IActivationFunction<double>
        => new(name, (D, K, rng) => new ActivationLayer<double, TAct>(D, K, act, rng), act.Derivative);

    private static readonly Hidden[] HiddenKinds =
    [
        Make("ReLU", new ReLU<double>()),
        Make("LeakyReLU", new LeakyReLU<double>(0.1)),
        Make("AllReLU", new AllReLU<double>(0.3)),
        Make("TReLU", new TReLU<double>(0.01)),
        Make("Sigmoid", new Sigmoid<double>()),
        Make("HyperbolicTangent", new HyperbolicTangent<double>()),
        Make("ELU", new ELU<double>(1.0)),
        Make("SReLU", new SReLU<double>(0.1, -0.5, 0.2, 0.6)),
    ];

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var hidden in HiddenKinds)
            foreach (var output in new[] { "softmax+CE", "sigmoid+BCE", "identity+SE" }) data.Add(hidden.Name, output);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Per_sample_Jacobian_products_sum_to_the_batch_gradients(string hiddenName, string outputKind)
    {
        var hidden = HiddenKinds.Single(h => h.Name == hiddenName);
        int[] sizes = [4, 5, 3, 3];
        int N = 6, L = sizes.Length - 1;
        var rng = new Rng(42);
        var layers = new List<Layer<double>>();
        for (int l = 0; l < L - 1; l++) layers.Add(hidden.Make(sizes[l], sizes[l + 1], rng));
        (Layer<double> last, ILossFunction loss) = outputKind switch
        {
            "softmax+CE" => ((Layer<double>)new SoftmaxLayer<double>(sizes[L - 1], sizes[L], rng), (ILossFunction)new CrossEntropyLoss()),
            "sigmoid+BCE" => (new ActivationLayer<double, Sigmoid<double>>(sizes[L - 1], sizes[L], default, rng), new BinaryCrossEntropyLoss()),
            _ => (new LinearLayer<double>(sizes[L - 1], sizes[L], rng), new SquaredErrorLoss()),
        };
        layers.Add(last);
        foreach (var layer in layers.OfType<LinearLayer<double>>()) TestData.Random(1, layer.OutputSize, rng).CopyTo(layer.B);
        var mlp = new MultilayerPerceptron<double>(layers);
        var X = TestData.Random(N, sizes[0], rng, -2, 2);
        var T = outputKind == "identity+SE" ? TestData.Random(N, sizes[L], rng) : TestData.OneHot(N, sizes[L], rng);

        // Batch matrix form (seed 000).
        var Y = new Matrix<double>(0, 0);
        var DY = new Matrix<double>(0, 0);
        mlp.Feedforward(X, Y);
        loss.Gradient(Y, T, DY);
        mlp.Backpropagate(Y, DY);

        // Per-sample Jacobian products (seed 001), summed over the batch.
        var W = layers.Cast<LinearLayer<double>>().Select(layer => layer.W).ToArray();
        var b = layers.Cast<LinearLayer<double>>().Select(layer => layer.B).ToArray();
        var sums = Enumerable.Range(0, L).Select(l => new Matrix<double>(sizes[l + 1] * sizes[l] + sizes[l + 1], 1)).ToArray();
        for (int n = 0; n < N; n++)
        {
            var a = new Matrix<double>[L + 1];
            var z = new Matrix<double>[L + 1];
            a[0] = Transpose(RowOf(X, n));
            for (int l = 1; l <= L; l++)
            {
                z[l] = W[l - 1] * a[l - 1] + Transpose(b[l - 1]);
                a[l] = l < L ? Apply(ActivationValue(layers[l - 1]), z[l]) : OutputActivation(outputKind, z[l]);
            }
            // ∇_{z^L} ℓ = J_{f^L}(z^L)ᵀ·∇_ŷ ℓ, checked against seed 001 Table 1.
            var yHat = Transpose(a[L]);
            var gradYHat = new Matrix<double>(0, 0);
            loss.Gradient(yHat, RowOf(T, n), gradYHat);
            var gradZL = Transpose(OutputJacobian(outputKind, z[L], a[L])) * Transpose(gradYHat);
            var table1 = outputKind == "identity+SE" ? Scale(2.0, a[L] - Transpose(RowOf(T, n))) : a[L] - Transpose(RowOf(T, n));
            TestData.AssertClose(table1, gradZL, 1e-12, $"∇_z ℓ of {outputKind} (seed 001 Table 1)");

            for (int l = 1; l <= L; l++)
            {
                // J_{W^l,b^l}(z^L), right to left.
                var J = BlockJacobian(a[l - 1], sizes[l]);
                for (int j = l; j < L; j++) J = W[j] * DiagMatrix(Apply(hidden.Derivative, z[j])) * J;
                var gradient = Transpose(J) * gradZL;
                var sum = sums[l - 1].AsSpan();
                for (int k = 0; k < sum.Length; k++) sum[k] += gradient.AsSpan()[k];
            }
        }
        for (int l = 0; l < L; l++)
        {
            var layer = (LinearLayer<double>)layers[l];
            int K = sizes[l + 1], D = sizes[l];
            var DW = new Matrix<double>(K, D, sums[l].AsSpan()[..(K * D)].ToArray());
            var Db = new Matrix<double>(1, K, sums[l].AsSpan()[(K * D)..].ToArray());
            TestData.AssertClose(DW, layer.DW, 1e-10, $"DW{l + 1}");
            TestData.AssertClose(Db, layer.Db, 1e-10, $"Db{l + 1}");
        }
    }

    /// <summary>∂z/∂(vec(W), b) for z = W·a + b: row k holds a in W's row k (row-major vec) and a 1 for b_k.</summary>
    private static Matrix<double> BlockJacobian(Matrix<double> a, int K)
    {
        int D = a.Rows;
        var J = new Matrix<double>(K, K * D + K);
        for (int k = 0; k < K; k++)
        {
            for (int j = 0; j < D; j++) J[k, k * D + j] = a[j, 0];
            J[k, K * D + k] = 1;
        }
        return J;
    }

    private static Func<double, double> ActivationValue(Layer<double> layer) => layer switch
    {
        ActivationLayer<double, ReLU<double>> l => l.Activation.Value,
        ActivationLayer<double, LeakyReLU<double>> l => l.Activation.Value,
        ActivationLayer<double, AllReLU<double>> l => l.Activation.Value,
        ActivationLayer<double, TReLU<double>> l => l.Activation.Value,
        ActivationLayer<double, Sigmoid<double>> l => l.Activation.Value,
        ActivationLayer<double, HyperbolicTangent<double>> l => l.Activation.Value,
        ActivationLayer<double, ELU<double>> l => l.Activation.Value,
        ActivationLayer<double, SReLU<double>> l => l.Activation.Value,
        _ => throw new ArgumentException(layer.GetType().Name),
    };

    private static Matrix<double> OutputActivation(string kind, Matrix<double> z) => kind switch
    {
        "softmax+CE" => Transpose(SoftmaxFunctions.StableSoftmax(Transpose(z))),
        "sigmoid+BCE" => Sigmoid(z),
        _ => z.Clone(),
    };

    private static Matrix<double> OutputJacobian(string kind, Matrix<double> z, Matrix<double> yHat) => kind switch
    {
        "softmax+CE" => SoftmaxFunctions.SoftmaxJacobian(Transpose(z)),
        "sigmoid+BCE" => DiagMatrix(Hadamard(yHat, Ones<double>(yHat.Rows) - yHat)),
        _ => Identity<double>(z.Rows),
    };

    private static Matrix<double> RowOf(Matrix<double> X, int i)
    {
        var row = new Matrix<double>(1, X.Cols);
        X.Row(i).CopyTo(row.AsSpan());
        return row;
    }
}
