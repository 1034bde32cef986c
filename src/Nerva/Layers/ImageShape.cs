namespace Nerva.Layers;

/// <summary>
/// The shape C×H×W of the images a convolution or pooling layer sees. A batch holds one image per row, channels first:
/// pixel (c, i, j) of sample n is X[n, (c·H + i)·W + j], so a convolutional stack feeds dense layers unchanged.
/// </summary>
public readonly record struct ImageShape
{
    /// <summary>C channels of H×W pixels; every dimension at least 1.</summary>
    public ImageShape(int channels, int height, int width)
    {
        if (channels < 1 || height < 1 || width < 1) throw new ArgumentOutOfRangeException(nameof(channels), $"an image needs at least 1×1×1 pixels, got {channels}×{height}×{width}");
        if ((long)channels * height * width > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(channels), $"{channels}×{height}×{width} pixels are too many for one row");
        Channels = channels;
        Height = height;
        Width = width;
    }

    /// <summary>C, the channels.</summary>
    public int Channels { get; }

    /// <summary>H, the rows of pixels.</summary>
    public int Height { get; }

    /// <summary>W, the columns of pixels.</summary>
    public int Width { get; }

    /// <summary>C·H·W, the length of one row.</summary>
    public int Size => Channels * Height * Width;

    /// <summary>
    /// The shape after a window of kh×kw moved by <paramref name="stride"/> over the image padded by
    /// <paramref name="padding"/> zeros on every side: ⌊(H + 2p − kh)/s⌋ + 1 by ⌊(W + 2p − kw)/s⌋ + 1, with
    /// <paramref name="channels"/> channels; null when the window does not fit.
    /// </summary>
    public ImageShape? Slide(int channels, int kh, int kw, int stride, int padding)
    {
        long h = (long)Height + 2L * padding - kh, w = (long)Width + 2L * padding - kw;
        if (h < 0 || w < 0 || stride < 1 || channels < 1) return null;
        return new ImageShape(channels, (int)(h / stride + 1), (int)(w / stride + 1));
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Channels}×{Height}×{Width}";
}
