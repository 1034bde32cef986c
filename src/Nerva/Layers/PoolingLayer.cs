using System.Globalization;
using System.Numerics;

namespace Nerva.Layers;

/// <summary>
/// What max and average pooling share: images of <see cref="Input"/>'s shape, k×k windows moved by a stride (default k)
/// over every channel without padding, so ⌊(H − k)/s⌋ + 1 by ⌊(W − k)/s⌋ + 1 windows per channel; a window must fit.
/// </summary>
public abstract class PoolingLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pooling of <paramref name="input"/> images with k×k windows moved by <paramref name="stride"/> (default k).</summary>
    protected PoolingLayer(ImageShape input, int kernel, int? stride)
    {
        if (kernel < 1) throw new ArgumentOutOfRangeException(nameof(kernel), $"the window must be at least 1×1, got {kernel}");
        Stride = stride ?? kernel;
        if (Stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), $"the stride must be at least 1, got {Stride}");
        Input = input;
        Kernel = kernel;
        Output = input.Slide(input.Channels, kernel, kernel, Stride, 0) ?? throw new ArgumentException($"a {kernel}×{kernel} window does not fit {input} images", nameof(kernel));
    }

    /// <summary>The input images.</summary>
    public ImageShape Input { get; }

    /// <summary>The output images: the same channels, one value per window.</summary>
    public ImageShape Output { get; }

    /// <summary>k, the side of a window.</summary>
    public int Kernel { get; }

    /// <summary>s, the step between windows.</summary>
    public int Stride { get; }

    /// <inheritdoc/>
    public override int InputSize => Input.Size;

    /// <inheritdoc/>
    public override int OutputSize => Output.Size;

    /// <summary>The name in the <c>--layers</c> grammar: MaxPool or AvgPool.</summary>
    private protected abstract string Name { get; }

    internal override string LayerSpec => Stride == Kernel ? $"{Name}({Kernel})" : string.Create(CultureInfo.InvariantCulture, $"{Name}(kernel={Kernel}, stride={Stride})");
}
