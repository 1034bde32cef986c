using System.Globalization;

namespace Nerva.Schedulers;

/// <summary>
/// η_i = η_0·Γ^(Σ_j ⌊i/m_j⌋) (seed 000 §9), with any number of milestones m_1 &lt; … &lt; m_k. As in
/// PyTorch's MultiStepLR and the original, each milestone counts once when it is reached: the exponent is
/// the number of milestones m_j ≤ i (the seed's sum of floors would count a milestone again at 2m_j).
/// </summary>
public sealed record MultiStepScheduler : ILearningRateScheduler
{
    /// <summary>η_i = lr·γ^(the milestones ≤ i).</summary>
    public MultiStepScheduler(double lr, IReadOnlyList<int> milestones, double gamma)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        for (int j = 0; j < milestones.Count; j++)
        {
            if (milestones[j] < 1) throw new ArgumentException($"milestones must be positive, got {milestones[j]}", nameof(milestones));
            if (j > 0 && milestones[j] <= milestones[j - 1])
                throw new ArgumentException($"milestones must increase, got {string.Join('|', milestones)}", nameof(milestones));
        }
        InitialRate = lr;
        Milestones = [.. milestones];
        Gamma = gamma;
    }

    /// <summary>The initial learning rate.</summary>
    public double InitialRate { get; }

    /// <summary>The epochs at which the rate is multiplied by γ.</summary>
    public IReadOnlyList<int> Milestones { get; }

    /// <summary>γ, the factor at every milestone.</summary>
    public double Gamma { get; }

    /// <inheritdoc/>
    public double LearningRate(int i) => InitialRate * Math.Pow(Gamma, Milestones.Count(m => m <= i));

    /// <inheritdoc/>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"MultiStepLRScheduler(lr={InitialRate}, milestones=[{string.Join(", ", Milestones)}], gamma={Gamma})");
}
