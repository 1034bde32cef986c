using System.Numerics;

namespace Nerva.Losses;

/// <summary>
/// Softmax cross-entropy, seed 000 equation (31), on logits Y:
/// L_SCE(Y, T) = −1_Nᵀ·(T ⊙ log-softmax(Y))·1_K;  ∇_Y L_SCE = softmax(Y) ⊙ (T·1_K·1_Kᵀ) − T.
/// Unlike the original, log-softmax and softmax are the stable (max-shifted) forms, so large logits
/// neither overflow nor give NaN.
/// </summary>
public sealed class SoftmaxCrossEntropyLoss : ILossFunction
{
    /// <inheritdoc/>
    public double Value<T>(Matrix<T> Y, Matrix<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Loss.CheckShapes("SoftmaxCrossEntropyLoss", Y, targets);
        double sum = 0;
        for (int i = 0; i < Y.Rows; i++)
        {
            var y = Y.Row(i);
            var t = targets.Row(i);
            double max = double.CreateChecked(MatrixOperations.RowMax<T>(y)), exps = 0;
            for (int j = 0; j < y.Length; j++) exps += Math.Exp(double.CreateChecked(y[j]) - max);
            double logSum = max + Math.Log(exps);
            // −t·log-softmax(y)ᵀ with log-softmax(y)_j = y_j − log Σ e^y
            for (int j = 0; j < y.Length; j++)
                if (t[j] != T.Zero) sum -= double.CreateChecked(t[j]) * (double.CreateChecked(y[j]) - logSum);
        }
        return sum;
    }

    /// <inheritdoc/>
    public void Gradient<T>(Matrix<T> Y, Matrix<T> targets, Matrix<T> DY) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Loss.CheckShapes("SoftmaxCrossEntropyLoss", Y, targets);
        SoftmaxFunctions.StableSoftmax(Y, DY);
        for (int i = 0; i < Y.Rows; i++)
        {
            var t = targets.Row(i);
            var dy = DY.Row(i);
            // (T·1_K)_i
            T rowSum = T.Zero;
            for (int j = 0; j < t.Length; j++) rowSum += t[j];
            for (int j = 0; j < dy.Length; j++) dy[j] = dy[j] * rowSum - t[j];
        }
    }

    /// <inheritdoc/>
    public override string ToString() => "SoftmaxCrossEntropyLoss()";
}
