using System.Numerics;
using Nerva.Activations;
using Nerva.Optimizers;

namespace Nerva.Layers;

/// <summary>
/// The activation layer of seed 000 §4 (and the activation dropout layer, through <see cref="LinearLayer{T}"/>).
/// <code>
/// feedforward:  Z  = X·Wᵀ + 1_N·b
///               Y  = act(Z)
/// backprop:     DZ = DY ⊙ act'(Z)
///               DW = DZᵀ·X
///               Db = 1_Nᵀ·DZ
///               DX = DZ·W
/// </code>
/// </summary>
public class ActivationLayer<T, TAct> : LinearLayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TAct : struct, IActivationFunction<T>
{
    /// <summary>A linear layer D → K followed by <paramref name="activation"/>: weights drawn by <paramref name="weights"/> (Xavier by default), optimized by <paramref name="optimizer"/>, DropConnect rate <paramref name="dropout"/>, sparse below <paramref name="density"/> 1.</summary>
    public ActivationLayer(int D, int K, TAct activation, Rng? rng = null, WeightInitializer? weights = null, OptimizerSpec? optimizer = null, double dropout = 0, double density = 1)
        : base(D, K, rng, weights, optimizer, dropout, density)
    {
        if (!activation.IsConstructed)
            throw new ArgumentException($"default({typeof(TAct).Name.Split('`')[0]}) has all its parameters 0: construct it with them, e.g. new LeakyReLU<float>(0.1f)", nameof(activation));
        Activation = activation;
    }

    /// <summary>act.</summary>
    public TAct Activation { get; protected set; }

    /// <summary>act as an object, for code that handles every activation type (ONNX export).</summary>
    internal object BoxedActivation => Activation;

    /// <summary>Z = X·Wᵀ + 1_N·b.</summary>
    public Matrix<T> Z { get; private set; } = new(0, 0);

    /// <summary>DZ = ∇_Z L.</summary>
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
        // Y = act(Z)
        ActivationKernels.Value(Activation, Z.AsSpan(), Y.AsSpan());
    }

    /// <inheritdoc/>
    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY)
    {
        DZ.Resize(X.Rows, OutputSize);
        // DZ = DY ⊙ act'(Z)
        ActivationKernels.Backpropagate(Activation, Z.AsSpan(), DY.AsSpan(), DZ.AsSpan());
        // DW = DZᵀ·X;  Db = 1_Nᵀ·DZ;  DX = DZ·W
        AffineBackpropagate(DZ);
    }

    /// <inheritdoc/>
    protected override string ActivationText => Activation.ToString() ?? "";
}
