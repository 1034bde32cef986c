using Nerva.Data;
using Nerva.Layers;
using Nerva.Training;

namespace Nerva.Tests;

/// <summary>
/// The library checks its arguments as the mlp tool does (it is the API); datasets take int labels and need no test set;
/// the writers stream from the network's memory; seed 000 §5's alternating All-ReLU sign.
/// </summary>
[Collection(ThreadCountCollection.Name)]
public sealed class LibraryArgumentTests : ToolTest
{
    private static Dataset Data() => GeneratedDatasets.Generate("checkerboard", 100, new Rng(1));

    [Fact]
    public void Train_refuses_what_it_cannot_run_instead_of_looping_or_ignoring_it()
    {
        var model = Model.Create("2-4-2", seed: 1);
        var data = Data();
        // batch size 0 looped forever at full CPU; −1 epochs and learning rates −1 and NaN were accepted
        Assert.Contains("BatchSize must be at least 1, got 0", Assert.Throws<ArgumentOutOfRangeException>(() => model.Train(data, batchSize: 0)).Message);
        Assert.Contains("Epochs must be at least 0, got -1", Assert.Throws<ArgumentOutOfRangeException>(() => model.Train(data, epochs: -1)).Message);
        Assert.Contains("the learning rate of epoch 1 is -1", Assert.Throws<ArgumentOutOfRangeException>(() => model.Train(data, learningRate: -1)).Message);
        Assert.Contains("is NaN", Assert.Throws<ArgumentOutOfRangeException>(() => model.Train(data, learningRate: double.NaN)).Message);
        Assert.Contains("unknown loss", Assert.Throws<Specs.InvalidSpecException>(() => model.Train(data, loss: "Hinge")).Message);
        foreach (var options in new TrainingOptions[]
        {
            new() { Clip = double.NaN }, new() { GradientStep = 2 }, new() { Timer = "fast" }, new() { ValidationSplit = 1 }, new() { EarlyStoppingPatience = -1 },
        })
            Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Throws<ArgumentException>(new TrainingOptions { EarlyStoppingPatience = 2 }.Validate);
        // the weights are as they were: nothing ran
        Assert.Equal(Model.Create("2-4-2", seed: 1).Network.Layers[0].Parameters[0].Value.AsSpan().ToArray(), model.Network.Layers[0].Parameters[0].Value.AsSpan().ToArray());
    }

    [Fact]
    public void Cancellation_stops_after_the_batch_and_before_the_statistics()
    {
        var data = GeneratedDatasets.Generate("checkerboard", 1000, new Rng(1));
        var model = Model.Create("2-8-2", seed: 1);
        var sgd = new StochasticGradientDescent(model.Network, new Losses.SquaredErrorLoss(), new Schedulers.ConstantScheduler(0.01), new TrainingOptions { Epochs = 3, BatchSize = 100 });
        using var source = new CancellationTokenSource();
        int epochs = 0;
        sgd.EpochCompleted += _ => epochs++;
        sgd.BatchCompleted += b =>
        {
            if (b.Batch == b.Batches) source.Cancel();   // the epoch's last batch: its statistics come next
        };
        Assert.Throws<OperationCanceledException>(() => sgd.Train(data, cancellation: source.Token));
        Assert.Equal(1, epochs);   // epoch 0's line only
        Assert.Equal(10, sgd.BatchesDone);
        Assert.InRange(sgd.Evaluate(data.Xtest, data.Ttest).Accuracy, 0, 1);   // evaluation afterwards is not cancelled
    }

    [Fact]
    public void Optimizer_parameters_are_checked_by_the_library()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Optimizers.Adam(Beta1: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Optimizers.Adam(Beta2: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Optimizers.Adam(Epsilon: 0));
        Assert.Equal(new Optimizers.Adam(0.8, 0.9, 1e-6), Specs.SpecParser.Optimizer("Adam(0.8, 0.9, 1e-6)"));   // as --help writes it
        Assert.Contains("Adam takes at most 3 arguments (beta1, beta2, epsilon), got 4",
            Assert.Throws<Specs.InvalidSpecException>(() => Specs.SpecParser.Optimizer("Adam(0.9, 0.999, 1e-8, 2)")).Message);
        Assert.Contains("Momentum takes at most 1 argument (mu|momentum)", Assert.Throws<Specs.InvalidSpecException>(() => Specs.SpecParser.Optimizer("Momentum(0.9, 0.8)")).Message);
        Assert.Contains("give all three parameters", Assert.Throws<Specs.InvalidSpecException>(() => Specs.SpecParser.Optimizer("Adam(0.95)")).Message);
    }

