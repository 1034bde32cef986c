using System.Numerics;
using System.Runtime.CompilerServices;
using Nerva.Kernels;

namespace Nerva.Layers;

/// <summary>
/// Average pooling: every channel's k×k windows, moved by the stride s (default k), each give their mean. As a matrix,
/// Y = X·Aᵀ with A holding 1/k² in the columns of each window's pixels, so
/// <code>
/// feedforward:  Y[n, (c·H' + i)·W' + j] = Σ over (u, v) of X[n, (c·H + i·s + u)·W + j·s + v] / k²
/// backprop:     DX = DY·A              (each DY entry spread as DY/k² over its window; overlapping windows add)
/// </code>
/// No padding; a window must fit.
/// </summary>
public sealed class AveragePoolingLayer<T> : PoolingLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Pooling of <paramref name="input"/> images with k×k windows moved by <paramref name="stride"/> (default k).</summary>
    public AveragePoolingLayer(ImageShape input, int kernel, int? stride = null) : base(input, kernel, stride)
    {
    }

    private protected override string Name => "AvgPool";

    private T Weight => T.One / T.CreateChecked(Kernel * Kernel);

    /// <inheritdoc/>
    protected override void FeedforwardCore(Matrix<T> Y) => Parallelism.For(X.Rows, (long)X.Rows * InputSize, new Forward(this, Y));

    /// <inheritdoc/>
    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY)
    {
        if (ComputeInputGradient) Parallelism.For(X.Rows, (long)X.Rows * InputSize, new Backward(this, DY));
    }

    /// <summary>Sample n: every window's mean.</summary>
    private readonly struct Forward(AveragePoolingLayer<T> layer, Matrix<T> Y) : IParallelBody
    {
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public void Run(int n)
        {
            var (input, output, k, stride, weight) = (layer.Input, layer.Output, layer.Kernel, layer.Stride, layer.Weight);
            ReadOnlySpan<T> x = layer.X.Row(n);
            var y = Y.Row(n);
            for (int c = 0, o = 0; c < output.Channels; c++)
                for (int i = 0; i < output.Height; i++)
                    for (int j = 0; j < output.Width; j++, o++)
                    {
                        T sum = T.Zero;
                        for (int u = 0; u < k; u++)
                            foreach (T v in x.Slice((c * input.Height + i * stride + u) * input.Width + j * stride, k)) sum += v;
                        y[o] = sum * weight;
                    }
        }
    }

    /// <summary>Sample n: DX = DY·A, each DY entry spread as DY/k² over its window.</summary>
    private readonly struct Backward(AveragePoolingLayer<T> layer, Matrix<T> DY) : IParallelBody
    {
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public void Run(int n)
        {
            var (input, output, k, stride, weight) = (layer.Input, layer.Output, layer.Kernel, layer.Stride, layer.Weight);
            var dx = layer.DX.Row(n);
            ReadOnlySpan<T> dy = DY.Row(n);
            dx.Clear();
            for (int c = 0, o = 0; c < output.Channels; c++)
                for (int i = 0; i < output.Height; i++)
                    for (int j = 0; j < output.Width; j++, o++)
                    {
                        T share = dy[o] * weight;
                        for (int u = 0; u < k; u++)
                        {
                            var line = dx.Slice((c * input.Height + i * stride + u) * input.Width + j * stride, k);
                            for (int v = 0; v < line.Length; v++) line[v] += share;
                        }
                    }
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"AveragePooling(input={Input}, output={Output}, kernel={Kernel}, stride={Stride})";
}
