namespace Nerva.Data;

/// <summary>
/// What is done to a raw input row before the network sees it, in this order: image pixels v ∈ 0..255 become
/// 2(v/255 − 0.5) ∈ [−1, 1] (<see cref="ScalePixels"/>, the image readers' scaling), then every feature j is
/// standardised as (x_j − Mean_j)·Scale_j with the training set's statistics (<see cref="Dataset.Normalize"/>),
/// computed in double and rounded to float once, exactly as the dataset was. A <see cref="Model"/> keeps it, so that raw
/// inputs are prepared the same way again.
/// </summary>
public sealed class InputPreprocessing
{
    /// <summary>Nothing: rows are used as they are.</summary>
    public static readonly InputPreprocessing None = new(false, null, null);

    /// <summary>Pixels scaled from 0..255 to [−1, 1], then, when <paramref name="mean"/> and <paramref name="scale"/> are given, standardised.</summary>
    public InputPreprocessing(bool scalePixels, double[]? mean = null, double[]? scale = null)
    {
        if ((mean is null) != (scale is null)) throw new ArgumentException("give both the means and the scales of the features, or neither");
        if (mean is not null && mean.Length != scale!.Length) throw new ArgumentException($"{mean.Length} means but {scale.Length} scales");
        if (mean is not null && !mean.Concat(scale!).All(double.IsFinite)) throw new ArgumentException("the means and scales must be finite");
        ScalePixels = scalePixels;
        Mean = mean;
        Scale = scale;
    }

    /// <summary>Whether raw inputs are image pixels in 0..255, scaled to [−1, 1] first.</summary>
    public bool ScalePixels { get; }

    /// <summary>The training set's mean of every feature (after pixel scaling), or null without standardisation.</summary>
    public double[]? Mean { get; }

    /// <summary>1/σ of every feature (1 where σ = 0), or null without standardisation.</summary>
    public double[]? Scale { get; }

    /// <summary>Whether rows are used as they are.</summary>
    public bool IsNone => !ScalePixels && Mean is null;

    /// <summary>The same pixel scaling, standardised with these statistics.</summary>
    public InputPreprocessing Standardized(double[] mean, double[] scale) => new(ScalePixels, mean, scale);

    /// <summary>Writes the prepared <paramref name="raw"/> row to <paramref name="x"/> (they may be the same span).</summary>
    public void Apply(ReadOnlySpan<float> raw, Span<float> x)
    {
        if (raw.Length != x.Length) throw new ArgumentException($"{raw.Length} raw values for {x.Length} features");
        if (Mean is not null && raw.Length != Mean.Length) throw new ArgumentException($"the input has {raw.Length} features, the preprocessing {Mean.Length}");
        for (int j = 0; j < x.Length; j++)
        {
            float v = ScalePixels ? ImageDatasets.ToUnit(raw[j]) : raw[j];
            x[j] = Mean is null ? v : (float)((v - Mean[j]) * Scale![j]);
        }
    }

    /// <summary>Prepares every row of <paramref name="X"/> in place.</summary>
    public void Apply(Matrix<float> X)
    {
        ArgumentNullException.ThrowIfNull(X);
        if (IsNone) return;
        for (int i = 0; i < X.Rows; i++) Apply(X.Row(i), X.Row(i));
    }

    /// <inheritdoc/>
    public override string ToString() =>
        IsNone ? "none" : string.Join(", ", new[] { ScalePixels ? "pixels 0..255 to [-1, 1]" : null, Mean is not null ? $"standardised ({Mean.Length} features)" : null }.OfType<string>());
}
