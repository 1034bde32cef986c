namespace Nerva.Schedulers;

/// <summary>A learning-rate scheduler η : ℕ → ℝ, the learning rate at step (epoch) i (seed 000 §9).</summary>
public interface ILearningRateScheduler
{
    /// <summary>η_i. A pure function of i: asking twice gives the same value.</summary>
    double LearningRate(int i);
}
