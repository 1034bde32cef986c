using System.Globalization;

namespace Nerva.Schedulers;

/// <summary>η_i = η_0·e^(−d·i) (seed 000 §9); d is the original's <c>change_rate</c>.</summary>
public sealed record ExponentialScheduler(double Lr, double ChangeRate) : ILearningRateScheduler
{
    /// <inheritdoc/>
    public double LearningRate(int i) => Lr * Math.Exp(-ChangeRate * i);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ExponentialScheduler(lr={Lr}, change_rate={ChangeRate})");
}
