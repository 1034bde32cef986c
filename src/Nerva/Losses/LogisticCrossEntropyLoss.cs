using System.Numerics;

namespace Nerva.Losses;

/// <summary>
/// Logistic cross-entropy, seed 000 equation (32), on logits Y:
/// L_LCE(Y, T) = −1_Nᵀ·(T ⊙ log(σ(Y)))·1_K;  ∇_Y L_LCE = T ⊙ σ(Y) − T. log σ is the stable log_sigmoid.
/// </summary>
public sealed class LogisticCrossEntropyLoss : ILossFunction
{
    /// <inheritdoc/>
    public double Value<T>(Matrix<T> Y, Matrix<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Loss.CheckShapes("LogisticCrossEntropyLoss", Y, targets);
        return -Loss.Sum(Y, targets, (y, t) => t == 0 ? 0 : t * MatrixOperations.LogSigmoid(y));
    }

    /// <inheritdoc/>
    public void Gradient<T>(Matrix<T> Y, Matrix<T> targets, Matrix<T> DY) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Loss.CheckShapes("LogisticCrossEntropyLoss", Y, targets);
        DY.Resize(Y.Rows, Y.Cols);
        var y = Y.AsSpan();
        var t = targets.AsSpan();
        var dy = DY.AsSpan();
        for (int k = 0; k < dy.Length; k++) dy[k] = t[k] * MatrixOperations.Sigmoid(y[k]) - t[k];
    }

    /// <inheritdoc/>
    public override string ToString() => "LogisticCrossEntropyLoss()";
}
