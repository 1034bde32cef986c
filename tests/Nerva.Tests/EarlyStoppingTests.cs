using Nerva.Data;
using Nerva.Losses;
using Nerva.Schedulers;
using Nerva.Training;

namespace Nerva.Tests;

/// <summary>A validation split and early stopping (issue 16): the run stops at the expected epoch and keeps the best weights.</summary>
[Collection(ThreadCountCollection.Name)]
public sealed class EarlyStoppingTests
{
    /// <summary>
    /// Two separable blobs; the held-out last fifth repeats the first rows with their labels swapped, so that the better
    /// the network learns the blobs, the worse its validation loss gets.
    /// </summary>
    private static Dataset Contradicted()
    {
        var rng = new Rng(4);
        int N = 500, held = 100;
        var X = new Matrix<float>(N, 2);
        var labels = new long[N];
        for (int i = 0; i < N - held; i++)
        {
            labels[i] = i % 2;
            X[i, 0] = (float)((labels[i] == 0 ? -1 : 1) + 0.5 * rng.Uniform(-1, 1));
            X[i, 1] = (float)rng.Uniform(-1, 1);
        }
        for (int i = N - held; i < N; i++)
        {
            X.Row(i - (N - held)).CopyTo(X.Row(i));
            labels[i] = 1 - labels[i - (N - held)];
        }
        return Dataset.FromLabels(X, labels, X.Clone(), labels, 2);
    }

    private static (Model Model, List<EpochMetrics> Epochs) Train(TrainingOptions options)
    {
        var model = Model.Create("2-16-2", weights: "He", optimizer: "Momentum(0.9)", seed: 2);
        var sgd = new StochasticGradientDescent(model.Network, new SoftmaxCrossEntropyLoss(), new ConstantScheduler(0.05), options, seed: 3);
        var epochs = new List<EpochMetrics>();
        sgd.EpochCompleted += epochs.Add;
        sgd.Train(Contradicted());
        return (model, epochs);
    }

    [Fact]
    public void A_rising_validation_loss_stops_the_run_and_the_best_weights_are_kept()
    {
        var options = new TrainingOptions { Epochs = 40, BatchSize = 20, ValidationSplit = 0.2, EarlyStoppingPatience = 3 };
        var (model, epochs) = Train(options);
        var trained = epochs.Skip(1).ToList();   // epoch 0 is the network before training
        int best = trained.MinBy(m => m.ValidationLoss)!.Epoch;
        Assert.True(best < 20, $"the validation loss kept falling until epoch {best}: the data does not contradict itself");
        Assert.Equal(best + options.EarlyStoppingPatience, trained[^1].Epoch);   // stopped after `patience` epochs without a better one
        Assert.All(trained.Where(m => m.Epoch > best), m => Assert.True(m.ValidationLoss >= trained[best - 1].ValidationLoss));
        // the weights given back are those of the best epoch: a run of exactly that many epochs ends with the same bits
        var (shorter, _) = Train(options with { Epochs = best, EarlyStoppingPatience = 0 });
        var X = Contradicted().Xtest;
        Assert.Equal(shorter.Predict(X).AsSpan().ToArray(), model.Predict(X).AsSpan().ToArray());
    }

    [Fact]
    public void The_held_out_rows_are_never_trained_on()
    {
        // with the contradicting rows held out the network learns the blobs; trained on, they keep it at chance on them
        var (_, held) = Train(new TrainingOptions { Epochs = 10, BatchSize = 20, ValidationSplit = 0.2 });
        var (_, all) = Train(new TrainingOptions { Epochs = 10, BatchSize = 20 });
        Assert.True(held[^1].TrainAccuracy > 0.95, $"{held[^1].TrainAccuracy}");
        Assert.True(all[^1].TrainAccuracy < 0.85, $"{all[^1].TrainAccuracy}");
        Assert.True(double.IsNaN(all[^1].ValidationLoss));
    }
}
