using System.Globalization;
using System.Numerics;
using Nerva.Optimizers;
using static Nerva.MatrixOperations;

namespace Nerva.Layers;

/// <summary>
/// The linear layer of seed 000 §4, with optional DropConnect dropout on W (the "linear dropout layer").
/// <code>
/// feedforward:  Y  = X·Wᵀ + 1_N·b
/// backprop:     DW = DYᵀ·X
///               Db = 1_Nᵀ·DY
///               DX = DY·W
/// </code>
/// With dropout rate p the weights are W ⊙ R, R a K×D mask with entries Bernoulli(1 − p)/(1 − p), so
/// DW = (DYᵀ·X) ⊙ R and DX = DY·(W ⊙ R). Unlike the original, p is the probability of dropping a
/// weight, <see cref="RenewDropoutMask"/> draws a fresh mask (the trainer does so per batch), and
/// evaluation mode uses W itself.
/// </summary>
public class LinearLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Matrix<T> _R = new(0, 0);
    private readonly Matrix<T> _WR = new(0, 0);
    private bool _droppedOut;

    public LinearLayer(int D, int K, Rng? rng = null, WeightInitializer? weights = null, OptimizerSpec? optimizer = null, double dropout = 0)
    {
        if (D < 1 || K < 1) throw new ArgumentOutOfRangeException(nameof(D), $"a layer needs at least one input and one output, got D={D}, K={K}");
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), $"the dropout rate must be in [0, 1), got {dropout}");
        W = new Matrix<T>(K, D);
        b = new Matrix<T>(1, K);
        DW = new Matrix<T>(K, D);
        Db = new Matrix<T>(1, K);
        DropoutRate = dropout;
        if (optimizer is not null) Optimizer = optimizer;
        AddParameter("W", W, DW);
        AddParameter("b", b, Db);
        (weights ?? WeightInitializer.Xavier).Initialize(W, b, rng ?? new Rng(0));
        if (dropout > 0)
        {
            _R.Resize(K, D);
            _R.Fill(T.One);
            _WR.Resize(K, D);
        }
    }

    public override int InputSize => W.Cols;

    public override int OutputSize => W.Rows;

    /// <summary>W ∈ ℝ^{K×D}.</summary>
    public Matrix<T> W { get; }

    /// <summary>b ∈ ℝ^{1×K}.</summary>
    public Matrix<T> b { get; }

    public Matrix<T> DW { get; }

    public Matrix<T> Db { get; }

    /// <summary>The probability p that a weight is dropped in a training step (0: no dropout).</summary>
    public double DropoutRate { get; }

    /// <summary>The dropout mask R (K×D); all ones until the first renewal.</summary>
    public Matrix<T> R => _R;

    /// <summary>Draws a fresh mask: R_ij = 1/(1 − p) with probability 1 − p, else 0.</summary>
    public void RenewDropoutMask(Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (DropoutRate == 0) return;
        T keep = T.CreateChecked(1 / (1 - DropoutRate));
        var r = _R.AsSpan();
        for (int k = 0; k < r.Length; k++) r[k] = rng.NextDouble() < DropoutRate ? T.Zero : keep;
    }

    protected override void FeedforwardCore(Matrix<T> Y) => Affine(Y);

    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY) => AffineBackpropagate(DY);

    /// <summary>Z = X·Wᵀ + 1_N·b, or Z = X·(W ⊙ R)ᵀ + 1_N·b with dropout in training mode.</summary>
    protected void Affine(Matrix<T> Z)
    {
        _droppedOut = IsTraining && DropoutRate > 0;
        var weights = W;
        if (_droppedOut)
        {
            Hadamard(W, _R, _WR);
            weights = _WR;
        }
        Product(X, weights, Z, transposeB: true);
        AddRowRepeat(Z, b);
    }

    /// <summary>DW = DZᵀ·X (⊙ R); Db = 1_Nᵀ·DZ; DX = DZ·W (or DZ·(W ⊙ R)).</summary>
    protected void AffineBackpropagate(Matrix<T> DZ)
    {
        Product(DZ, X, DW, transposeA: true);
        if (_droppedOut) Hadamard(DW, _R, DW);
        ColumnsSum(DZ, Db);
        if (ComputeInputGradient) Product(DZ, _droppedOut ? _WR : W, DX);
    }

    /// <summary>The activation's text in the original's format; "NoActivation()" for a linear layer.</summary>
    protected virtual string ActivationText => "NoActivation()";

    public override string ToString()
    {
        string dropout = DropoutRate > 0 ? string.Create(CultureInfo.InvariantCulture, $", dropout={DropoutRate}") : "";
        return $"Dense(input_size={InputSize}, output_size={OutputSize}, optimizer={Optimizer}, activation={ActivationText}{dropout})";
    }
}
