using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Nerva.Kernels;

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
public sealed class MaxPoolingLayer<T> : PoolingLayer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private int[] _argmax = [];

    /// <summary>Pooling of <paramref name="input"/> images with k×k windows moved by <paramref name="stride"/> (default k).</summary>
    public MaxPoolingLayer(ImageShape input, int kernel, int? stride = null) : base(input, kernel, stride)
    {
    }

    private protected override string Name => "MaxPool";

    /// <inheritdoc/>
    private protected override void RenewBuffers() => _argmax = [];

    /// <inheritdoc/>
    protected override void FeedforwardCore(Matrix<T> Y)
    {
        int N = X.Rows, K = OutputSize;
        if (_argmax.Length < N * K) _argmax = new int[N * K];
        Parallelism.For(N, (long)N * InputSize, new Forward(this, Y));
    }

    /// <inheritdoc/>
    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY)
    {
        if (ComputeInputGradient) Parallelism.For(X.Rows, (long)X.Rows * InputSize, new Backward(this, DY));
    }

    /// <summary>
    /// Sample n: every window's first maximum, its value and position. Branch-free (a comparison as 0 or 1 moves the
    /// position, max moves the value): on real data which pixel wins is a coin toss that a branch predictor keeps losing.
    /// </summary>
    private readonly struct Forward(MaxPoolingLayer<T> layer, Matrix<T> Y) : IParallelBody
    {
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public void Run(int n)
        {
            var (input, output, k, stride) = (layer.Input, layer.Output, layer.Kernel, layer.Stride);
            ReadOnlySpan<T> row = layer.X.Row(n);
            var y = Y.Row(n);
            var argmax = layer._argmax.AsSpan(n * y.Length, y.Length);
            ref T x = ref MemoryMarshal.GetReference(row);
            for (int c = 0, o = 0; c < output.Channels; c++)
                for (int i = 0; i < output.Height; i++)
                {
                    int top = (c * input.Height + i * stride) * input.Width;
                    for (int j = 0; j < output.Width; j++, o++)
                    {
                        int best = top + j * stride;
                        T max = Unsafe.Add(ref x, best);
                        for (int u = 0; u < k; u++)
                            for (int v = 0, at = top + u * input.Width + j * stride; v < k; v++, at++)
                            {
                                T value = Unsafe.Add(ref x, at);
                                int larger = value > max ? 1 : 0;
                                best += larger * (at - best);
                                max = T.Max(max, value);
                            }
                        argmax[o] = best;
                        y[o] = max;
                    }
                }
        }
    }

    /// <summary>Sample n: DX = DY·S, each DY entry to its window's maximum.</summary>
    private readonly struct Backward(MaxPoolingLayer<T> layer, Matrix<T> DY) : IParallelBody
    {
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public void Run(int n)
        {
            var dx = layer.DX.Row(n);
            ReadOnlySpan<T> dy = DY.Row(n);
            ReadOnlySpan<int> argmax = layer._argmax.AsSpan(n * dy.Length, dy.Length);
            dx.Clear();
            for (int o = 0; o < dy.Length; o++) dx[argmax[o]] += dy[o];
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"MaxPooling(input={Input}, output={Output}, kernel={Kernel}, stride={Stride})";
}
