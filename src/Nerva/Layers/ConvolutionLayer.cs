using System.Globalization;
using System.Numerics;
using Nerva.Kernels;
using Nerva.Optimizers;
using static Nerva.MatrixOperations;

namespace Nerva.Layers;

/// <summary>
/// A 2-D convolution layer (the cross-correlation of Fig. 7 that deep-learning libraries call convolution): C input
/// channels to C' output channels, kernels of kh×kw, a stride s and p zeros of padding on every side, one bias per
/// output channel. Rows are images channels-first (<see cref="ImageShape"/>); the P = H'·W' output positions of a
/// sample are taken in row-major order.
/// <para>
/// <b>The Toeplitz form (seed 001 §3.5).</b> Lemma 2 writes X * K = Toep(K)·Vec(Xᵀ): Vec(Xᵀ) stacks the columns of Xᵀ, that
/// is the rows of X, so it is our row of pixels; and Toep(K) has one row per output position (i, j), holding k_{u,v} in
/// column (i·s + u − p)·W + (j·s + v − p) wherever that pixel lies inside the image (a padded pixel contributes 0). The
/// printed example for a 3×3 X and a 2×2 K is garbled: its five rows (one of them ten entries long) should be the four
/// rows of the four output positions, [k1 k2 0 k3 k4 0 0 0 0], [0 k1 k2 0 k3 k4 0 0 0], [0 0 0 k1 k2 0 k3 k4 0] and
/// [0 0 0 0 k1 k2 0 k3 k4]; that is the reading implemented here, over channels summed. Lemma 3's layer is then a linear
/// layer with W = the stacked Toep(K_o) (C'·P × C·H·W) and b = Vec(B_o); its B_o is one bias b_o repeated over the P
/// positions, as in every deep-learning library. The tests build that literal W and compare every output and gradient.
/// </para>
/// <para>
/// <b>The batch form computed.</b> Toep(K) is mostly zeros, so the layer computes the same products on the patches:
/// <code>
/// feedforward:  P  = im2col(X)          (N·P × C·kh·kw: row (n, i, j) is the receptive field of (i, j) in sample n)
///               Z  = P·Wᵀ + 1·b         (N·P × C'; W is C' × C·kh·kw, the kernels as rows)
///               Y  = Z rearranged channels-first:  Y[n, o·P + q] = Z[n·P + q, o]
/// backprop:     DZ = DY rearranged channels-last
///               DW = DZᵀ·P
///               Db = 1ᵀ·DZ
///               DX = col2im(DZ·W)       (each patch entry added back to the pixel it came from)
/// </code>
/// W is stored as PyTorch stores its kernels, (C', C, kh, kw) in C order.
/// </para>
/// </summary>
public sealed class ConvolutionLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Matrix<T> _P = new(0, 0), _Z = new(0, 0), _DZ = new(0, 0), _DP = new(0, 0);

    /// <summary>
    /// A layer from <paramref name="input"/> images to <paramref name="outputChannels"/> channels; the weights drawn by
    /// <paramref name="weights"/> with fan-in C·kh·kw and fan-out C'.
    /// </summary>
    public ConvolutionLayer(ImageShape input, int outputChannels, int kernelHeight, int kernelWidth, int stride = 1, int padding = 0,
        Rng? rng = null, WeightInitializer? weights = null, OptimizerSpec? optimizer = null)
    {
        if (kernelHeight < 1 || kernelWidth < 1) throw new ArgumentOutOfRangeException(nameof(kernelHeight), $"a kernel needs at least 1×1 entries, got {kernelHeight}×{kernelWidth}");
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), $"the stride must be at least 1, got {stride}");
        if (padding < 0 || padding >= Math.Max(kernelHeight, kernelWidth)) throw new ArgumentOutOfRangeException(nameof(padding), $"the padding must be in [0, {Math.Max(kernelHeight, kernelWidth) - 1}] (less than the kernel), got {padding}");
        Input = input;
        Output = input.Slide(outputChannels, kernelHeight, kernelWidth, stride, padding)
            ?? throw new ArgumentException($"a {kernelHeight}×{kernelWidth} kernel with padding {padding} does not fit {input} images", nameof(kernelHeight));
        (KernelHeight, KernelWidth, Stride, Padding) = (kernelHeight, kernelWidth, stride, padding);
        W = new Matrix<T>(outputChannels, input.Channels * kernelHeight * kernelWidth);
        DW = new Matrix<T>(W.Rows, W.Cols);
        b = new Matrix<T>(1, outputChannels);
        Db = new Matrix<T>(1, outputChannels);
        if (optimizer is not null) Optimizer = optimizer;
        (weights ?? WeightInitializer.Xavier).Initialize(W, b, rng ?? new Rng(0));
        AddParameter("W", W, DW);
        AddParameter("b", b, Db);
    }

    public ImageShape Input { get; }

    public ImageShape Output { get; }

    public int KernelHeight { get; }

    public int KernelWidth { get; }

    public int Stride { get; }

    public int Padding { get; }

    public override int InputSize => Input.Size;

    public override int OutputSize => Output.Size;

    /// <summary>The kernels, one row per output channel: W[o, (c·kh + u)·kw + v] = K_o[c, u, v].</summary>
    public Matrix<T> W { get; }

    /// <summary>One bias per output channel.</summary>
    public Matrix<T> b { get; }

    public Matrix<T> DW { get; }

    public Matrix<T> Db { get; }

    private int Positions => Output.Height * Output.Width;

    protected override void FeedforwardCore(Matrix<T> Y)
    {
        int N = X.Rows, P = Positions, C = Output.Channels;
        // P = im2col(X)
        _P.Resize(N * P, W.Cols);
        ForSamples(N, n => Im2Col(n));
        // Z = P·Wᵀ + 1·b
        _Z.Resize(N * P, C);
        Product(_P, W, _Z, transposeB: true);
        // Y[n, o·P + q] = Z[n·P + q, o] (+ b_o)
        ForSamples(N, n =>
        {
            var y = Y.Row(n);
            var bias = b.AsSpan();
            for (int q = 0; q < P; q++)
            {
                var z = _Z.Row(n * P + q);
                for (int o = 0; o < C; o++) y[o * P + q] = z[o] + bias[o];
            }
        });
    }

    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY)
    {
        int N = X.Rows, P = Positions, C = Output.Channels;
        // DZ[n·P + q, o] = DY[n, o·P + q]
        _DZ.Resize(N * P, C);
        ForSamples(N, n =>
        {
            var dy = DY.Row(n);
            for (int q = 0; q < P; q++)
            {
                var dz = _DZ.Row(n * P + q);
                for (int o = 0; o < C; o++) dz[o] = dy[o * P + q];
            }
        });
        // DW = DZᵀ·P;  Db = 1ᵀ·DZ
        Product(_DZ, _P, DW, transposeA: true);
        ColumnsSum(_DZ, Db);
        if (!ComputeInputGradient) return;
        // DX = col2im(DZ·W)
        _DP.Resize(N * P, W.Cols);
        Product(_DZ, W, _DP);
        ForSamples(N, n => Col2Im(n));
    }

    /// <summary>The rows n·P … n·P + P − 1 of the patch matrix: entry (c, u, v) of position (i, j) is pixel (c, i·s + u − p, j·s + v − p), 0 outside.</summary>
    private void Im2Col(int n)
    {
        var x = X.Row(n);
        int kh = KernelHeight, kw = KernelWidth, H = Input.Height, Wd = Input.Width;
        for (int i = 0, q = 0; i < Output.Height; i++)
            for (int j = 0; j < Output.Width; j++, q++)
            {
                var row = _P.Row(n * Positions + q);
                for (int c = 0, k = 0; c < Input.Channels; c++)
                    for (int u = 0; u < kh; u++)
                    {
                        int r = i * Stride + u - Padding;
                        for (int v = 0; v < kw; v++, k++)
                        {
                            int s = j * Stride + v - Padding;
                            row[k] = r >= 0 && r < H && s >= 0 && s < Wd ? x[(c * H + r) * Wd + s] : T.Zero;
                        }
                    }
            }
    }

    /// <summary>DX of sample n: every entry of its rows of DP added to the pixel its patch entry came from (im2col's transpose).</summary>
    private void Col2Im(int n)
    {
        var dx = DX.Row(n);
        dx.Clear();
        int kh = KernelHeight, kw = KernelWidth, H = Input.Height, Wd = Input.Width;
        for (int i = 0, q = 0; i < Output.Height; i++)
            for (int j = 0; j < Output.Width; j++, q++)
            {
                var row = _DP.Row(n * Positions + q);
                for (int c = 0, k = 0; c < Input.Channels; c++)
                    for (int u = 0; u < kh; u++)
                    {
                        int r = i * Stride + u - Padding;
                        for (int v = 0; v < kw; v++, k++)
                        {
                            int s = j * Stride + v - Padding;
                            if (r >= 0 && r < H && s >= 0 && s < Wd) dx[(c * H + r) * Wd + s] += row[k];
                        }
                    }
            }
    }

    /// <summary>The samples' independent work on up to <see cref="Parallelism.Threads"/> threads (each sample's sums run in one fixed order).</summary>
    internal static void ForSamples(int N, Action<int> body)
    {
        if (Parallelism.Threads == 1 || N < 2)
        {
            for (int n = 0; n < N; n++) body(n);
            return;
        }
        Parallel.For(0, N, new ParallelOptions { MaxDegreeOfParallelism = Parallelism.Threads }, body);
    }

    /// <summary>In the <c>--layers</c> grammar.</summary>
    internal string LayerSpec => string.Create(CultureInfo.InvariantCulture,
        $"Conv(out={Output.Channels}, kernel={(KernelHeight == KernelWidth ? $"{KernelHeight}" : $"{KernelHeight}x{KernelWidth}")}, stride={Stride}, padding={Padding})");

    public override string ToString() => $"Convolution(input={Input}, output={Output}, kernel={KernelHeight}×{KernelWidth}, stride={Stride}, padding={Padding}, optimizer={Optimizer})";
}
