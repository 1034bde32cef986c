using System.Numerics;
using Nerva.Optimizers;

namespace Nerva.Layers;

/// <summary>
/// The softmax layer of seed 000 §4.
/// <code>
/// feedforward:  Z  = X·Wᵀ + 1_N·b
///               Y  = softmax(Z)                          (the stable form, row-wise)
/// backprop:     DZ = Y ⊙ (DY − diag(DY·Yᵀ)·1_Kᵀ)
///               DW = DZᵀ·X;  Db = 1_Nᵀ·DZ;  DX = DZ·W
/// </code>
/// diag(DY·Yᵀ) is not formed as an N×N product: its i-th entry is the row dot product Σ_j DY_ij·Y_ij,
/// which costs O(N·K). The tests compare this with the literal equation.
/// </summary>
public sealed class SoftmaxLayer<T>(int D, int K, Rng? rng = null, WeightInitializer? weights = null, OptimizerSpec? optimizer = null, double dropout = 0, double density = 1)
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
        // Y = softmax(Z)
        SoftmaxFunctions.StableSoftmax(Z, Y);
    }

    /// <inheritdoc/>
    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY)
    {
        DZ.Resize(X.Rows, OutputSize);
        // DZ = Y ⊙ (DY − diag(DY·Yᵀ)·1_Kᵀ), with diag(DY·Yᵀ)_i = Σ_j DY_ij·Y_ij
        for (int i = 0; i < DZ.Rows; i++)
        {
            var y = Y.Row(i);
            var dy = DY.Row(i);
            var dz = DZ.Row(i);
            T dot = T.Zero;
            for (int j = 0; j < y.Length; j++) dot += dy[j] * y[j];
            for (int j = 0; j < y.Length; j++) dz[j] = y[j] * (dy[j] - dot);
        }
        // DW = DZᵀ·X;  Db = 1_Nᵀ·DZ;  DX = DZ·W
        AffineBackpropagate(DZ);
    }

    /// <inheritdoc/>
    protected override string ActivationText => "Softmax()";
}
