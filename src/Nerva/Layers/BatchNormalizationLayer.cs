using System.Numerics;
using System.Runtime.InteropServices;
using Nerva.Distributed;
using Nerva.Optimizers;
using static Nerva.MatrixOperations;

namespace Nerva.Layers;

/// <summary>
/// The batch normalization layer of seed 000 §4 (D inputs, D outputs), with trainable β and γ.
/// <code>
/// feedforward:  R  = X − 1_N·1_Nᵀ·X/N                    = X − row_repeat(columns_mean(X), N)
///               Σ  = diag(Rᵀ·R)ᵀ/N                        = columns_mean(R ⊙ R)
///               Z  = (1_N·Σ^(−1/2)) ⊙ R                   Σ^(−1/2) = inv_sqrt(Σ), with its ε
///               Y  = (1_N·γ) ⊙ Z + 1_N·β
/// backprop:     DZ = (1_N·γ) ⊙ DY
///               Dβ = 1_Nᵀ·DY
///               Dγ = 1_Nᵀ·(Z ⊙ DY)
///               DX = (1/N·1_N·Σ^(−1/2)) ⊙ ((N·𝕀_N − 1_N·1_Nᵀ)·DZ − Z ⊙ (1_N·diag(Zᵀ·DZ)ᵀ))    (25)
/// </code>
/// (25) is evaluated in O(N·D): (N·𝕀_N − 1_N·1_Nᵀ)·DZ = N·DZ − 1_N·columns_sum(DZ), and
/// diag(Zᵀ·DZ)ᵀ = columns_sum(Z ⊙ DZ); the tests compare it with the literal N×N form. The derivation of
/// (25) stays exact with the ε inside inv_sqrt, because Z·Zᵀ = R·Rᵀ/(Σ + ε).
/// Beyond the original: running estimates of the mean and variance (updated in training with
/// <see cref="Momentum"/>, the variance with Bessel's correction, as PyTorch does) normalise in
/// evaluation mode, so that inference does not depend on the batch.
/// In a data-parallel run (<see cref="Layer{T}.Communicator"/> of several ranks) the statistics are synchronized, as in
/// PyTorch's SyncBatchNorm: the column sums of the feedforward (Σx, then diag(Rᵀ·R)) and of (25) (columns_sum(DZ),
/// columns_sum(Z ⊙ DZ)) are summed over every rank's shard and N is the whole batch's rows, so that P ranks compute the
/// equations of one process on the whole batch (in another summation order); Dβ and Dγ stay each shard's part, summed
/// with the other gradients.
/// </summary>
public sealed class BatchNormalizationLayer<T> : Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Matrix<T> _mean;
    private readonly Matrix<T> _columnsSum;
    private readonly Matrix<T> _columnsSumZDZ;

    /// <summary>Batch normalization of D features: γ = 1, β = 0, running mean 0 and variance 1, updated with <paramref name="momentum"/>.</summary>
    public BatchNormalizationLayer(int D, OptimizerSpec? optimizer = null, double momentum = 0.1)
    {
        if (D < 1) throw new ArgumentOutOfRangeException(nameof(D), $"batch normalization needs at least one input, got {D}");
        if (!(momentum >= 0 && momentum <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), $"the momentum must be in [0, 1], got {momentum}");
        Beta = new Matrix<T>(1, D);
        Gamma = MatrixOperations.Ones<T>(1, D);
        DBeta = new Matrix<T>(1, D);
        DGamma = new Matrix<T>(1, D);
        RunningMean = new Matrix<T>(1, D);
        RunningVariance = MatrixOperations.Ones<T>(1, D);
        InvSqrtSigma = new Matrix<T>(1, D);
        _mean = new Matrix<T>(1, D);
        _columnsSum = new Matrix<T>(1, D);
        _columnsSumZDZ = new Matrix<T>(1, D);
        Momentum = momentum;
        if (optimizer is not null) Optimizer = optimizer;
        AddParameter("beta", Beta, DBeta);
        AddParameter("gamma", Gamma, DGamma);
    }

    /// <inheritdoc/>
    public override int InputSize => Beta.Cols;

    /// <inheritdoc/>
    public override int OutputSize => Beta.Cols;

    /// <summary>β, the shift (1×D).</summary>
    public Matrix<T> Beta { get; }

    /// <summary>γ, the scale (1×D).</summary>
    public Matrix<T> Gamma { get; }

    /// <summary>Dβ, the gradient of β.</summary>
    public Matrix<T> DBeta { get; }

    /// <summary>Dγ, the gradient of γ.</summary>
    public Matrix<T> DGamma { get; }

    /// <summary>Z, the normalised input.</summary>
    public Matrix<T> Z { get; private set; } = new(0, 0);

    /// <summary>DZ = ∇_Z L.</summary>
    public Matrix<T> DZ { get; } = new(0, 0);

    /// <summary>Σ^(−1/2) of the last feedforward.</summary>
    public Matrix<T> InvSqrtSigma { get; private set; }

    /// <summary>The running mean used in evaluation mode.</summary>
    public Matrix<T> RunningMean { get; }

    /// <summary>The running variance used in evaluation mode.</summary>
    public Matrix<T> RunningVariance { get; }

    /// <summary>The weight of the newest batch in the running estimates.</summary>
    public double Momentum { get; }

    /// <inheritdoc/>
    private protected override void RenewBuffers() => (Z, InvSqrtSigma) = (new Matrix<T>(0, 0), new Matrix<T>(1, InputSize));

    /// <inheritdoc/>
    protected override void FeedforwardCore(Matrix<T> Y)
    {
        int N = X.Rows, D = InputSize;
        Z.Resize(N, D);
        T epsilon = InvSqrtEpsilon<T>();
        // R = X − row_repeat(columns_mean(X), N), kept in Z; evaluation centres with the running mean.
        bool distributed = IsTraining && Communicator.Size > 1;
        if (distributed) N = DistributedMean();   // the whole batch's mean and row count, over every rank's shard
        else if (IsTraining) ColumnsMean(X, _mean);
        var mean = IsTraining ? _mean.AsSpan() : RunningMean.AsSpan();
        for (int i = 0; i < X.Rows; i++) Subtract(X.Row(i), mean, Z.Row(i));
        var sigma = InvSqrtSigma.AsSpan();
        if (IsTraining)
        {
            // Σ = diag(Rᵀ·R)ᵀ/N;  Σ^(−1/2) = inv_sqrt(Σ)
            sigma.Clear();
            for (int i = 0; i < X.Rows; i++) AddProduct(sigma, Z.Row(i), Z.Row(i));
            if (distributed) Communicator.SumOverRanks(sigma);
            _batchRows = N;
            UpdateRunningEstimates(N);
            for (int j = 0; j < D; j++) sigma[j] = T.One / T.Sqrt(sigma[j] / T.CreateChecked(N) + epsilon);
        }
        else
        {
            // Evaluation: Σ = the running variance.
            var variance = RunningVariance.AsSpan();
            for (int j = 0; j < D; j++) sigma[j] = T.One / T.Sqrt(variance[j] + epsilon);
        }
        // Z = (1_N·Σ^(−1/2)) ⊙ R;  Y = (1_N·γ) ⊙ Z + 1_N·β
        var g = Gamma.AsSpan();
        var be = Beta.AsSpan();
        for (int i = 0; i < X.Rows; i++) NormalizeScaleShift(Z.Row(i), sigma, g, be, Y.Row(i));
    }

    /// <summary>The rows of the whole batch in the last feedforward in training (every rank's shard in a distributed run).</summary>
    private int _batchRows;

    /// <summary>
    /// Synchronized statistics (as PyTorch's SyncBatchNorm): the column sums of every rank's shard and its row count,
    /// summed over the ranks, give the whole batch's mean in <c>_mean</c>; returns the batch's rows.
    /// </summary>
    private int DistributedMean()
    {
        int D = InputSize;
        if (_sums.Length != D + 1) _sums = new T[D + 1];
        var sums = _sums.AsSpan();
        ColumnsSum(X, _columnsSum);   // scratch here; backpropagation computes its own
        _columnsSum.AsSpan().CopyTo(sums);
        sums[D] = T.CreateChecked(X.Rows);
        Communicator.SumOverRanks(sums);
        int N = int.CreateChecked(sums[D]);
        var mean = _mean.AsSpan();
        for (int j = 0; j < D; j++) mean[j] = sums[j] / sums[D];
        return N;
    }

    private T[] _sums = [];

    /// <inheritdoc/>
    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY)
    {
        int N = X.Rows, D = InputSize;
        bool distributed = Communicator.Size > 1;
        DZ.Resize(N, D);
        // DZ = (1_N·γ) ⊙ DY
        var g = Gamma.AsSpan();
        for (int i = 0; i < N; i++) Hadamard(g, DY.Row(i), DZ.Row(i));
        // Dβ = 1_Nᵀ·DY;  Dγ = 1_Nᵀ·(Z ⊙ DY)
        ColumnsSum(DY, DBeta);
        var dgamma = DGamma.AsSpan();
        dgamma.Clear();
        for (int i = 0; i < N; i++) AddProduct(dgamma, Z.Row(i), DY.Row(i));
        if (!ComputeInputGradient) return;
        // DX = (1/N·1_N·Σ^(−1/2)) ⊙ (N·DZ − 1_N·columns_sum(DZ) − Z ⊙ (1_N·columns_sum(Z ⊙ DZ)))
        ColumnsSum(DZ, _columnsSum);
        var sumZDZ = _columnsSumZDZ.AsSpan();
        sumZDZ.Clear();
        for (int i = 0; i < N; i++) AddProduct(sumZDZ, Z.Row(i), DZ.Row(i));
        if (distributed)
        {
            // the column sums of (25) are the whole batch's: summed over the ranks, with N the batch's rows
            if (_sums.Length < 2 * D) _sums = new T[2 * D];
            _columnsSum.AsSpan().CopyTo(_sums);
            sumZDZ.CopyTo(_sums.AsSpan(D));
            Communicator.SumOverRanks(_sums.AsSpan(0, 2 * D));
            _sums.AsSpan(0, D).CopyTo(_columnsSum.AsSpan());
            _sums.AsSpan(D, D).CopyTo(sumZDZ);
        }
        T n = T.CreateChecked(distributed ? _batchRows : N);
        var s = InvSqrtSigma.AsSpan();
        var sumDZ = _columnsSum.AsSpan();
        for (int i = 0; i < N; i++) InputGradient(s, n, DZ.Row(i), sumDZ, Z.Row(i), sumZDZ, DX.Row(i));
    }

    // The rows of the equations above (with MatrixOperations' span Subtract and Hadamard): one Vector<T> loop and a scalar
    // tail with the same operations in the same order, so every element gets the bits of the scalar formula (columns are
    // summed over the rows in row order, as before).

    /// <summary>sum += a ⊙ b.</summary>
    private static void AddProduct(Span<T> sum, ReadOnlySpan<T> a, ReadOnlySpan<T> b)
    {
        int j = Vectors(sum.Length);
        if (j > 0)
        {
            var vsum = MemoryMarshal.Cast<T, Vector<T>>(sum);
            var va = MemoryMarshal.Cast<T, Vector<T>>(a);
            var vb = MemoryMarshal.Cast<T, Vector<T>>(b);
            for (int v = 0; v < vsum.Length; v++) vsum[v] += va[v] * vb[v];
        }
        for (; j < sum.Length; j++) sum[j] += a[j] * b[j];
    }

    /// <summary>z = σ ⊙ z (z holds r); y = γ ⊙ z + β.</summary>
    private static void NormalizeScaleShift(Span<T> z, ReadOnlySpan<T> sigma, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta, Span<T> y)
    {
        int j = Vectors(z.Length);
        if (j > 0)
        {
            var vz = MemoryMarshal.Cast<T, Vector<T>>(z);
            var vsigma = MemoryMarshal.Cast<T, Vector<T>>(sigma);
            var vgamma = MemoryMarshal.Cast<T, Vector<T>>(gamma);
            var vbeta = MemoryMarshal.Cast<T, Vector<T>>(beta);
            var vy = MemoryMarshal.Cast<T, Vector<T>>(y);
            for (int v = 0; v < vz.Length; v++)
            {
                vz[v] *= vsigma[v];
                vy[v] = vgamma[v] * vz[v] + vbeta[v];
            }
        }
        for (; j < z.Length; j++)
        {
            z[j] *= sigma[j];
            y[j] = gamma[j] * z[j] + beta[j];
        }
    }

    /// <summary>dx = s/n ⊙ (n·dz − Σdz − z ⊙ Σ(z ⊙ dz)), one row of (25).</summary>
    private static void InputGradient(ReadOnlySpan<T> s, T n, ReadOnlySpan<T> dz, ReadOnlySpan<T> sumDZ, ReadOnlySpan<T> z, ReadOnlySpan<T> sumZDZ, Span<T> dx)
    {
        int j = Vectors(dx.Length);
        if (j > 0)
        {
            var vs = MemoryMarshal.Cast<T, Vector<T>>(s);
            var vdz = MemoryMarshal.Cast<T, Vector<T>>(dz);
            var vsumDZ = MemoryMarshal.Cast<T, Vector<T>>(sumDZ);
            var vz = MemoryMarshal.Cast<T, Vector<T>>(z);
            var vsumZDZ = MemoryMarshal.Cast<T, Vector<T>>(sumZDZ);
            var vdx = MemoryMarshal.Cast<T, Vector<T>>(dx);
            var vn = new Vector<T>(n);
            for (int v = 0; v < vdx.Length; v++) vdx[v] = vs[v] / vn * (vn * vdz[v] - vsumDZ[v] - vz[v] * vsumZDZ[v]);
        }
        for (; j < dx.Length; j++) dx[j] = s[j] / n * (n * dz[j] - sumDZ[j] - z[j] * sumZDZ[j]);
    }

    /// <summary>The elements the vector loops take (0 without SIMD).</summary>
    private static int Vectors(int length) => Vector.IsHardwareAccelerated ? length / Vector<T>.Count * Vector<T>.Count : 0;

    /// <summary>running = (1 − momentum)·running + momentum·batch, from the batch mean and Σ·N in InvSqrtSigma.</summary>
    private void UpdateRunningEstimates(int N)
    {
        T m = T.CreateChecked(Momentum), keep = T.One - m;
        var mean = _mean.AsSpan();
        var sumSquares = InvSqrtSigma.AsSpan();
        var runningMean = RunningMean.AsSpan();
        var runningVariance = RunningVariance.AsSpan();
        T divisor = T.CreateChecked(Math.Max(N - 1, 1));
        for (int j = 0; j < mean.Length; j++)
        {
            runningMean[j] = keep * runningMean[j] + m * mean[j];
            runningVariance[j] = keep * runningVariance[j] + m * sumSquares[j] / divisor;
        }
    }

    internal override string LayerSpec => "BatchNormalization";

    /// <inheritdoc/>
    public override string ToString() => $"BatchNormalization(input_size={InputSize}, output_size={OutputSize})";
}
