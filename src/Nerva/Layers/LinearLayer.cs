using System.Globalization;
using System.Numerics;
using Nerva.Distributed;
using Nerva.Kernels;
using Nerva.Optimizers;
using Nerva.Sparse;
using static Nerva.MatrixOperations;

namespace Nerva.Layers;

/// <summary>
/// The linear layer of seed 000 §4, dense or sparse, with optional DropConnect dropout on W (the "linear
/// dropout layer").
/// <code>
/// feedforward:  Y  = X·Wᵀ + 1_N·b
/// backprop:     DW = DYᵀ·X
///               Db = 1_Nᵀ·DY
///               DX = DY·W
/// </code>
/// A layer with density &lt; 1 keeps W in CSR form (<see cref="SparseW"/>) and never forms it densely:
/// the products run as SpMM and SDDMM on the transposed batch (<see cref="SparseProducts"/>), DW only
/// on W's support, and the optimizer updates the stored values, so W, DW and the optimizer state share
/// one support. With dropout rate p the weights are W ⊙ R, R a mask shaped like the stored weights with
/// entries Bernoulli(1 − p)/(1 − p), so DW = (DYᵀ·X) ⊙ R and DX = DY·(W ⊙ R). Unlike the original, p is the
/// probability of dropping a weight, <see cref="RenewDropoutMask"/> draws a fresh mask (the trainer does
/// so per batch), evaluation mode uses W itself, and sparse layers have dropout too.
/// </summary>
public class LinearLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Matrix<T>? _W, _DW;
    private readonly Matrix<T> _R = new(0, 0);
    private readonly Matrix<T> _WR = new(0, 0);
    private bool _droppedOut;

    // The batch in transposed panels (sparse layers only, see SparseProducts): Xᵀ, Zᵀ, DZᵀ, DXᵀ; W's values in column order.
    private Panels<T> _Xp = new(), _Zp = new();
    private readonly Panels<T> _DZp = new(), _DXp = new();
    private readonly Matrix<T> _WByColumn = new(1, 0);

    /// <summary>
    /// W packed once for the products of evaluation mode (float, dense layers of a <see cref="Predictor"/>'s private copy,
    /// whose weights never change): Z = X·Wᵀ then packs only the batch. Null: every product packs W.
    /// </summary>
    internal PreparedWeights? Prepared { get; set; }

    /// <summary>A sparse layer's W prepared once for the products of a few rows in evaluation mode (a <see cref="Predictor"/>'s, on AVX-512), or null.</summary>
    internal PreparedSparseRows? PreparedRows { get; set; }

    /// <summary>A linear layer D → K: weights drawn by <paramref name="weights"/> (Xavier by default) with <paramref name="rng"/>, optimized by <paramref name="optimizer"/>, DropConnect rate <paramref name="dropout"/>, and W in CSR form with that share of the weights when <paramref name="density"/> is below 1.</summary>
    public LinearLayer(int D, int K, Rng? rng = null, WeightInitializer? weights = null, OptimizerSpec? optimizer = null, double dropout = 0, double density = 1)
    {
        if (D < 1 || K < 1) throw new ArgumentOutOfRangeException(nameof(D), $"a layer needs at least one input and one output, got D={D}, K={K}");
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), $"the dropout rate must be in [0, 1), got {dropout}");
        if (!(density > 0 && density <= 1)) throw new ArgumentOutOfRangeException(nameof(density), $"the density must be in (0, 1], got {density}");
        InputSize = D;
        rng ??= new Rng(0);
        weights ??= WeightInitializer.Xavier;
        B = new Matrix<T>(1, K);
        Db = new Matrix<T>(1, K);
        DropoutRate = dropout;
        if (optimizer is not null) Optimizer = optimizer;
        if (density < 1)
        {
            // the support first, then its values in CSR order (the original's order of random draws)
            SparseW = CsrMatrix<T>.Random(K, D, density, rng);
            SparseDW = new Matrix<T>(1, SparseW.NonZeroCount);
            var (fanIn, fanOut) = InitializationFans;
            weights.InitializeWeights(SparseW.Values.AsSpan(), fanIn, fanOut, rng);
            weights.InitializeBias(B);
            AddParameter("W", SparseW.Values, SparseDW);
        }
        else
        {
            _W = new Matrix<T>(K, D);
            _DW = new Matrix<T>(K, D);
            weights.Initialize(_W, B, rng);
            AddParameter("W", _W, _DW);
        }
        AddParameter("b", B, Db);
        ResetDropoutMask();
    }

    /// <inheritdoc/>
    public override int InputSize { get; }

    /// <inheritdoc/>
    public override int OutputSize => B.Cols;

    /// <summary>W ∈ ℝ^{K×D} of a dense layer. A sparse layer has <see cref="SparseW"/> instead (see <see cref="DenseWeights"/>).</summary>
    public Matrix<T> W => _W ?? throw SparseLayer("W", "SparseW");

    /// <summary>b ∈ ℝ^{1×K}.</summary>
    public Matrix<T> B { get; }

    /// <summary>DW of a dense layer; a sparse layer has <see cref="SparseDW"/>.</summary>
    public Matrix<T> DW => _DW ?? throw SparseLayer("DW", "SparseDW");

    /// <summary>Db, the gradient of b.</summary>
    public Matrix<T> Db { get; }

    /// <summary>W of a sparse layer (null for a dense one).</summary>
    public CsrMatrix<T>? SparseW { get; }

    /// <summary>DW of a sparse layer on W's support: a 1×nnz row in the entry order of <see cref="SparseW"/>.</summary>
    public Matrix<T>? SparseDW { get; }

    /// <summary>Whether W is stored in CSR form.</summary>
    public bool IsSparse => SparseW is not null;

    /// <summary>The fraction of W that is stored: nnz/(K·D), 1 for a dense layer.</summary>
    public double Density => SparseW?.Density ?? 1;

    /// <summary>The number of stored weights.</summary>
    public int WeightCount => SparseW?.NonZeroCount ?? _W!.Length;

    /// <summary>
    /// The fan-in and fan-out the weight initializers see: D and K for a dense layer; for a sparse layer the
    /// average numbers of stored weights per output (nnz/K) and per input (nnz/D), so that a sparse layer
    /// starts with the output variance of a dense one (He: Var(z) = fan-in · 2/fan-in).
    /// </summary>
    public (int FanIn, int FanOut) InitializationFans => SparseW is null
        ? (InputSize, OutputSize)
        : (Math.Max(1, (int)Math.Round((double)SparseW.NonZeroCount / OutputSize)), Math.Max(1, (int)Math.Round((double)SparseW.NonZeroCount / InputSize)));

    /// <summary>The probability p that a weight is dropped in a training step (0: no dropout).</summary>
    public double DropoutRate { get; }

    /// <summary>The dropout mask R, shaped like the stored weights (K×D, or 1×nnz when sparse); all ones until the first renewal.</summary>
    public Matrix<T> R => _R;

    /// <summary>A dense copy of W (zero outside the support of a sparse layer).</summary>
    public Matrix<T> DenseWeights() => SparseW?.ToDense() ?? _W!.Clone();

    /// <summary>
    /// Sets W from a dense K×D matrix. A sparse layer takes the non-zeros of <paramref name="W"/> as its new
    /// support (the original's <c>load_weights</c>); its DW and optimizer state start again from zero.
    /// </summary>
    public void LoadWeights(Matrix<T> W)
    {
        if (W.Rows != OutputSize || W.Cols != InputSize)
            throw new ArgumentException($"LoadWeights: W is {W.Shape}, the layer needs {OutputSize}×{InputSize}");
        if (SparseW is null)
        {
            W.CopyTo(_W!);
            return;
        }
        SparseW.Load(W);
        SparseDW!.Resize(1, SparseW.NonZeroCount);
        SparseDW.Fill(T.Zero);
        ResetDropoutMask();
        Optimizer = Optimizer;
    }

    /// <summary>
    /// Sets a sparse layer's W from CSR arrays (<see cref="CsrMatrix{T}.FromCsr"/>): exactly that support, zeros on it
    /// included, and those values; DW and the optimizer state start again from zero. O(nnz + K + D).
    /// </summary>
    /// <exception cref="ArgumentException">the arrays are not a valid CSR matrix of the layer's shape K×D</exception>
    public void LoadWeights(ReadOnlySpan<int> rowStart, ReadOnlySpan<int> columns, ReadOnlySpan<T> values)
    {
        var W = SparseW ?? throw new InvalidOperationException("LoadWeights: CSR arrays need a sparse layer; load a dense matrix into a dense one");
        if (values.Length != columns.Length) throw new ArgumentException($"CSR: {values.Length} values for {columns.Length} column indices");
        W.SetSupport(rowStart, columns);
        values.CopyTo(W.Values.AsSpan());
        SparseDW!.Resize(1, W.NonZeroCount);
        SparseDW.Fill(T.Zero);
        ResetDropoutMask();
        Optimizer = Optimizer;
    }

    /// <summary>
    /// Moves a sparse layer to a new support of the same size (a prune-and-grow step): new entry e keeps the
    /// value and optimizer state of old entry source[e], or, where source[e] &lt; 0, takes the next of
    /// <paramref name="grown"/> and zero state. DW is zeroed.
    /// </summary>
    public void ChangeSupport(ReadOnlySpan<long> positions, ReadOnlySpan<int> source, ReadOnlySpan<T> grown)
    {
        var W = SparseW ?? throw new InvalidOperationException("ChangeSupport: the layer is dense");
        if (positions.Length != W.NonZeroCount || source.Length != W.NonZeroCount)
            throw new ArgumentException($"ChangeSupport: {positions.Length} positions and {source.Length} sources for {W.NonZeroCount} stored weights");
        var parameter = Parameters[0];
        Remap(W.Values.AsSpan(), source, grown);
        foreach (var state in parameter.Optimizer.State) Remap(state.AsSpan(), source, []);
        W.SetSupport(positions);
        SparseDW!.Fill(T.Zero);

        static void Remap(Span<T> buffer, ReadOnlySpan<int> source, ReadOnlySpan<T> grown)
        {
            var old = buffer.ToArray();
            for (int e = 0, g = 0; e < buffer.Length; e++)
                buffer[e] = source[e] >= 0 ? old[source[e]] : grown.IsEmpty ? T.Zero : grown[g++];
        }
    }

    /// <summary>
    /// Rows first … first + G.Rows − 1 of the dense gradient DZᵀ·X of the last batch, for gradient growth: a G.Rows × N
    /// block of DZᵀ from its panels, times X (a product of G.Rows·N·D multiply-adds; memory O(G.Rows·(N + D))).
    /// </summary>
    internal void DenseGradientRows(int first, Matrix<T> block, Matrix<T> G)
    {
        if (SparseW is null) throw new InvalidOperationException("DenseGradientRows: the layer is dense");
        int N = X.Rows, width = _DZp.Width, count = G.Rows;
        block.Resize(count, N);
        for (int r = 0; r < count; r++)
            for (int n = 0; n < N; n++) block[r, n] = _DZp[n / width, first + r, n % width];
        Product(block, X, G);
        Communicator.SumOverRanks(G.AsSpan());   // a data-parallel run: the whole batch's gradient, every rank's rows
    }

    /// <summary>Draws a fresh mask: R_ij = 1/(1 − p) with probability 1 − p, else 0.</summary>
    public void RenewDropoutMask(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (DropoutRate == 0) return;
        rng.DropoutMask(_R.AsSpan(), DropoutRate, T.CreateChecked(1 / (1 - DropoutRate)));
    }

    /// <inheritdoc/>
    protected override void FeedforwardCore(Matrix<T> Y) => Affine(Y);

    /// <inheritdoc/>
    private protected override void RenewBuffers() => (_Xp, _Zp) = (new(), new());

    /// <inheritdoc/>
    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY) => AffineBackpropagate(DY);

    /// <summary>Z = X·Wᵀ + 1_N·b, or Z = X·(W ⊙ R)ᵀ + 1_N·b with dropout in training mode.</summary>
    protected void Affine(Matrix<T> Z)
    {
        _droppedOut = IsTraining && DropoutRate > 0;
        var weights = Parameters[0].Value;
        if (_droppedOut)
        {
            Hadamard(weights, _R, _WR);
            weights = _WR;
        }
        if (SparseW is null)
        {
            if (Prepared is { } prepared && !_droppedOut) prepared.Multiply((Matrix<float>)(object)X, (Matrix<float>)(object)Z);
            else Product(X, weights, Z, transposeB: true);
            AddRowRepeat(Z, B);
            return;
        }
        if (X.Rows < SparseProducts.RowLayoutBatch)
        {
            // a few samples (batch-1 inference): Z = X·Wᵀ + 1_N·b row by row; Xᵀ only if backpropagation asks
            if (PreparedRows is { } rows && !_droppedOut) rows.Multiply((Matrix<float>)(object)X, (Matrix<float>)(object)B, (Matrix<float>)(object)Z);
            else SparseProducts.FeedforwardRows(SparseW, weights, X, B, Z);
            return;
        }
        // Zᵀ = W·Xᵀ + b·1ᵀ on the transposed batch; Z = (Zᵀ)ᵀ
        SparseProducts.ToPanels(X, _Xp, PanelVectors);
        SparseProducts.Feedforward(SparseW, weights, _Xp, B, _Zp);
        SparseProducts.FromPanels(_Zp, X.Rows, Z);
    }

    /// <summary>DW = DZᵀ·X (⊙ R); Db = 1_Nᵀ·DZ; DX = DZ·W (or DZ·(W ⊙ R)).</summary>
    protected void AffineBackpropagate(Matrix<T> DZ)
    {
        var weights = _droppedOut ? _WR : Parameters[0].Value;
        var DWvalues = Parameters[0].Gradient;
        if (SparseW is null)
        {
            Product(DZ, X, DWvalues, transposeA: true);
        }
        else
        {
            // DW = DZᵀ·X on W's support (SDDMM), from DZᵀ and the Xᵀ of the feedforward
            if (X.Rows < SparseProducts.RowLayoutBatch) SparseProducts.ToPanels(X, _Xp, PanelVectors);   // the feedforward took the row path
            SparseProducts.ToPanels(DZ, _DZp, PanelVectors);
            SparseProducts.WeightGradient(SparseW, _DZp, _Xp, DWvalues);
        }
        if (_droppedOut) Hadamard(DWvalues, _R, DWvalues);
        ColumnsSum(DZ, Db);
        if (!ComputeInputGradient) return;
        if (SparseW is null)
        {
            Product(DZ, weights, DX);
            return;
        }
        // DXᵀ = Wᵀ·DZᵀ, column by column of W; DX = (DXᵀ)ᵀ
        SparseProducts.ValuesByColumn(SparseW, weights, _WByColumn);
        SparseProducts.InputGradient(SparseW, _WByColumn, _DZp, _DXp);
        SparseProducts.FromPanels(_DXp, DZ.Rows, DX);
    }

    /// <summary>The panel width of this layer's batch: by the rows its products gather, Xᵀ's D, and DZᵀ's K when DX is computed.</summary>
    private int PanelVectors => SparseProducts.PanelVectors<T>(ComputeInputGradient ? Math.Max(InputSize, OutputSize) : InputSize, X.Rows);

    private void ResetDropoutMask()
    {
        if (DropoutRate == 0) return;
        var weights = Parameters[0].Value;
        _R.Resize(weights.Rows, weights.Cols);
        _R.Fill(T.One);
        _WR.Resize(weights.Rows, weights.Cols);
    }

    private InvalidOperationException SparseLayer(string name, string instead)
        => new($"{name}: this layer is sparse (density {Density}); use {instead}, or DenseWeights() for a dense copy of W");

    /// <summary>The activation's text in the original's format; "NoActivation()" for a linear layer.</summary>
    protected virtual string ActivationText => "NoActivation()";

    /// <summary>The layer in the <c>--layers</c> grammar: "Linear", "ReLU", "LeakyReLU(0.1)", "Softmax", …</summary>
    internal override string LayerSpec => ActivationText switch
    {
        "NoActivation()" => "Linear",
        // the α it has, alternation done (a model file rebuilds exactly this layer)
        var text when text.StartsWith("AllReLU(", StringComparison.Ordinal) => $"AllReLU(alpha={text[8..^1]}, alternate=false)",
        var text when text.EndsWith("()", StringComparison.Ordinal) => text[..^2],
        var text => text,
    };

    /// <inheritdoc/>
    public override string ToString()
    {
        string dropout = DropoutRate > 0 ? string.Create(CultureInfo.InvariantCulture, $", dropout={DropoutRate}") : "";
        if (SparseW is not null)
            return string.Create(CultureInfo.InvariantCulture,
                $"Sparse(input_size={InputSize}, output_size={OutputSize}, density={(float)Density}, optimizer={Optimizer}, activation={ActivationText}{dropout})");
        return $"Dense(input_size={InputSize}, output_size={OutputSize}, optimizer={Optimizer}, activation={ActivationText}{dropout})";
    }
}
