using System.Numerics;

namespace Nerva.Losses;

/// <summary>
/// Cross-entropy, seed 000 equation (30): L_CE(Y, T) = −1_Nᵀ·(T ⊙ log(Y))·1_K; ∇_Y L_CE = −T ⊙ (1/Y).
/// Y must hold probabilities (the output of a softmax layer, say).
/// </summary>
public sealed class CrossEntropyLoss : ILossFunction
{
    /// <inheritdoc/>
    public double Value<T>(Matrix<T> Y, Matrix<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Loss.CheckShapes("CrossEntropyLoss", Y, targets);
        return -Loss.Sum(Y, targets, (y, t) => t == 0 ? 0 : t * Math.Log(y));
    }

    /// <inheritdoc/>
    public void Gradient<T>(Matrix<T> Y, Matrix<T> targets, Matrix<T> DY) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Loss.CheckShapes("CrossEntropyLoss", Y, targets);
        DY.Resize(Y.Rows, Y.Cols);
        var y = Y.AsSpan();
        var t = targets.AsSpan();
        var dy = DY.AsSpan();
        for (int k = 0; k < dy.Length; k++) dy[k] = t[k] == T.Zero ? T.Zero : -t[k] / y[k];
    }

    /// <inheritdoc/>
    public override string ToString() => "CrossEntropyLoss()";
}
