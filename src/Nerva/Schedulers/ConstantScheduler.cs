using System.Globalization;

namespace Nerva.Schedulers;

/// <summary>η_i = η_0 (seed 000 §9).</summary>
public sealed record ConstantScheduler(double InitialRate) : ILearningRateScheduler
{
    /// <inheritdoc/>
    public double LearningRate(int i) => InitialRate;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ConstantScheduler(lr={InitialRate})");
}