    [Fact]
    public void A_dataset_takes_int_labels_and_needs_no_test_set()
    {
        var X = Matrix<float>.FromRows([0, 0], [0, 1], [1, 0], [1, 1]);
        var data = Dataset.FromLabels(X, [0, 1, 1, 0]);
        Assert.Equal((4, 2, 0), (data.Xtrain.Rows, data.Classes, data.Xtest.Rows));
        var model = Model.Create("2-8-2", seed: 1);
        double accuracy = model.Train(data, epochs: 2, batchSize: 2);
        Assert.True(double.IsNaN(accuracy));   // no test set, no test accuracy
        Assert.InRange(model.Evaluate(X, [0, 1, 1, 0]), 0, 1);   // Evaluate takes the same int labels
        var withTest = Dataset.FromLabels(X, [0, 1, 1, 0], X, [0, 1, 1, 0]);
        Assert.Equal(4, withTest.Xtest.Rows);
        Assert.Throws<ArgumentException>(() => Dataset.FromLabels(X, [0, 1, 1, 0], X));
        Assert.Contains("negative", Assert.Throws<DataFormatException>(() => Dataset.FromLabels(X, [0, -1, 1, 0])).Message);
        Assert.Equal(2, new Dataset(X, withTest.Ttrain).Classes);
    }

    [Fact]
    public void Saving_writes_from_the_network_without_copying_it()
    {
        // 1000×2000 and 2000×1000 weights: 16 MB; the writers copied every array twice (32 MB) before writing
        var model = Model.Create("1000-2000-1000", optimizer: "Momentum(0.9)", seed: 1);
        var sgd = new StochasticGradientDescent(model.Network, new Losses.SquaredErrorLoss(), new Schedulers.ConstantScheduler(0.01), new TrainingOptions());
        foreach (var save in new Action<string>[] { path => WeightsFile.Save(model.Network, path), model.Save, path => Checkpoint.Save(path, sgd, 0) })
        {
            string path = Path.Combine(Folder, "saved.npz");
            save(path);   // once before, so that code and buffers are ready
            long before = GC.GetAllocatedBytesForCurrentThread();
            save(path);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 2 << 20, $"allocated {allocated >> 10} KB");
        }
        Assert.Equal(model.Network.Layers[1].Parameters[0].Value.AsSpan().ToArray(), Npz.Read(Path.Combine(Folder, "saved.npz"))["W2"].ToFloats());
    }

    [Fact]
    public void AllReLU_layers_alternate_their_sign_as_seed_000_says()
    {
        static float[] Alphas(Model model) => [.. model.Network.Layers.OfType<ActivationLayer<float, Activations.AllReLU<float>>>().Select(l => l.Activation.Alpha)];
        // §5: layers 2, 3, 4, … take −α, α, −α, …
        Assert.Equal([-0.3f, 0.3f, -0.3f], Alphas(Model.Create("4-8-8-8-2", activation: "AllReLU(0.3)", seed: 1)));
        Assert.Equal([-0.3f, 0.2f], Alphas(Model.Create("4-8-8-2", layers: "AllReLU(0.3);AllReLU(alpha=0.2);Linear", seed: 1)));
        // unless asked otherwise
        Assert.Equal([0.3f, 0.3f], Alphas(Model.Create("4-8-8-2", activation: "AllReLU(alpha=0.3, alternate=false)", seed: 1)));
        Assert.Contains("'alternate' must be true or false", Assert.Throws<Specs.InvalidSpecException>(() => Model.Create("4-8-2", activation: "AllReLU(alpha=0.3, alternate=no)")).Message);
        // a saved model rebuilds the signs it has, not alternated again
        var model = Model.Create("4-8-8-8-2", activation: "AllReLU(0.3)", seed: 1);
        string path = Path.Combine(Folder, "allrelu.npz");
        model.Save(path);
        Assert.Equal([-0.3f, 0.3f, -0.3f], Alphas(Model.Load(path)));
    }
}
