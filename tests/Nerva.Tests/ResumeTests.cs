using System.Globalization;
using System.Text.RegularExpressions;
using Nerva.Cli;
using Nerva.Data;

namespace Nerva.Tests;

/// <summary>
/// The README's promise that a run resumed from a checkpoint ends with the weights of the run that was never stopped, bit
/// for bit, across every option whose state outlives a batch: each optimizer (Adam's step count), each scheduler, batch
/// normalization, clipping, every prune and grow strategy with and without dropout with the prune step on the first batch
/// after the resume (gradient growth reads the last dropout mask there), mid-epoch steps, and early stopping.
/// </summary>
[Collection(ThreadCountCollection.Name)]
public sealed partial class ResumeTests : ToolTest
{
    /// <summary>The tool tests' run (63 batches an epoch) without the statistics.</summary>
    private static readonly string[] Base = [.. MlpToolTests.Base, "--no-statistics"];

    private static readonly string[] Sparse = ["--densities", "0.5;0.5;1"];
    private static readonly string[] Dropout = ["--dropouts", "0.1;0.1;0"];

    public static TheoryData<string, string[]> Options()
    {
        var cases = new TheoryData<string, string[]>
        {
            { "gradient descent", ["--optimizers", "GradientDescent"] },
            { "momentum", [] },
            { "Nesterov", ["--optimizers", "Nesterov(0.9)"] },
            { "Adam", ["--optimizers", "Adam(beta1=0.9, beta2=0.999, epsilon=1e-8)", "--learning-rate", "0.005"] },
            { "Adam, sparse with dropout", ["--optimizers", "Adam", "--learning-rate", "0.005", .. Sparse, .. Dropout] },
            { "batch normalization with Adam", ["--layers", "ReLU;BatchNormalization;ReLU;Linear", "--optimizers", "Adam", "--learning-rate", "0.005"] },
            { "time-based schedule", ["--learning-rate-scheduler", "TimeBased(lr=0.05, decay=0.1)"] },
            { "step-based schedule", ["--learning-rate-scheduler", "StepBased(lr=0.05, drop_rate=0.5, change_rate=2)"] },
            { "multi-step schedule", ["--learning-rate-scheduler", "MultiStepLR(lr=0.05, milestones=2|4, gamma=0.5)"] },
            { "exponential schedule", ["--learning-rate-scheduler", "Exponential(lr=0.05, change_rate=0.2)"] },
            { "clipping and normalization", ["--clip", "1e-4", "--normalize", "true"] },
            { "gradient growth, dropout, mid-epoch steps", ["--prune", "Magnitude(0.2)", "--grow", "Gradient", "--prune-interval", "20", .. Sparse, .. Dropout] },
            { "gradient growth, dropout, a step at every epoch's first batch by count", ["--prune", "Magnitude(0.2)", "--grow", "Gradient", "--prune-interval", "63", .. Sparse, .. Dropout] },
        };
        // every prune and grow strategy with and without dropout, the step on the first batch of every epoch (and so on
        // the first batch after the resume)
        foreach (string prune in new[] { "Magnitude(0.2)", "SET(0.2)", "Threshold(0.05)" })
            foreach (string grow in new[] { "Random", "Gradient" })
                foreach (bool dropout in new[] { false, true })
                    cases.Add($"{prune} + {grow}{(dropout ? ", dropout" : "")}", ["--prune", prune, "--grow", grow, .. Sparse, .. dropout ? Dropout : []]);
        return cases;
    }

    [Theory]
    [MemberData(nameof(Options))]
    public void A_resumed_run_ends_with_the_weights_of_the_run_without_a_stop(string name, string[] options)
    {
        string[] run = Replaced(Base, options);
        string whole = Path.Combine(Folder, "whole.npz"), resumed = Path.Combine(Folder, "resumed.npz"), checkpoints = Path.Combine(Folder, "ck");
        Succeed(name, [.. run, "--epochs", "4", "--save-weights", whole]);
        Succeed(name, [.. run, "--epochs", "2", "--checkpoint", checkpoints]);
        string output = Succeed(name, [.. run, "--epochs", "4", "--resume", checkpoints, "--save-weights", resumed]);
        Assert.Equal(Weights(whole), Weights(resumed));
        Assert.Contains("Total training time for the 2 epochs", output);   // the epochs of this run, not of the whole
    }

