using System.Globalization;

namespace Nerva.Schedulers;

/// <summary>η_i = η_0·e^(−d·i) (seed 000 §9); d is the original's <c>change_rate</c>.</summary>
public sealed record ExponentialScheduler(double InitialRate, double ChangeRate) : ILearningRateScheduler
{
    /// <inheritdoc/>
    public double LearningRate(int i) => InitialRate * Math.Exp(-ChangeRate * i);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ExponentialScheduler(lr={InitialRate}, change_rate={ChangeRate})");
}
