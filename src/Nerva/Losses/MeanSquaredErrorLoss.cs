using System.Numerics;

namespace Nerva.Losses;

/// <summary>Mean squared error (seed 000 §6): L_MSE(Y, T) = L_SE(Y, T)/(K·N); ∇_Y L_MSE = 2(Y − T)/(K·N).</summary>
public sealed class MeanSquaredErrorLoss : ILossFunction
{
    private static readonly SquaredErrorLoss SquaredError = new();

    /// <inheritdoc/>
    public double Value<T>(Matrix<T> Y, Matrix<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
        => SquaredError.Value(Y, targets) / ((double)Y.Rows * Y.Cols);

    /// <inheritdoc/>
    public void Gradient<T>(Matrix<T> Y, Matrix<T> targets, Matrix<T> DY) where T : unmanaged, IFloatingPointIeee754<T>
    {
        SquaredError.Gradient(Y, targets, DY);
        T scale = T.One / T.CreateChecked((double)Y.Rows * Y.Cols);
        var dy = DY.AsSpan();
        for (int k = 0; k < dy.Length; k++) dy[k] *= scale;
    }

    /// <inheritdoc/>
    public override string ToString() => "MeanSquaredErrorLoss()";
}
