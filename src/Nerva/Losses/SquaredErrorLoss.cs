using System.Numerics;

namespace Nerva.Losses;

/// <summary>
/// Squared error, seed 000 equation (29): L_SE(Y, T) = 1_Nᵀ·((Y − T) ⊙ (Y − T))·1_K; ∇_Y L_SE = 2(Y − T).
/// </summary>
public sealed class SquaredErrorLoss : ILossFunction
{
    /// <inheritdoc/>
    public double Value<T>(Matrix<T> Y, Matrix<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Loss.CheckShapes("SquaredErrorLoss", Y, targets);
        return Loss.Sum(Y, targets, (y, t) => (y - t) * (y - t));
    }

    /// <inheritdoc/>
    public void Gradient<T>(Matrix<T> Y, Matrix<T> targets, Matrix<T> DY) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Loss.CheckShapes("SquaredErrorLoss", Y, targets);
        DY.Resize(Y.Rows, Y.Cols);
        var y = Y.AsSpan();
        var t = targets.AsSpan();
        var dy = DY.AsSpan();
        T two = T.CreateChecked(2);
        for (int k = 0; k < dy.Length; k++) dy[k] = two * (y[k] - t[k]);
    }

    /// <inheritdoc/>
    public override string ToString() => "SquaredErrorLoss()";
}
