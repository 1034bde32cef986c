using Nerva;
using Nerva.Layers;
using static Nerva.MatrixOperations;

namespace Nerva.Tests;

/// <summary>
/// Where a layer evaluates an equation in an O(N·K) form, the literal equation of seed 000 §4, evaluated
/// naively with the Table 1 vocabulary on small float64 matrices, must give the same numbers.
/// </summary>
public sealed class LiteralFormTests
{
    [Theory]
    [InlineData(1, 3)]
    [InlineData(4, 1)]
    [InlineData(6, 5)]
    public void Batch_normalization_DX_equals_equation_25(int N, int D)
    {
        var rng = new Rng(7);
        var layer = new BatchNormalizationLayer<double>(D);
        TestData.Random(1, D, rng).CopyTo(layer.Beta);
        TestData.Random(1, D, rng, 0.5, 2).CopyTo(layer.Gamma);
        var X = TestData.Random(N, D, rng, -3, 3);
        var DY = TestData.Random(N, D, rng);
        var Y = new Matrix<double>(0, 0);
        layer.Feedforward(X, Y);
        layer.Backpropagate(Y, DY);

        // Feedforward, literally.
        var R = X - Scale(1.0 / N, Ones<double>(N) * Transpose(Ones<double>(N)) * X);
        var Sigma = Scale(1.0 / N, Transpose(Diag(Transpose(R) * R)));
        var invSqrtSigma = InvSqrt(Sigma);
        var Z = Hadamard(RowRepeat(invSqrtSigma, N), R);
        TestData.AssertClose(Hadamard(RowRepeat(layer.Gamma, N), Z) + RowRepeat(layer.Beta, N), Y, 1e-13, "Y");
        // DX = (1/N·1_N·Σ^(−1/2)) ⊙ ((N·𝕀_N − 1_N·1_Nᵀ)·DZ − Z ⊙ (1_N·diag(Zᵀ·DZ)ᵀ))
        var DZ = Hadamard(RowRepeat(layer.Gamma, N), DY);
        var DX = Hadamard(
            RowRepeat(Scale(1.0 / N, invSqrtSigma), N),
            (Scale((double)N, Identity<double>(N)) - Ones<double>(N) * Transpose(Ones<double>(N))) * DZ
                - Hadamard(Z, RowRepeat(Transpose(Diag(Transpose(Z) * DZ)), N)));
        TestData.AssertClose(DX, layer.DX, 1e-12, "DX");
        TestData.AssertClose(ColumnsSum(DY), layer.DBeta, 1e-14, "Dβ");
        TestData.AssertClose(ColumnsSum(Hadamard(Z, DY)), layer.DGamma, 1e-14, "Dγ");
    }

    [Fact]
    public void Softmax_layer_DZ_equals_the_diag_form()
    {
        var rng = new Rng(8);
        var layer = new SoftmaxLayer<double>(4, 5, rng);
        var X = TestData.Random(6, 4, rng);
        var DY = TestData.Random(6, 5, rng);
        var Y = new Matrix<double>(0, 0);
        layer.Feedforward(X, Y);
        layer.Backpropagate(Y, DY);
        // DZ = Y ⊙ (DY − column_repeat(diag(DY·Yᵀ), K))
        var DZ = Hadamard(Y, DY - ColumnRepeat(Diag(DY * Transpose(Y)), 5));
        TestData.AssertClose(DZ, layer.DZ, 1e-14, "softmax DZ");
        TestData.AssertClose(Transpose(DZ) * X, layer.DW, 1e-14, "DW = DZᵀ·X");
        TestData.AssertClose(DZ * layer.W, layer.DX, 1e-14, "DX = DZ·W");
    }

    [Fact]
    public void Log_softmax_layer_DZ_equals_equation_17()
    {
        var rng = new Rng(9);
        var layer = new LogSoftmaxLayer<double>(3, 4, rng);
        var X = TestData.Random(5, 3, rng);
        var DY = TestData.Random(5, 4, rng);
        var Y = new Matrix<double>(0, 0);
        layer.Feedforward(X, Y);
        layer.Backpropagate(Y, DY);
        // DZ = DY − softmax(Z) ⊙ column_repeat(rows_sum(DY), K)
        var DZ = DY - Hadamard(SoftmaxFunctions.Softmax(layer.Z), ColumnRepeat(RowsSum(DY), 4));
        TestData.AssertClose(DZ, layer.DZ, 1e-14, "log-softmax DZ");
    }

    [Fact]
    public void Dropout_layer_follows_the_masked_equations()
    {
        var rng = new Rng(10);
        var layer = new LinearLayer<double>(6, 4, rng, dropout: 0.5);
        layer.RenewDropoutMask(rng);
        var X = TestData.Random(3, 6, rng);
        var DY = TestData.Random(3, 4, rng);
        var Y = new Matrix<double>(0, 0);
        layer.Feedforward(X, Y);
        layer.Backpropagate(Y, DY);
        var WR = Hadamard(layer.W, layer.R);
        TestData.AssertClose(X * Transpose(WR) + RowRepeat(layer.B, 3), Y, 1e-14, "Y = X·(W ⊙ R)ᵀ + 1_N·b");
        TestData.AssertClose(Hadamard(Transpose(DY) * X, layer.R), layer.DW, 1e-14, "DW = (DYᵀ·X) ⊙ R");
        TestData.AssertClose(DY * WR, layer.DX, 1e-14, "DX = DY·(W ⊙ R)");
    }
}
