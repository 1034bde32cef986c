using Nerva.Activations;
using Nerva.Layers;
using Nerva.Losses;
using static Nerva.MatrixOperations;

namespace Nerva.Tests;

/// <summary>
/// Convolution and pooling (seed 001 §3.5, issue 15) in float64: the convolution layer equals the linear layer whose W is
/// literally the stacked Toeplitz matrices of its kernels (Lemmas 2 and 3), the pooling layers equal their selection
/// and averaging matrices, every gradient agrees with central finite differences, and per-sample Jacobian products
/// (Algorithm 1) through conv → ReLU → max pool → linear sum to the batch gradients.
/// </summary>
public sealed class ConvolutionTests
{
    /// <summary>(C, H, W, C', kh, kw, stride, padding, N): odd and even sizes, strides 1 and 2, padding 0 and 1, N = 1 and more.</summary>
    public static TheoryData<int, int, int, int, int, int, int, int, int> Geometries => new()
    {
        { 1, 3, 3, 1, 2, 2, 1, 0, 1 },    // the seed's example: a 3×3 input, a 2×2 filter
        { 1, 4, 4, 2, 3, 3, 1, 1, 3 },
        { 2, 5, 4, 3, 3, 2, 2, 0, 2 },
        { 3, 6, 6, 2, 3, 3, 2, 1, 4 },
        { 2, 7, 5, 4, 2, 3, 1, 1, 1 },
        { 3, 4, 6, 2, 1, 1, 2, 0, 3 },
        { 1, 5, 5, 8, 2, 2, 1, 1, 3 },    // kernels shorter (4) than the channels are many (8): DW computed transposed
    };

    /// <summary>
    /// The linear form of Lemma 3: row o·P + q of W holds kernel o at the pixels of output position q's receptive field
    /// (k_{c,u,v} in column (c·H + i·s + u − p)·W + j·s + v − p, nothing for a padded pixel); b repeats b_o over the P positions.
    /// </summary>
    private static LinearLayer<double> Toeplitz(ConvolutionLayer<double> conv)
    {
        var (input, output) = (conv.Input, conv.Output);
        int P = output.Height * output.Width;
        var linear = new LinearLayer<double>(input.Size, output.Size);
        linear.W.Fill(0);
        foreach (var (o, q, k, pixel) in Taps(conv))
            linear.W[o * P + q, pixel] = conv.W[o, k];
        for (int o = 0; o < output.Channels; o++)
            for (int q = 0; q < P; q++) linear.B[0, o * P + q] = conv.B[0, o];
        return linear;
    }

    /// <summary>Every (output channel o, position q, kernel entry k = (c·kh + u)·kw + v, input pixel) whose pixel lies inside the image.</summary>
    private static IEnumerable<(int O, int Q, int K, int Pixel)> Taps(ConvolutionLayer<double> conv)
    {
        var (input, output) = (conv.Input, conv.Output);
        for (int o = 0; o < output.Channels; o++)
            for (int i = 0, q = 0; i < output.Height; i++)
                for (int j = 0; j < output.Width; j++, q++)
                    for (int c = 0, k = 0; c < input.Channels; c++)
                        for (int u = 0; u < conv.KernelHeight; u++)
                            for (int v = 0; v < conv.KernelWidth; v++, k++)
                            {
                                int r = i * conv.Stride + u - conv.Padding, s = j * conv.Stride + v - conv.Padding;
                                if (r >= 0 && r < input.Height && s >= 0 && s < input.Width) yield return (o, q, k, (c * input.Height + r) * input.Width + s);
                            }
    }

