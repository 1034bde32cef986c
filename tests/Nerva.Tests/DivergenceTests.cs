using System.Globalization;
using Nerva.Cli;
using Nerva.Data;
using Nerva.Training;

namespace Nerva.Tests;

/// <summary>A run that diverges stops with one line and a non-zero exit, and never writes non-finite weights over a good file.</summary>
[Collection(ThreadCountCollection.Name)]
public sealed class DivergenceTests : ToolTest
{
    private static readonly string[] Small =
        ["--generate-dataset", "checkerboard", "--dataset-size", "200", "--layers", "ReLU;Linear", "--layer-sizes", "2-8-2", "--seed", "3", "--threads", "1"];

    [Fact]
    public void A_diverged_run_exits_non_zero_with_one_line_and_saves_nothing()
    {
        string weights = Path.Combine(Folder, "w.npz"), model = Path.Combine(Folder, "m.npz");
        var (code, output, error) = Run([.. Small, "--batch-size", "10", "--learning-rate", "1e6", "--epochs", "1", "--save-weights", weights, "--save-model", model]);
        Assert.Equal(1, code);
        Assert.StartsWith("error: the loss became NaN in epoch 1", error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("NaN", output);
        Assert.False(File.Exists(weights));
        Assert.False(File.Exists(model));
    }

    [Fact]
    public void An_epoch_whose_last_update_diverges_is_caught_before_its_statistics()
    {
        // one batch an epoch: the loss before the only update is finite, the weights after it are not (the old check
        // looked at the loss before each update only, so this run printed "loss: NaN" and exited 0)
        var (code, output, error) = Run([.. Small, "--batch-size", "200", "--learning-rate", "1e38", "--epochs", "1"]);
        Assert.Equal(1, code);
        Assert.Matches(@"^error: the (weights became infinite or NaN \(W of layer 1\) in|loss on the training set became \S+ after) epoch 1; lower the learning rate", error);
        Assert.DoesNotContain("NaN", output);
    }

    [Fact]
    public void The_checkpoint_of_the_last_good_epoch_is_kept()
    {
        string checkpoints = Path.Combine(Folder, "ck"), file = Path.Combine(checkpoints, "checkpoint.npz");
        // epoch 1 at lr 0.01, epoch 2 at 10³⁶: the second epoch diverges
        string[] run = [.. Small, "--batch-size", "10", "--learning-rate-scheduler", "MultiStepLR(lr=0.01, milestones=1, gamma=1e38)", "--epochs", "3", "--checkpoint", checkpoints];
        var (code, _, error) = Run(run);
        Assert.Equal(1, code);
        Assert.Contains("in epoch 2", error);
        var saved = Npz.Read(file);
        Assert.Equal(1, saved["epochs"].ToInt64()[0]);
        Assert.All(saved.Where(pair => pair.Value.Kind == 'f'), pair => Assert.All(pair.Value.ToDoubles(), x => Assert.False(double.IsNaN(x), pair.Key)));
    }

    [Fact]
    public void The_writers_refuse_a_network_with_non_finite_weights()
    {
        var model = Model.Create("2-4-2", seed: 1);
        string path = Path.Combine(Folder, "w.npz");
        WeightsFile.Save(model.Network, path);
        var good = File.ReadAllBytes(path);
        model.Network.Layers[1].Parameters[1].Value[0, 1] = float.PositiveInfinity;
        Assert.Contains("b of layer 2 holds values that are not finite", Assert.Throws<InvalidOperationException>(() => WeightsFile.Save(model.Network, path)).Message);
        Assert.Throws<InvalidOperationException>(() => model.Save(path));
        Assert.Equal(good, File.ReadAllBytes(path));   // the good file is untouched
        Assert.Equal("b of layer 2", model.Network.FirstNonFinite());
    }

    [Fact]
    public void The_library_trainer_throws_when_the_weights_diverge()
    {
        var data = GeneratedDatasets.Generate("checkerboard", 100, new Rng(1));
        var model = Model.Create("2-8-2", seed: 1);
        var sgd = new StochasticGradientDescent(model.Network, new Losses.SquaredErrorLoss(), new Schedulers.ConstantScheduler(1e30),
            new TrainingOptions { Epochs = 1, BatchSize = 1000 });
        var e = Assert.Throws<TrainingDivergedException>(() => sgd.Train(data));
        Assert.Contains("after epoch 1", e.Message);
        // a learning rate no float holds is refused before training
        sgd = new StochasticGradientDescent(model.Network, new Losses.SquaredErrorLoss(), new Schedulers.ConstantScheduler(1e300), new TrainingOptions { Epochs = 1 });
        Assert.Contains("a positive number a float can hold", Assert.Throws<ArgumentOutOfRangeException>(() => sgd.Train(data)).Message);
    }
}
