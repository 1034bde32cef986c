using System.Numerics;

namespace Nerva.Losses;

/// <summary>
/// Binary cross-entropy for a sigmoid output Y ∈ (0, 1) (seed 001 Definition 5, seed 003 "scalar output",
/// seed 004 §2.5), element-wise for any number of independent binary outputs:
/// L_BCE(Y, T) = −1_Nᵀ·(T ⊙ log(Y) + (1 − T) ⊙ log(1 − Y))·1_K;  ∇_Y L_BCE = (Y − T) ⊙ 1/(Y ⊙ (1 − Y)).
/// Behind a sigmoid layer the chain rule gives DZ = Y − T (seed 003); the tests check that.
/// </summary>
public sealed class BinaryCrossEntropyLoss : ILossFunction
{
    /// <inheritdoc/>
    public double Value<T>(Matrix<T> Y, Matrix<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Loss.CheckShapes("BinaryCrossEntropyLoss", Y, targets);
        return -Loss.Sum(Y, targets, (y, t) => (t == 0 ? 0 : t * Math.Log(y)) + (t == 1 ? 0 : (1 - t) * Math.Log(1 - y)));
    }

    /// <inheritdoc/>
    public void Gradient<T>(Matrix<T> Y, Matrix<T> targets, Matrix<T> DY) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Loss.CheckShapes("BinaryCrossEntropyLoss", Y, targets);
        DY.Resize(Y.Rows, Y.Cols);
        var y = Y.AsSpan();
        var t = targets.AsSpan();
        var dy = DY.AsSpan();
        // (Y − T)/(Y ⊙ (1 − Y)) as −T/Y + (1 − T)/(1 − Y), each term dropped where its factor is 0 (as in the value): a
        // float32 sigmoid rounds to exactly 1 or 0, and there the quotient is 0/0 although the gradient is −1 or 1
        for (int k = 0; k < dy.Length; k++)
            dy[k] = (t[k] == T.Zero ? T.Zero : -t[k] / y[k]) + (t[k] == T.One ? T.Zero : (T.One - t[k]) / (T.One - y[k]));
    }

    /// <inheritdoc/>
    public override string ToString() => "BinaryCrossEntropyLoss()";
}
