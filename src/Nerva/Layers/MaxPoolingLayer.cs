using System.Globalization;
using System.Numerics;

namespace Nerva.Layers;

/// <summary>
/// Max pooling: every channel's k×k windows, moved by the stride s (default k), each give their largest pixel. As a
/// matrix it is a selection: Y = X·Sᵀ with S holding one 1 per row, in the column of the window's first maximum, so
/// <code>
/// feedforward:  Y[n, (c·H' + i)·W' + j] = max over (u, v) of X[n, (c·H + i·s + u)·W + j·s + v]   (first maximum)
/// backprop:     DX = DY·S              (each DY entry goes to the pixel that was its window's maximum; overlapping
///                                       windows add)
/// </code>
/// The position of every maximum is kept from the feedforward. No padding; a window must fit (⌊(H − k)/s⌋ + 1 rows).
/// </summary>
public sealed class MaxPoolingLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private int[] _argmax = [];

    /// <summary>Pooling of <paramref name="input"/> images with k×k windows moved by <paramref name="stride"/> (default k).</summary>
    public MaxPoolingLayer(ImageShape input, int kernel, int? stride = null)
    {
        if (kernel < 1) throw new ArgumentOutOfRangeException(nameof(kernel), $"the window must be at least 1×1, got {kernel}");
        Stride = stride ?? kernel;
        if (Stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), $"the stride must be at least 1, got {Stride}");
        Input = input;
        Kernel = kernel;
        Output = input.Slide(input.Channels, kernel, kernel, Stride, 0) ?? throw new ArgumentException($"a {kernel}×{kernel} window does not fit {input} images", nameof(kernel));
    }

    public ImageShape Input { get; }

    public ImageShape Output { get; }

    public int Kernel { get; }

    public int Stride { get; }

    public override int InputSize => Input.Size;

    public override int OutputSize => Output.Size;

    protected override void FeedforwardCore(Matrix<T> Y)
    {
        int N = X.Rows, K = OutputSize;
        if (_argmax.Length < N * K) _argmax = new int[N * K];
        ConvolutionLayer<T>.ForSamples(N, n =>
        {
            var x = X.Row(n);
            var y = Y.Row(n);
            var argmax = _argmax.AsSpan(n * K, K);
            for (int c = 0, o = 0; c < Output.Channels; c++)
                for (int i = 0; i < Output.Height; i++)
                    for (int j = 0; j < Output.Width; j++, o++)
                    {
                        int best = (c * Input.Height + i * Stride) * Input.Width + j * Stride;
                        for (int u = 0; u < Kernel; u++)
                            for (int v = 0; v < Kernel; v++)
                            {
                                int at = (c * Input.Height + i * Stride + u) * Input.Width + j * Stride + v;
                                if (x[at] > x[best]) best = at;
                            }
                        argmax[o] = best;
                        y[o] = x[best];
                    }
        });
    }

    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY)
    {
        if (!ComputeInputGradient) return;
        int K = OutputSize;
        // DX = DY·S: each DY entry to its window's maximum
        ConvolutionLayer<T>.ForSamples(X.Rows, n =>
        {
            var dx = DX.Row(n);
            var dy = DY.Row(n);
            var argmax = _argmax.AsSpan(n * K, K);
            dx.Clear();
            for (int o = 0; o < K; o++) dx[argmax[o]] += dy[o];
        });
    }

    /// <summary>In the <c>--layers</c> grammar.</summary>
    internal string LayerSpec => Stride == Kernel ? $"MaxPool({Kernel})" : string.Create(CultureInfo.InvariantCulture, $"MaxPool(kernel={Kernel}, stride={Stride})");

    public override string ToString() => $"MaxPooling(input={Input}, output={Output}, kernel={Kernel}, stride={Stride})";
}
