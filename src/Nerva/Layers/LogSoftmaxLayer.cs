using System.Numerics;
using Nerva.Optimizers;

namespace Nerva.Layers;

/// <summary>
/// The log-softmax layer of seed 000 §4, with the backpropagation derived in §4.1, equation (17).
/// <code>
/// feedforward:  Z  = X·Wᵀ + 1_N·b
///               Y  = log-softmax(Z)                      (the stable form, row-wise)
/// backprop:     DZ = DY − softmax(Z) ⊙ (DY·1_K·1_Kᵀ)
///               DW = DZᵀ·X;  Db = 1_Nᵀ·DZ;  DX = DZ·W
/// </code>
/// softmax(Z) is recovered from the output as e^Y.
/// </summary>
public sealed class LogSoftmaxLayer<T>(int D, int K, Rng? rng = null, WeightInitializer? weights = null, OptimizerSpec? optimizer = null, double dropout = 0, double density = 1)
    : LinearLayer<T>(D, K, rng, weights, optimizer, dropout, density) where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Z = X·Wᵀ + 1·b of the last feedforward.</summary>
    public Matrix<T> Z { get; private set; } = new(0, 0);

    /// <summary>DZ, the gradient with respect to Z.</summary>
    public Matrix<T> DZ { get; } = new(0, 0);

    /// <inheritdoc/>
    private protected override void RenewBuffers()
    {
        base.RenewBuffers();
        Z = new Matrix<T>(0, 0);
    }

    /// <inheritdoc/>
    protected override void FeedforwardCore(Matrix<T> Y)
    {
        Z.Resize(X.Rows, OutputSize);
        // Z = X·Wᵀ + 1_N·b
        Affine(Z);
        // Y = log-softmax(Z)
        SoftmaxFunctions.StableLogSoftmax(Z, Y);
    }

    /// <inheritdoc/>
    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY)
    {
        DZ.Resize(X.Rows, OutputSize);
        // DZ = DY − softmax(Z) ⊙ (DY·1_K·1_Kᵀ), with softmax(Z) = e^Y and (DY·1_K)_i = Σ_j DY_ij
        for (int i = 0; i < DZ.Rows; i++)
        {
            var y = Y.Row(i);
            var dy = DY.Row(i);
            var dz = DZ.Row(i);
            T rowSum = T.Zero;
            for (int j = 0; j < dy.Length; j++) rowSum += dy[j];
            for (int j = 0; j < dy.Length; j++) dz[j] = dy[j] - T.Exp(y[j]) * rowSum;
        }
        // DW = DZᵀ·X;  Db = 1_Nᵀ·DZ;  DX = DZ·W
        AffineBackpropagate(DZ);
    }

    /// <inheritdoc/>
    protected override string ActivationText => "LogSoftmax()";
}
