namespace Nerva.Training;

/// <summary>
/// What one epoch of training gave, as the epoch line prints it (epoch 0: the network before training). Without
/// statistics (<see cref="TrainingOptions.Statistics"/> off) the loss and accuracies are NaN.
/// </summary>
/// <param name="Epoch">The epoch, 0 before training.</param>
/// <param name="LearningRate">The epoch's learning rate.</param>
/// <param name="Loss">The training set's mean loss, in evaluation mode.</param>
/// <param name="TrainAccuracy">The training set's accuracy, in evaluation mode.</param>
/// <param name="TestAccuracy">The test set's accuracy.</param>
/// <param name="Seconds">The epoch's training time (prune and grow steps and statistics excluded).</param>
/// <param name="Densities">Every linear layer's density (1 for a dense one), after the epoch.</param>
/// <param name="ValidationLoss">The held-out rows' mean loss (<see cref="TrainingOptions.ValidationSplit"/>), NaN without them.</param>
/// <param name="ValidationAccuracy">The held-out rows' accuracy, NaN without them.</param>
public sealed record EpochMetrics(int Epoch, double LearningRate, double Loss, double TrainAccuracy, double TestAccuracy, double Seconds, IReadOnlyList<double> Densities,
    double ValidationLoss = double.NaN, double ValidationAccuracy = double.NaN);
