using System.Globalization;

namespace Nerva.Schedulers;

/// <summary>
/// η_{i+1} = η_i/(1 + d·i) (seed 000 §9), evaluated in closed form η_i = η_0/∏_{j&lt;i}(1 + d·j), so that
/// η_0 = η_1 = lr. The original updates a stored rate on every call, and its sequence is one step ahead of
/// this one (its epoch-i rate is η_{i+1}).
/// </summary>
public sealed record TimeBasedScheduler(double InitialRate, double Decay) : ILearningRateScheduler
{
    /// <inheritdoc/>
    public double LearningRate(int i)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(i);
        double eta = InitialRate;
        for (int j = 0; j < i; j++) eta /= 1 + Decay * j;
        return eta;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"TimeBasedScheduler(lr={InitialRate}, decay={Decay})");
}
