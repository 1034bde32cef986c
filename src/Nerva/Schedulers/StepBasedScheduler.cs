using System.Globalization;

namespace Nerva.Schedulers;

/// <summary>
/// η_i = η_0·d^⌊(1 + i)/r⌋ (seed 000 §9): the rate is multiplied by <see cref="DropRate"/> d every
/// <see cref="ChangeRate"/> r steps. The names follow the original's <c>StepBased(lr, drop_rate, change_rate)</c>;
/// the seed's table labels d and r the other way round.
/// </summary>
public sealed record StepBasedScheduler(double InitialRate, double DropRate, double ChangeRate) : ILearningRateScheduler
{
    /// <inheritdoc/>
    public double LearningRate(int i) => InitialRate * Math.Pow(DropRate, Math.Floor((1 + i) / ChangeRate));

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"StepBasedScheduler(lr={InitialRate}, drop_rate={DropRate}, change_rate={ChangeRate})");
}
