using Nerva;
using static Nerva.MatrixOperations;

namespace Nerva.Tests;

/// <summary>The softmax functions of seed 000 §5.1: definitions, stability and Jacobians (26) and (27).</summary>
public sealed class SoftmaxFunctionTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(6)]
    public void Jacobians_26_and_27_match_finite_differences(int D)
    {
        var rng = new Rng((ulong)D);
        var x = TestData.Random(1, D, rng, -3, 3);
        var numericSoftmax = new Matrix<double>(D, D);
        var numericLogSoftmax = new Matrix<double>(D, D);
        for (int i = 0; i < D; i++)
        {
            // Row i of the Jacobian: the derivatives of output i with respect to every input.
            var rowS = TestData.FiniteDifferences(x, () => SoftmaxFunctions.StableSoftmax(x)[0, i]);
            var rowL = TestData.FiniteDifferences(x, () => SoftmaxFunctions.StableLogSoftmax(x)[0, i]);
            rowS.AsSpan().CopyTo(numericSoftmax.Row(i));
            rowL.AsSpan().CopyTo(numericLogSoftmax.Row(i));
        }
        TestData.AssertClose(numericSoftmax, SoftmaxFunctions.SoftmaxJacobian(x), 1e-7, "softmax Jacobian (26)");
        TestData.AssertClose(numericLogSoftmax, SoftmaxFunctions.LogSoftmaxJacobian(x), 1e-7, "log-softmax Jacobian (27)");
    }

    [Fact]
    public void Stable_and_plain_forms_agree_on_moderate_inputs()
    {
        var X = TestData.Random(5, 4, new Rng(1), -5, 5);
        TestData.AssertClose(SoftmaxFunctions.Softmax(X), SoftmaxFunctions.StableSoftmax(X), 1e-15, "softmax");
        TestData.AssertClose(SoftmaxFunctions.LogSoftmax(X), SoftmaxFunctions.StableLogSoftmax(X), 1e-14, "log-softmax");
        // log-softmax(X) = log(softmax(X))
        TestData.AssertClose(Log(SoftmaxFunctions.StableSoftmax(X)), SoftmaxFunctions.StableLogSoftmax(X), 1e-14, "log ∘ softmax");
        // The matrix form e^X ⊙ (1/(e^X·1_D)·1_Dᵀ).
        var E = Exp(X);
        TestData.AssertClose(Hadamard(E, ColumnRepeat(Reciprocal(RowsSum(E)), 4)), SoftmaxFunctions.StableSoftmax(X), 1e-15, "matrix form");
    }

    [Fact]
    public void Softmax_of_large_inputs_does_not_overflow()
    {
        var x = Matrix<float>.FromRows([1000, 1001, 1002], [-1e30, 0, 1e30]);
        var y = SoftmaxFunctions.StableSoftmax(x);
        float e1 = MathF.Exp(-1), e2 = MathF.Exp(-2), sum = 1 + e1 + e2;
        Assert.Equal(e2 / sum, y[0, 0], 6);
        Assert.Equal(1 / sum, y[0, 2], 6);
        Assert.Equal([0f, 0f, 1f], y.Row(1).ToArray());
        var logY = SoftmaxFunctions.StableLogSoftmax(x);
        Assert.Equal(-MathF.Log(sum), logY[0, 2], 5);
        Assert.True(float.IsNaN(SoftmaxFunctions.Softmax(x)[0, 0]), "the plain form overflows, which is why the layers use the stable one");
    }

    [Fact]
    public void Rows_are_independent_and_sum_to_one()
    {
        var X = TestData.Random(7, 3, new Rng(2), -50, 50);
        var Y = SoftmaxFunctions.StableSoftmax(X);
        foreach (var s in RowsSum(Y).AsSpan().ToArray()) Assert.Equal(1, s, 14);
        var row = new Matrix<double>(1, 3);
        X.Row(4).CopyTo(row.AsSpan());
        Assert.Equal(SoftmaxFunctions.StableSoftmax(row).AsSpan().ToArray(), Y.Row(4).ToArray());
    }
}
