using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Nerva.Kernels;
using Nerva.Optimizers;

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
/// <b>The batch form computed.</b> Toep(K) is mostly zeros, so the layer computes the same products on the patches. The
/// batch is cut into groups of <see cref="GroupSize"/> samples (a number that depends on nothing but N, so the sums
/// below run in one order for any thread count); for a group g of samples n₁ … n_G, with X_n, Y_n, DY_n the n-th rows seen
/// as C×H·W and C'×P matrices:
/// <code>
/// feedforward:  P_g  = [im2col(X_n₁) … im2col(X_n_G)]        (C·kh·kw × G·P: column (s, q) is the receptive field of position q of sample n_s)
///               Z_g  = W·P_g                                 (C' × G·P; W is C' × C·kh·kw)
///               Y_n  = Z_g's columns of sample n + b·1ᵀ        (C' × P, channels first as the row stores it)
/// backprop:     DZ_g = [DY_n₁ … DY_n_G]
///               DW   = Σ_g DZ_g·P_gᵀ                           (one term per group, summed in group order)
///               Db   = Σ_g DZ_g·1
///               DX_n = col2im(sample n's columns of Wᵀ·DZ_g)   (each patch entry added back to the pixel it came from)
/// </code>
/// Stacked over the batch these are Lemma 3's products with the zeros of Toep(K) left out; the groups keep the products
/// large enough for the GEMM kernels and the patches of a group in cache. W is stored as PyTorch stores its kernels,
/// (C', C, kh, kw) in C order.
/// </para>
/// </summary>
public sealed class ConvolutionLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Samples per group: the groups' products and sums, and so their rounding, depend on N alone.</summary>
    public const int GroupSize = 8;

    // P_g of every group (group g at g·GroupSize·C·kh·kw·P, C·kh·kw × G·P), kept for DW; DW_g and Db_g of every group.
    private T[] _P = [];
    private readonly Matrix<T> _DWg = new(0, 0), _Dbg = new(0, 0), _DWt = new(0, 0);

    /// <summary>Whether the groups' DW are computed transposed (kernels shorter than the output channels are many).</summary>
    private bool TransposedDW => W.Cols < W.Rows;

    // a group's Z_g or DZ_g, and its Wᵀ·DZ_g, per thread
    [ThreadStatic] private static T[]? t_Z;
    [ThreadStatic] private static T[]? t_DP;
    [ThreadStatic] private static T[]? t_padded;

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
        B = new Matrix<T>(1, outputChannels);
        Db = new Matrix<T>(1, outputChannels);
        if (optimizer is not null) Optimizer = optimizer;
        (weights ?? WeightInitializer.Xavier).Initialize(W, B, rng ?? new Rng(0));
        AddParameter("W", W, DW);
        AddParameter("b", B, Db);
    }

    /// <summary>The input images.</summary>
    public ImageShape Input { get; }

    /// <summary>The output images: C' channels of H'×W' positions.</summary>
    public ImageShape Output { get; }

    /// <summary>kh, the kernel's height.</summary>
    public int KernelHeight { get; }

    /// <summary>kw, the kernel's width.</summary>
    public int KernelWidth { get; }

    /// <summary>s, the step between positions.</summary>
    public int Stride { get; }

    /// <summary>p, the zeros added on every side.</summary>
    public int Padding { get; }

    /// <inheritdoc/>
    public override int InputSize => Input.Size;

    /// <inheritdoc/>
    public override int OutputSize => Output.Size;

    /// <summary>The kernels, one row per output channel: W[o, (c·kh + u)·kw + v] = K_o[c, u, v].</summary>
    public Matrix<T> W { get; }

    /// <summary>One bias per output channel.</summary>
    public Matrix<T> B { get; }

    /// <summary>DW, the gradient of the kernels (as W).</summary>
    public Matrix<T> DW { get; }

    /// <summary>Db, the gradient of the biases.</summary>
    public Matrix<T> Db { get; }

    private int Positions => Output.Height * Output.Width;

    private int Groups(int N) => (N + GroupSize - 1) / GroupSize;

    /// <inheritdoc/>
    private protected override void RenewBuffers() => _P = [];

    /// <inheritdoc/>
    protected override void FeedforwardCore(Matrix<T> Y)
    {
        int N = X.Rows;
        long patches = (long)N * W.Cols * Positions;
        if (patches > Array.MaxLength) throw new InvalidOperationException($"a batch of {N} samples has {patches} patch entries, more than one array holds: use smaller batches");
        if (_P.Length < patches) _P = new T[patches];
        Parallelism.For(Groups(N), patches * W.Rows, new Forward(this, Y));
    }

    /// <inheritdoc/>
    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY)
    {
        int N = X.Rows, groups = Groups(N);
        _DWg.Resize(groups, W.Length);
        _Dbg.Resize(groups, B.Cols);
        Parallelism.For(groups, (long)N * W.Length * Positions * (ComputeInputGradient ? 2 : 1), new Backward(this, DY));
        // DW = Σ_g DW_g;  Db = Σ_g Db_g, in group order
        var sum = DW;
        if (TransposedDW)
        {
            _DWt.Resize(W.Cols, W.Rows);
            sum = _DWt;
        }
        Parallelism.For((W.Length + 1023) / 1024, (long)groups * W.Length, new SumGroups(_DWg, sum, 1024));
        if (TransposedDW)
            for (int o = 0; o < W.Rows; o++)
                for (int k = 0; k < W.Cols; k++) DW[o, k] = sum[k, o];
        SumGroups.Rows(_Dbg, Db.AsSpan(), 0, B.Cols);
    }

    /// <summary>The first sample of group g, its number of samples, and where P_g starts.</summary>
    private (int First, int Count, int Offset) Group(int g) => (g * GroupSize, Math.Min(GroupSize, X.Rows - g * GroupSize), g * GroupSize * W.Cols * Positions);

    private static Span<T> Scratch(ref T[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = new T[length];
        return buffer.AsSpan(0, length);
    }

    /// <summary>Group g: P_g = [im2col(X_n) …];  Z_g = W·P_g;  Y_n = Z_g's columns of n + b·1ᵀ.</summary>
    private readonly struct Forward(ConvolutionLayer<T> layer, Matrix<T> Y) : IParallelBody
    {
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public void Run(int g)
        {
            var (W, P) = (layer.W, layer.Positions);
            var (first, count, offset) = layer.Group(g);
            int width = count * P;
            var Pg = layer._P.AsSpan(offset, W.Cols * width);
            for (int s = 0; s < count; s++) layer.Im2Col(layer.X.Row(first + s), Pg, width, s * P);
            var Z = Scratch(ref t_Z, W.Rows * width);
            Kernels<T>.Gemm.Multiply(false, false, W.Rows, width, W.Cols, W.AsSpan(), Pg, Z);
            var bias = layer.B.AsSpan();
            for (int s = 0; s < count; s++)
            {
                var y = Y.Row(first + s);
                for (int o = 0; o < W.Rows; o++)
                {
                    var z = Z.Slice(o * width + s * P, P);
                    var row = y.Slice(o * P, P);
                    for (int q = 0; q < row.Length; q++) row[q] = z[q] + bias[o];
                }
            }
        }
    }

    /// <summary>Group g: DZ_g = [DY_n …];  DW_g = DZ_g·P_gᵀ;  Db_g = DZ_g·1;  DX_n = col2im(n's columns of Wᵀ·DZ_g).</summary>
    private readonly struct Backward(ConvolutionLayer<T> layer, Matrix<T> DY) : IParallelBody
    {
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        public void Run(int g)
        {
            var (W, P) = (layer.W, layer.Positions);
            var (first, count, offset) = layer.Group(g);
            int width = count * P;
            var DZ = Scratch(ref t_Z, W.Rows * width);
            for (int s = 0; s < count; s++)
            {
                var dy = DY.Row(first + s);
                for (int o = 0; o < W.Rows; o++) dy.Slice(o * P, P).CopyTo(DZ.Slice(o * width + s * P, P));
            }
            var Pg = layer._P.AsSpan(offset, W.Cols * width);
            // DW_g = DZ_g·P_gᵀ, or its transpose P_g·DZ_gᵀ when the kernels are shorter than the channels are many (a first
            // layer's 1×3×3 kernels): the GEMM kernels fill their registers along the longer side
            if (layer.TransposedDW) Kernels<T>.Gemm.Multiply(false, true, W.Cols, W.Rows, width, Pg, DZ, layer._DWg.Row(g));
            else Kernels<T>.Gemm.Multiply(false, true, W.Rows, W.Cols, width, DZ, Pg, layer._DWg.Row(g));
            var db = layer._Dbg.Row(g);
            for (int o = 0; o < W.Rows; o++)
            {
                T sum = T.Zero;
                foreach (T v in DZ.Slice(o * width, width)) sum += v;
                db[o] = sum;
            }
            if (!layer.ComputeInputGradient) return;
            var DP = Scratch(ref t_DP, W.Cols * width);
            Kernels<T>.Gemm.Multiply(true, false, W.Cols, width, W.Rows, W.AsSpan(), DZ, DP);
            for (int s = 0; s < count; s++) layer.Col2Im(DP, width, s * P, layer.DX.Row(first + s));
        }
    }

    /// <summary>Entries [chunk·c, chunk·(c+1)) of the sum of the rows of <c>rows</c>, added in row order.</summary>
    private readonly struct SumGroups(Matrix<T> rows, Matrix<T> sum, int chunk) : IParallelBody
    {
        public void Run(int c) => Rows(rows, sum.AsSpan(), c * chunk, Math.Min(chunk, sum.Length - c * chunk));

        public static void Rows(Matrix<T> rows, Span<T> sum, int start, int length)
        {
            var target = sum.Slice(start, length);
            rows.Row(0).Slice(start, length).CopyTo(target);
            for (int n = 1; n < rows.Rows; n++)
            {
                var row = rows.Row(n).Slice(start, length);
                for (int k = 0; k < target.Length; k++) target[k] += row[k];
            }
        }
    }

    /// <summary>
    /// im2col of one sample into the columns [column, column + P) of a C·kh·kw-row matrix of <paramref name="width"/>
    /// columns: entry (k = (c·kh + u)·kw + v, q = i·W' + j) is pixel (c, i·s + u − p, j·s + v − p) of x, 0 outside. The
    /// sample is first copied into a zero-bordered image, so that every patch row is a plain (strided) copy.
    /// </summary>
    private void Im2Col(ReadOnlySpan<T> x, Span<T> patches, int width, int column)
    {
        int kh = KernelHeight, kw = KernelWidth, Ho = Output.Height, Wo = Output.Width, Hp = Input.Height + 2 * Padding, Wp = Input.Width + 2 * Padding;
        var padded = Padded(x);
        ref T source = ref MemoryMarshal.GetReference(padded);
        ref T target = ref MemoryMarshal.GetReference(patches);
        for (int c = 0, k = 0; c < Input.Channels; c++)
            for (int u = 0; u < kh; u++)
                for (int v = 0; v < kw; v++, k++)
                {
                    ref T row = ref Unsafe.Add(ref target, k * width + column);
                    for (int i = 0; i < Ho; i++)
                    {
                        ref T from = ref Unsafe.Add(ref source, (c * Hp + i * Stride + u) * Wp + v);
                        ref T to = ref Unsafe.Add(ref row, i * Wo);
                        if (Stride == 1) Unsafe.CopyBlockUnaligned(ref Unsafe.As<T, byte>(ref to), ref Unsafe.As<T, byte>(ref from), (uint)(Wo * Unsafe.SizeOf<T>()));
                        else for (int j = 0; j < Wo; j++) Unsafe.Add(ref to, j) = Unsafe.Add(ref from, j * Stride);
                    }
                }
    }

    /// <summary>The sample as a C×(H + 2p)×(W + 2p) image with a border of p zeros (a buffer of this thread).</summary>
    private ReadOnlySpan<T> Padded(ReadOnlySpan<T> x)
    {
        if (Padding == 0) return x;
        int H = Input.Height, Wd = Input.Width, Hp = H + 2 * Padding, Wp = Wd + 2 * Padding;
        var padded = Scratch(ref t_padded, Input.Channels * Hp * Wp);
        padded.Clear();
        for (int c = 0; c < Input.Channels; c++)
            for (int r = 0; r < H; r++) x.Slice((c * H + r) * Wd, Wd).CopyTo(padded.Slice((c * Hp + r + Padding) * Wp + Padding, Wd));
        return padded;
    }

    /// <summary>
    /// DX of one sample: every entry of its columns [column, column + P) of DP added to the pixel its patch entry came from
    /// (im2col's transpose), through a zero-bordered image whose border is then dropped.
    /// </summary>
    private void Col2Im(ReadOnlySpan<T> DP, int width, int column, Span<T> dx)
    {
        int kh = KernelHeight, kw = KernelWidth, H = Input.Height, Wd = Input.Width, Ho = Output.Height, Wo = Output.Width, Hp = H + 2 * Padding, Wp = Wd + 2 * Padding;
        var padded = Padding == 0 ? dx : Scratch(ref t_padded, Input.Channels * Hp * Wp);
        padded.Clear();
        ref T target = ref MemoryMarshal.GetReference(padded);
        ref T source = ref MemoryMarshal.GetReference(DP);
        for (int c = 0, k = 0; c < Input.Channels; c++)
            for (int u = 0; u < kh; u++)
                for (int v = 0; v < kw; v++, k++)
                {
                    ref T row = ref Unsafe.Add(ref source, k * width + column);
                    for (int i = 0; i < Ho; i++)
                    {
                        ref T from = ref Unsafe.Add(ref row, i * Wo);
                        ref T to = ref Unsafe.Add(ref target, (c * Hp + i * Stride + u) * Wp + v);
                        for (int j = 0; j < Wo; j++) Unsafe.Add(ref to, j * Stride) += Unsafe.Add(ref from, j);
                    }
                }
        if (Padding == 0) return;
        for (int c = 0; c < Input.Channels; c++)
            for (int r = 0; r < H; r++) padded.Slice((c * Hp + r + Padding) * Wp + Padding, Wd).CopyTo(dx.Slice((c * H + r) * Wd, Wd));
    }

    /// <summary>In the <c>--layers</c> grammar.</summary>
    internal override string LayerSpec => string.Create(CultureInfo.InvariantCulture,
        $"Conv(out={Output.Channels}, kernel={(KernelHeight == KernelWidth ? $"{KernelHeight}" : $"{KernelHeight}x{KernelWidth}")}, stride={Stride}, padding={Padding})");

    /// <inheritdoc/>
    public override string ToString() => $"Convolution(input={Input}, output={Output}, kernel={KernelHeight}×{KernelWidth}, stride={Stride}, padding={Padding}, optimizer={Optimizer})";
}
