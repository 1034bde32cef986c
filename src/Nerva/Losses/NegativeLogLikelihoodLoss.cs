using System.Numerics;

namespace Nerva.Losses;

/// <summary>
/// Negative log-likelihood, seed 000 equation (33): L_NLL(Y, T) = −1_Nᵀ·log((Y ⊙ T)·1_K);
/// ∇_Y L_NLL = −(1/((Y ⊙ T)·1_K)·1_Kᵀ) ⊙ T. Y must hold probabilities.
/// </summary>
/// <remarks>The seed prints a trailing ·1_K on the value, which does not typecheck for an N×1 vector; it is dropped.</remarks>
public sealed class NegativeLogLikelihoodLoss : ILossFunction
{
    /// <inheritdoc/>
    public double Value<T>(Matrix<T> Y, Matrix<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Loss.CheckShapes("NegativeLogLikelihoodLoss", Y, targets);
        double sum = 0;
        for (int i = 0; i < Y.Rows; i++) sum -= Math.Log(double.CreateChecked(RowDot(Y.Row(i), targets.Row(i))));
        return sum;
    }

    /// <inheritdoc/>
    public void Gradient<T>(Matrix<T> Y, Matrix<T> targets, Matrix<T> DY) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Loss.CheckShapes("NegativeLogLikelihoodLoss", Y, targets);
        DY.Resize(Y.Rows, Y.Cols);
        for (int i = 0; i < Y.Rows; i++)
        {
            var t = targets.Row(i);
            var dy = DY.Row(i);
            T inverse = T.One / RowDot(Y.Row(i), t);
            for (int j = 0; j < dy.Length; j++) dy[j] = -inverse * t[j];
        }
    }

    // ((Y ⊙ T)·1_K)_i
    private static T RowDot<T>(ReadOnlySpan<T> y, ReadOnlySpan<T> t) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        for (int j = 0; j < y.Length; j++) sum += y[j] * t[j];
        return sum;
    }

    /// <inheritdoc/>
    public override string ToString() => "NegativeLogLikelihoodLoss()";
}