    [Theory]
    [MemberData(nameof(Geometries))]
    public void A_convolution_is_the_linear_layer_of_its_Toeplitz_matrix(int C, int H, int W, int C2, int kh, int kw, int stride, int padding, int N)
    {
        var rng = new Rng((ulong)(C * 1000 + H * 100 + W * 10 + kh));
        var conv = new ConvolutionLayer<double>(new ImageShape(C, H, W), C2, kh, kw, stride, padding, rng);
        TestData.Random(1, C2, rng).CopyTo(conv.B);
        var linear = Toeplitz(conv);
        conv.ComputeInputGradient = linear.ComputeInputGradient = true;
        var X = TestData.Random(N, C * H * W, rng, -2, 2);
        var DY = TestData.Random(N, conv.OutputSize, rng);
        Matrix<double> Yc = new(0, 0), Yl = new(0, 0);

        conv.Feedforward(X, Yc);
        linear.Feedforward(X, Yl);
        TestData.AssertClose(Yl, Yc, 1e-13, "Y = Toep(K)·Vec(Xᵀ) + b");
        conv.Backpropagate(Yc, DY);
        linear.Backpropagate(Yl, DY);
        TestData.AssertClose(linear.DX, conv.DX, 1e-13, "DX");
        // the kernel's gradient is the Toeplitz DW gathered over every place that kernel entry occupies; Db likewise
        var DK = new Matrix<double>(conv.W.Rows, conv.W.Cols);
        foreach (var (o, q, k, pixel) in Taps(conv)) DK[o, k] += linear.DW[o * (conv.Output.Height * conv.Output.Width) + q, pixel];
        TestData.AssertClose(DK, conv.DW, 1e-13, "DW");
        var Db = new Matrix<double>(1, C2);
        int P = conv.Output.Height * conv.Output.Width;
        for (int o = 0; o < C2; o++)
            for (int q = 0; q < P; q++) Db[0, o] += linear.Db[0, o * P + q];
        TestData.AssertClose(Db, conv.Db, 1e-13, "Db");
    }

    [Fact]
    public void The_seed_example_has_four_rows_of_the_two_by_two_kernel()
    {
        // Lemma 2 for a 3×3 X and a 2×2 K = [k1 k2; k3 k4]: the four rows the garbled print should have shown
        var conv = new ConvolutionLayer<double>(new ImageShape(1, 3, 3), 1, 2, 2);
        new double[] { 1, 2, 3, 4 }.CopyTo(conv.W.AsSpan());
        var W = Toeplitz(conv).W;
        double[][] expected =
        [
            [1, 2, 0, 3, 4, 0, 0, 0, 0],
            [0, 1, 2, 0, 3, 4, 0, 0, 0],
            [0, 0, 0, 1, 2, 0, 3, 4, 0],
            [0, 0, 0, 0, 1, 2, 0, 3, 4],
        ];
        Assert.Equal(expected.Length, W.Rows);
        for (int r = 0; r < 4; r++) Assert.Equal(expected[r], W.Row(r).ToArray());
    }