    [Fact]
    public void Early_stopping_resumes_with_its_best_epoch_and_patience()
    {
        string[] run = [.. Base, "--validation-split", "0.2", "--early-stopping", "2"];
        string whole = Path.Combine(Folder, "whole.npz");
        string output = Succeed("whole", [.. run, "--epochs", "10", "--save-weights", whole]);
        var stop = EarlyStop().Match(output);
        Assert.True(stop.Success, output);
        int stopped = int.Parse(stop.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal("early stopping after epoch 5: the validation loss has not improved for 2 epochs; the weights of epoch 3", stop.Value);
        // stopped after every epoch up to the early stop, and resumed: the same stop, the same restored weights
        for (int k = 1; k <= stopped; k++)
        {
            string checkpoints = Path.Combine(Folder, $"ck{k}"), resumed = Path.Combine(Folder, $"resumed{k}.npz");
            Succeed($"stop at {k}", [.. run, "--epochs", k.ToString(CultureInfo.InvariantCulture), "--checkpoint", checkpoints]);
            string again = Succeed($"resume from {k}", [.. run, "--epochs", "10", "--resume", checkpoints, "--save-weights", resumed]);
            Assert.Equal(Weights(whole), Weights(resumed));
            if (k < stopped) Assert.Contains(stop.Value, again);
        }
    }

    /// <summary>
    /// The prune fraction's cosine decay spans the whole run (a share of all its batches), so the run is stopped inside a
    /// 4-epoch run, as an interruption stops it, not by a shorter run as the cases above: RigL (gradient growth every 20
    /// batches) and SET once per epoch, checkpointed after epoch 2 of 4 and resumed, end with the uninterrupted weights.
    /// </summary>
    [Theory]
    [InlineData("RigL", 20)]
    [InlineData("SET", 0)]
    public void Dynamic_sparse_training_with_the_cosine_decay_resumes_with_the_same_steps(string method, int interval)
    {
        var data = GeneratedDatasets.Generate("checkerboard", 600, new Rng(1));
        var sparse = method == "RigL"
            ? new Sparse.DynamicSparseTraining(new Sparse.MagnitudePruning(0.3), new Sparse.GradientGrowth(), WeightInitializer.Zero, interval) { CosineDecay = 0.75 }
            : new Sparse.DynamicSparseTraining(new Sparse.SETPruning(0.3), new Sparse.RandomGrowth(), WeightInitializer.Xavier, interval) { CosineDecay = 0.9 };
        Training.StochasticGradientDescent Trainer(Model model) => new(model.Network, new Losses.SoftmaxCrossEntropyLoss(), new Schedulers.ConstantScheduler(0.05),
            new Training.TrainingOptions { Epochs = 4, BatchSize = 20, Statistics = false, SparseTraining = sparse }, new Rng(3), TextWriter.Null);
        Model Create() => Model.Create("2-32-32-2", density: 0.5, optimizer: "Momentum(0.9)", seed: 2);
        var whole = Create();
        Trainer(whole).Train(data);

        var first = Create();
        var sgd = Trainer(first);
        string path = Path.Combine(Folder, "decay.npz");
        using var stop = new CancellationTokenSource();
        sgd.EpochCompleted += m =>
        {
            if (m.Epoch != 2) return;
            Training.Checkpoint.Save(path, sgd, m.Epoch);
            stop.Cancel();   // interrupted after the checkpoint, in a run of 4 epochs
        };
        Assert.Throws<OperationCanceledException>(() => sgd.Train(data, cancellation: stop.Token));
        var second = Create();
        var resumed = Trainer(second);
        resumed.Train(data, Training.Checkpoint.Load(path, resumed));
        foreach (var (a, b) in whole.Network.Layers.SelectMany(l => l.Parameters).Zip(second.Network.Layers.SelectMany(l => l.Parameters)))
            Assert.Equal(a.Value.AsSpan().ToArray(), b.Value.AsSpan().ToArray());
        // and the decay did change the run
        var constant = Create();
        new Training.StochasticGradientDescent(constant.Network, new Losses.SoftmaxCrossEntropyLoss(), new Schedulers.ConstantScheduler(0.05),
            new Training.TrainingOptions { Epochs = 4, BatchSize = 20, Statistics = false, SparseTraining = sparse with { CosineDecay = 0 } }, new Rng(3), TextWriter.Null).Train(data);
        Assert.NotEqual(whole.Network.Layers[1].Parameters[0].Value.AsSpan().ToArray(), constant.Network.Layers[1].Parameters[0].Value.AsSpan().ToArray());
    }

    [Fact]
    public void Adam_resumed_through_the_library_takes_the_same_steps()
    {
        var data = GeneratedDatasets.Generate("checkerboard", 600, new Rng(1));
        Training.StochasticGradientDescent Trainer(Model model) => new(model.Network, new Losses.SoftmaxCrossEntropyLoss(), new Schedulers.ConstantScheduler(0.01),
            new Training.TrainingOptions { Epochs = 4, BatchSize = 50, Statistics = false }, new Rng(3), TextWriter.Null);
        var whole = Model.Create("2-16-2", optimizer: "Adam", seed: 2);
        Trainer(whole).Train(data);

        var first = Model.Create("2-16-2", optimizer: "Adam", seed: 2);
        var sgd = Trainer(first);
        string path = Path.Combine(Folder, "adam.npz");
        sgd.EpochCompleted += m =>
        {
            if (m.Epoch == 2) Training.Checkpoint.Save(path, sgd, m.Epoch);
        };
        sgd.Train(data);
        var second = Model.Create("2-16-2", optimizer: "Adam", seed: 2);
        var resumed = Trainer(second);
        int epochs = Training.Checkpoint.Load(path, resumed);
        Assert.Equal(2, epochs);
        Assert.Equal(2 * ((data.Xtrain.Rows + 49) / 50), second.Network.Layers[0].Parameters[0].Optimizer.Steps);   // two epochs of batches of 50
        resumed.Train(data, epochs);
        foreach (var (a, b) in whole.Network.Layers.SelectMany(l => l.Parameters).Zip(second.Network.Layers.SelectMany(l => l.Parameters)))
            Assert.Equal(a.Value.AsSpan().ToArray(), b.Value.AsSpan().ToArray());
    }

    [Fact]
    public void A_checkpoint_is_read_only_as_far_as_its_network_can_use()
    {
        var data = GeneratedDatasets.Generate("checkerboard", 200, new Rng(1));
        var model = Model.Create("2-16-2", optimizer: "Adam", seed: 2);
        var sgd = new Training.StochasticGradientDescent(model.Network, new Losses.SoftmaxCrossEntropyLoss(), new Schedulers.ConstantScheduler(0.01),
            new Training.TrainingOptions { Epochs = 1, BatchSize = 50 });
        sgd.Train(data);
        string path = Path.Combine(Folder, "checkpoint.npz");
        Training.Checkpoint.Save(path, sgd, 1);
        // a member nobody reads (100 MB of zeros) is never decompressed; a state that claims more values than its
        // parameter has is refused from its header
        using (var zip = System.IO.Compression.ZipFile.Open(path, System.IO.Compression.ZipArchiveMode.Update))
        {
            using var entry = zip.CreateEntry("junk.npy", System.IO.Compression.CompressionLevel.Fastest).Open();
            var zeros = new byte[1 << 20];
            for (int i = 0; i < 100; i++) entry.Write(zeros);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Equal(1, Training.Checkpoint.Load(path, sgd));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20);
        Training.Checkpoint.Save(path, sgd, 1);
        var arrays = Npz.Read(path);
        arrays["state_1_1_1"] = NpyArray.FromFloats(new float[1000], 1000);
        Npz.Write(path, [.. arrays]);
        Assert.Contains("state_1_1_1: shape (1000) holds 1000 elements; at most 32 are expected here",
            Assert.Throws<DataFormatException>(() => Training.Checkpoint.Load(path, sgd)).Message);
    }

    [Fact]
    public void A_checkpoint_of_the_earlier_format_is_refused_with_one_line()
    {
        string checkpoints = Path.Combine(Folder, "ck");
        Succeed("checkpoint", [.. Base, "--epochs", "1", "--checkpoint", checkpoints]);
        string file = Path.Combine(checkpoints, "checkpoint.npz");
        Npz.Write(file, Npz.Read(file).Where(pair => pair.Key is not ("version" or "steps" or "early_stopping")).ToList());
        var (code, _, error) = Run([.. Base, "--epochs", "2", "--resume", checkpoints]);
        Assert.Equal(1, code);
        Assert.Contains("a checkpoint of format 1; this version reads format 2", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    private static string Succeed(string name, string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.True(code == 0, $"{name}: {error}");
        return output;
    }

    /// <summary>Every array of a weights file, as bits.</summary>
    private static Dictionary<string, string> Weights(string path) =>
        Npz.Read(path).ToDictionary(pair => pair.Key, pair => Convert.ToHexString(pair.Value.Data));

    [GeneratedRegex(@"early stopping after epoch (\d+): the validation loss has not improved for \d+ epochs; the weights of epoch \d+")]
    private static partial Regex EarlyStop();
}
