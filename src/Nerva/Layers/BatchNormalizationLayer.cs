using System.Numerics;
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
    public Matrix<T> Z { get; } = new(0, 0);

    /// <summary>DZ = ∇_Z L.</summary>
    public Matrix<T> DZ { get; } = new(0, 0);

    /// <summary>Σ^(−1/2) of the last feedforward.</summary>
    public Matrix<T> InvSqrtSigma { get; }

    /// <summary>The running mean used in evaluation mode.</summary>
    public Matrix<T> RunningMean { get; }

    /// <summary>The running variance used in evaluation mode.</summary>
    public Matrix<T> RunningVariance { get; }

    /// <summary>The weight of the newest batch in the running estimates.</summary>
    public double Momentum { get; }

    /// <inheritdoc/>
    protected override void FeedforwardCore(Matrix<T> Y)
    {
        int N = X.Rows, D = InputSize;
        Z.Resize(N, D);
        T epsilon = InvSqrtEpsilon<T>();
        // R = X − row_repeat(columns_mean(X), N), kept in Z; evaluation centres with the running mean.
        if (IsTraining) ColumnsMean(X, _mean);
        var mean = IsTraining ? _mean.AsSpan() : RunningMean.AsSpan();
        for (int i = 0; i < N; i++)
        {
            var x = X.Row(i);
            var r = Z.Row(i);
            for (int j = 0; j < D; j++) r[j] = x[j] - mean[j];
        }
        var sigma = InvSqrtSigma.AsSpan();
        if (IsTraining)
        {
            // Σ = diag(Rᵀ·R)ᵀ/N;  Σ^(−1/2) = inv_sqrt(Σ)
            sigma.Clear();
            for (int i = 0; i < N; i++)
            {
                var r = Z.Row(i);
                for (int j = 0; j < D; j++) sigma[j] += r[j] * r[j];
            }
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
        for (int i = 0; i < N; i++)
        {
            var z = Z.Row(i);
            var y = Y.Row(i);
            for (int j = 0; j < D; j++)
            {
                z[j] *= sigma[j];
                y[j] = g[j] * z[j] + be[j];
            }
        }
    }

    /// <inheritdoc/>
    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY)
    {
        int N = X.Rows, D = InputSize;
        DZ.Resize(N, D);
        // DZ = (1_N·γ) ⊙ DY
        var g = Gamma.AsSpan();
        for (int i = 0; i < N; i++)
        {
            var dy = DY.Row(i);
            var dz = DZ.Row(i);
            for (int j = 0; j < D; j++) dz[j] = g[j] * dy[j];
        }
        // Dβ = 1_Nᵀ·DY;  Dγ = 1_Nᵀ·(Z ⊙ DY)
        ColumnsSum(DY, DBeta);
        var dgamma = DGamma.AsSpan();
        dgamma.Clear();
        for (int i = 0; i < N; i++)
        {
            var z = Z.Row(i);
            var dy = DY.Row(i);
            for (int j = 0; j < D; j++) dgamma[j] += z[j] * dy[j];
        }
        if (!ComputeInputGradient) return;
        // DX = (1/N·1_N·Σ^(−1/2)) ⊙ (N·DZ − 1_N·columns_sum(DZ) − Z ⊙ (1_N·columns_sum(Z ⊙ DZ)))
        ColumnsSum(DZ, _columnsSum);
        var sumZDZ = _columnsSumZDZ.AsSpan();
        sumZDZ.Clear();
        for (int i = 0; i < N; i++)
        {
            var z = Z.Row(i);
            var dz = DZ.Row(i);
            for (int j = 0; j < D; j++) sumZDZ[j] += z[j] * dz[j];
        }
        T n = T.CreateChecked(N);
        var s = InvSqrtSigma.AsSpan();
        var sumDZ = _columnsSum.AsSpan();
        for (int i = 0; i < N; i++)
        {
            var z = Z.Row(i);
            var dz = DZ.Row(i);
            var dx = DX.Row(i);
            for (int j = 0; j < D; j++) dx[j] = s[j] / n * (n * dz[j] - sumDZ[j] - z[j] * sumZDZ[j]);
        }
    }

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
