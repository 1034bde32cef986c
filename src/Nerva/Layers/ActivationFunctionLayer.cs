using System.Numerics;
using Nerva.Activations;

namespace Nerva.Layers;

/// <summary>
/// An activation on its own, after a layer that has none (a convolution or a pooling layer), element by element:
/// <code>
/// feedforward:  Y  = act(X)
/// backprop:     DX = DY ⊙ act'(X)
/// </code>
/// (A dense layer carries its activation itself: <see cref="ActivationLayer{T, TAct}"/>.)
/// </summary>
public sealed class ActivationFunctionLayer<T, TAct> : Layer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
    where TAct : struct, IActivationFunction<T>
{
    /// <summary>act on rows of <paramref name="size"/> values.</summary>
    public ActivationFunctionLayer(int size, TAct activation)
    {
        if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), $"a layer needs at least one value, got {size}");
        if (!activation.IsConstructed)
            throw new ArgumentException($"default({typeof(TAct).Name.Split('`')[0]}) has all its parameters 0: construct it with them", nameof(activation));
        InputSize = size;
        Activation = activation;
    }

    /// <summary>act.</summary>
    public TAct Activation { get; }

    /// <summary>act as an object, for code that handles every activation type (ONNX export).</summary>
    internal object BoxedActivation => Activation;

    /// <inheritdoc/>
    public override int InputSize { get; }

    /// <inheritdoc/>
    public override int OutputSize => InputSize;

    // Y = act(X)
    /// <inheritdoc/>
    protected override void FeedforwardCore(Matrix<T> Y) => ActivationKernels.Value(Activation, X.AsSpan(), Y.AsSpan());

    /// <inheritdoc/>
    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY)
    {
        // DX = DY ⊙ act'(X)
        if (ComputeInputGradient) ActivationKernels.Backpropagate(Activation, X.AsSpan(), DY.AsSpan(), DX.AsSpan());
    }

    /// <summary>In the <c>--layers</c> grammar (before Flatten, an activation name is this layer).</summary>
    internal override string LayerSpec => Activation.ToString() is { } text && text.EndsWith("()", StringComparison.Ordinal) ? text[..^2] : Activation.ToString() ?? "";

    /// <inheritdoc/>
    public override string ToString() => $"Activation({Activation}, size={InputSize})";
}