    [Theory]
    [InlineData(2, 4, 4, 2, 2, 3)]
    [InlineData(3, 5, 6, 2, 1, 2)]   // overlapping windows
    [InlineData(1, 7, 5, 3, 2, 1)]
    public void Pooling_is_a_selection_or_averaging_matrix(int C, int H, int W, int k, int stride, int N)
    {
        var rng = new Rng(7);
        var X = TestData.Random(N, C * H * W, rng, -2, 2);
        var max = new MaxPoolingLayer<double>(new ImageShape(C, H, W), k, stride) { ComputeInputGradient = true };
        var average = new AveragePoolingLayer<double>(new ImageShape(C, H, W), k, stride) { ComputeInputGradient = true };
        var DY = TestData.Random(N, max.OutputSize, rng);
        Matrix<double> Ym = new(0, 0), Ya = new(0, 0);
        max.Feedforward(X, Ym);
        max.Backpropagate(Ym, DY);
        average.Feedforward(X, Ya);
        average.Backpropagate(Ya, DY);
        var output = max.Output;
        for (int n = 0; n < N; n++)
        {
            // S_n selects the first maximum of every window of sample n; A holds 1/k² over every window
            var S = new Matrix<double>(max.OutputSize, max.InputSize);
            var A = new Matrix<double>(max.OutputSize, max.InputSize);
            for (int c = 0, o = 0; c < C; c++)
                for (int i = 0; i < output.Height; i++)
                    for (int j = 0; j < output.Width; j++, o++)
                    {
                        int best = -1;
                        for (int u = 0; u < k; u++)
                            for (int v = 0; v < k; v++)
                            {
                                int pixel = (c * H + i * stride + u) * W + j * stride + v;
                                A[o, pixel] = 1.0 / (k * k);
                                if (best < 0 || X[n, pixel] > X[n, best]) best = pixel;
                            }
                        S[o, best] = 1;
                    }
            var x = new Matrix<double>(1, X.Cols, X.Row(n).ToArray());
            var dy = new Matrix<double>(1, DY.Cols, DY.Row(n).ToArray());
            TestData.AssertClose(Product(x, Transpose(S)), new Matrix<double>(1, Ym.Cols, Ym.Row(n).ToArray()), 0, "max pooling Y = X·Sᵀ");
            TestData.AssertClose(Product(dy, S), new Matrix<double>(1, X.Cols, max.DX.Row(n).ToArray()), 1e-15, "max pooling DX = DY·S");
            TestData.AssertClose(Product(x, Transpose(A)), new Matrix<double>(1, Ya.Cols, Ya.Row(n).ToArray()), 1e-14, "average pooling Y = X·Aᵀ");
            TestData.AssertClose(Product(dy, A), new Matrix<double>(1, X.Cols, average.DX.Row(n).ToArray()), 1e-14, "average pooling DX = DY·A");
        }
    }

    public static TheoryData<string> Kinds => ["convolution", "convolution, stride 2, padding 1", "max pooling", "average pooling", "ReLU after a convolution", "ELU after a convolution"];

    private static Layer<double> Make(string kind, Rng rng) => kind switch
    {
        "convolution" => new ConvolutionLayer<double>(new ImageShape(2, 5, 4), 3, 3, 2, 1, 0, rng),
        "convolution, stride 2, padding 1" => new ConvolutionLayer<double>(new ImageShape(2, 6, 5), 2, 3, 3, 2, 1, rng),
        "max pooling" => new MaxPoolingLayer<double>(new ImageShape(2, 4, 6), 2),
        "average pooling" => new AveragePoolingLayer<double>(new ImageShape(2, 5, 5), 3, 2),
        "ReLU after a convolution" => new ActivationFunctionLayer<double, ReLU<double>>(12, new ReLU<double>()),
        _ => new ActivationFunctionLayer<double, ELU<double>>(12, new ELU<double>(0.7)),
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Gradients_match_central_finite_differences(string kind)
    {
        foreach (int N in new[] { 1, 3 })
        {
            var rng = new Rng((ulong)N + 20);
            var layer = Make(kind, rng);
            layer.ComputeInputGradient = true;
            if (layer is ConvolutionLayer<double> conv) TestData.Random(1, conv.B.Cols, rng).CopyTo(conv.B);
            var X = TestData.Random(N, layer.InputSize, rng, -2, 2);
            var C = TestData.Random(N, layer.OutputSize, rng);
            var Y = new Matrix<double>(0, 0);
            double Loss()
            {
                layer.Feedforward(X, Y);
                return ElementsSum(Hadamard(C, Y));
            }

            Loss();
            layer.Backpropagate(Y, C);
            var DX = layer.DX.Clone();
            var gradients = layer.Parameters.Select(p => (p.Name, p.Value, Gradient: p.Gradient.Clone())).ToList();
            Assert.True(TestData.RelativeError(TestData.FiniteDifferences(X, Loss), DX) <= 1e-6, $"{kind} DX, N = {N}");
            foreach (var (name, value, gradient) in gradients)
                Assert.True(TestData.RelativeError(TestData.FiniteDifferences(value, Loss), gradient) <= 1e-6, $"{kind} D{name}, N = {N}");
        }
    }

    [Fact]
    public void Per_sample_Jacobian_products_through_conv_pool_linear_sum_to_the_batch_gradients()
    {
        // conv (1×6×6 → 2×5×5, 2×2 kernels) → ReLU → max pool 2 (→ 2×2×2) → linear 8 → 3, softmax cross-entropy
        var rng = new Rng(11);
        var conv = new ConvolutionLayer<double>(new ImageShape(1, 6, 6), 2, 2, 2, 1, 0, rng);
        TestData.Random(1, 2, rng).CopyTo(conv.B);
        var relu = new ActivationFunctionLayer<double, ReLU<double>>(conv.OutputSize, new ReLU<double>());
        var pool = new MaxPoolingLayer<double>(conv.Output, 2);
        var last = new LinearLayer<double>(pool.OutputSize, 3, rng);
        var mlp = new MultilayerPerceptron<double>([conv, relu, pool, last]);
        int N = 5;
        var X = TestData.Random(N, 36, rng, -2, 2);
        var T = TestData.OneHot(N, 3, rng);
        var loss = new SoftmaxCrossEntropyLoss();
        Matrix<double> Y = new(0, 0), DY = new(0, 0);
        mlp.Feedforward(X, Y);
        loss.Gradient(Y, T, DY);
        mlp.Backpropagate(Y, DY);

        // Algorithm 1 per sample, with every Jacobian written out: J(z⁴) w.r.t. the Toeplitz W of the convolution is
        // W⁴·S_n·diag(relu'(z¹))·[block-diag(xᵀ)]; ∇ = Jᵀ·∇_{z⁴}ℓ. The products give the Toeplitz gradient, folded into DK.
        var toeplitz = Toeplitz(conv);
        var DK = new Matrix<double>(conv.W.Rows, conv.W.Cols);
        var DW4 = new Matrix<double>(3, pool.OutputSize);
        int P = conv.Output.Height * conv.Output.Width;
        for (int n = 0; n < N; n++)
        {
            var x = new Matrix<double>(X.Cols, 1, X.Row(n).ToArray());
            var z1 = Product(toeplitz.W, x) + Transpose(toeplitz.B);
            var J1 = DiagMatrix(Apply(z => z > 0 ? 1.0 : 0.0, z1));                     // diag(relu'(z¹))
            var a1 = Apply(z => Math.Max(z, 0), z1);
            var S = new Matrix<double>(pool.OutputSize, conv.OutputSize);                // the pooling selection of sample n
            for (int c = 0, o = 0; c < 2; c++)
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++, o++)
                    {
                        int best = -1;
                        for (int u = 0; u < 2; u++)
                            for (int v = 0; v < 2; v++)
                            {
                                int at = (c * 5 + 2 * i + u) * 5 + 2 * j + v;
                                if (best < 0 || a1[at, 0] > a1[best, 0]) best = at;
                            }
                        S[o, best] = 1;
                    }
            var a2 = Product(S, a1);
            var z4 = Product(last.W, a2) + Transpose(last.B);
            var g = Transpose(SoftmaxFunctions.Softmax(Transpose(z4))) - new Matrix<double>(3, 1, T.Row(n).ToArray());   // ∇_{z⁴}ℓ for softmax + CE
            DW4 += Product(g, Transpose(a2));
            var delta1 = Product(Transpose(Product(Product(last.W, S), J1)), g);           // (W⁴·S·J¹)ᵀ·g, per Toeplitz row
            var DWt = Product(delta1, Transpose(x));
            foreach (var (o, q, k, pixel) in Taps(conv)) DK[o, k] += DWt[o * P + q, pixel];
        }
        TestData.AssertClose(DW4, last.DW, 1e-12, "DW of the linear layer");
        TestData.AssertClose(DK, conv.DW, 1e-12, "DW of the convolution (its kernels)");
    }
}
