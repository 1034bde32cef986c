using System.Globalization;
using System.Text.RegularExpressions;
using Nerva.Cli;
using Nerva.Data;

namespace Nerva.Tests;

/// <summary>The mlp tool end to end, on generated data; every failure is one line without a stack trace.</summary>
[Collection(ThreadCountCollection.Name)]
public sealed partial class MlpToolTests : ToolTest
{
    /// <summary>Checkerboard of 2000 samples in batches of 32 (63 an epoch), 2-64-64-2 with momentum, one thread.</summary>
    internal static readonly string[] Base =
    [
        "--generate-dataset", "checkerboard", "--dataset-size", "2000", "--layers", "ReLU;ReLU;Linear", "--layer-sizes", "2;64;64;2",
        "--layer-weights", "He", "--optimizers", "Momentum(0.9)", "--learning-rate", "0.05", "--loss", "SoftmaxCrossEntropy",
        "--batch-size", "32", "--seed", "7", "--threads", "1",
    ];

    private static readonly string[] Checkerboard = Base;

    /// <summary>The base arguments with some options replaced or added.</summary>
    private static string[] With(params string[] changes) => Replaced(Base, changes);

    private static double[] Losses(string output) => [.. EpochLine().Matches(output).Select(m => double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))];

    /// <summary>
    /// --prune-cosine-decay 0.75 over 4 epochs of 63 batches: steps every 21 batches prune round(0.4·½(1 + cos(π·t/189))·nnz)
    /// of the 64×64 layer's 2048 weights at batch t, and none from batch 189 = round(0.75 · 252) on.
    /// </summary>
    [Fact]
    public void The_prune_fraction_follows_the_cosine_decay_and_the_steps_end_with_it()
    {
        var (code, output, error) = Run([.. With("--densities", "0.5;0.5;1"), "--epochs", "4", "--prune", "Magnitude(0.4)", "--prune-interval", "21", "--prune-cosine-decay", "0.75"]);
        Assert.True(code == 0, error);
        int[] counts = [.. Regex.Matches(output, @"pruning \+ growing (\d+)/2048 weights").Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))];
        int[] expected = [.. Enumerable.Range(1, 8).Select(k => (int)Math.Round(0.4 * 0.5 * (1 + Math.Cos(Math.PI * 21 * k / 189)) * 2048, MidpointRounding.AwayFromZero))];
        Assert.Equal(expected, counts);
        Assert.Contains("--prune-cosine-decay must be a share of the run in [0, 1]", Run([.. Base, "--prune", "SET(0.3)", "--prune-cosine-decay", "2"]).Error);
        Assert.Contains("which Threshold(0.1) has not", Run([.. With("--densities", "0.5;0.5;1"), "--prune", "Threshold(0.1)", "--prune-cosine-decay", "0.5"]).Error);
    }

    [Fact]
    public void Training_on_generated_data_lowers_the_loss_in_the_original_format()
    {
        var (code, output, error) = Run([.. Checkerboard, "--epochs", "8"]);
        Assert.True(code == 0, error);
        Assert.StartsWith("=== Nerva.NET model ===", output);
        Assert.Contains("Dense(input_size=2, output_size=64, optimizer=Momentum(0.90000), activation=ReLU())", output);
        Assert.Contains("loss = SoftmaxCrossEntropyLoss()", output);
        Assert.Contains("layer densities: 128/128 (100%), 4096/4096 (100%), 128/128 (100%)", output);
        Assert.Matches(@"epoch   0 lr: 0\.05000000  loss: \d+\.\d{8}  train accuracy: \d\.\d{8}  test accuracy: \d\.\d{8} time: 0\.00000000s", output);
        Assert.Matches(@"Total training time for the 8 epochs: \d+\.\d{8}s", output);
        var losses = Losses(output);
        Assert.Equal(9, losses.Length);
        Assert.True(losses[^1] < 0.9 * losses[0], $"loss {losses[0]} → {losses[^1]}");
    }

    /// <summary>Two Gaussian blobs, written as an .npz dataset in the original's layout; returns its path.</summary>
    private string WriteBlobs()
    {
        var rng = new Rng(3);
        float[] Blobs(int n, long[] labels)
        {
            var x = new float[n * 2];
            for (int i = 0; i < n; i++)
            {
                labels[i] = i % 2;
                x[2 * i] = (float)rng.Normal(labels[i] == 0 ? -1 : 1, 0.5);
                x[2 * i + 1] = (float)rng.Normal(labels[i] == 0 ? 1 : -1, 0.5);
            }
            return x;
        }
        long[] train = new long[400], test = new long[100];
        string path = Path.Combine(Folder, "blobs.npz");
        Npz.Write(path,
        [
            new("Xtrain", NpyArray.FromFloats(Blobs(400, train), 400, 2)), new("Ttrain", NpyArray.FromInt64(train, 400)),
            new("Xtest", NpyArray.FromFloats(Blobs(100, test), 100, 2)), new("Ttest", NpyArray.FromInt64(test, 100)),
        ]);
        return path;
    }

    [Fact]
    public void A_learnable_dataset_is_learned()
    {
        string path = WriteBlobs();
        var (code, output, error) = Run("--load-dataset", path, "--layers", "ReLU;Linear", "--layer-sizes", "2;16;2", "--loss", "SoftmaxCrossEntropy",
            "--learning-rate", "0.1", "--epochs", "5", "--batch-size", "20", "--seed", "1");
        Assert.True(code == 0, error);
        var accuracies = AccuracyLine().Matches(output).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(accuracies[^1] >= 0.95, $"test accuracy {accuracies[^1]}");
        var losses = Losses(output);
        Assert.True(losses[^1] < 0.3 * losses[0], $"loss {losses[0]} → {losses[^1]}");
    }

    [Fact]
    public void Same_seed_same_output()
    {
        string Strip(string text) => TimePattern().Replace(text, "");
        var first = Run([.. Checkerboard, "--epochs", "2", "--dropouts", "0.1"]);
        var second = Run([.. Checkerboard, "--epochs", "2", "--dropouts", "0.1"]);
        Assert.Equal(Strip(first.Output), Strip(second.Output));
        var third = Run([.. With("--seed", "8"), "--epochs", "2"]);
        Assert.NotEqual(Strip(first.Output), Strip(third.Output));
    }

    [Fact]
    public void Saved_weights_are_the_trained_ones_and_load_back()
    {
        string initial = Path.Combine(Folder, "initial.npz"), trained = Path.Combine(Folder, "trained.npz");
        var run = Run([.. Checkerboard, "--epochs", "3", "--save-initial-weights", initial, "--save-weights", trained, "--no-shuffle"]);
        Assert.Equal(0, run.Code);
        Assert.NotEqual(Npz.Read(initial)["W1"].ToFloats(), Npz.Read(trained)["W1"].ToFloats());
        Assert.Equal([64, 2], Npz.Read(trained)["W1"].Shape);
        Assert.Equal([64], Npz.Read(trained)["b1"].Shape);
        // Loading the trained weights reproduces the last statistics at epoch 0.
        var again = Run([.. Checkerboard, "--epochs", "0", "--load-weights", trained]);
        var last = EpochLine().Matches(run.Output)[^1];
        var first = EpochLine().Matches(again.Output)[0];
        Assert.Equal(last.Groups[2].Value, first.Groups[2].Value);
        Assert.Equal("[64, 2] float32", NpyTests.RunNumPy($"import numpy as np; w = np.load('{trained}')['W1']; print(list(w.shape), w.dtype)"));
    }

    [Fact]
    public void Reads_mnist_npz_and_preprocessed_epochs()
    {
        // mnist.npz as Keras ships it: uint8 images (N, 28, 28) and uint8 labels.
        var images = new byte[4 * 28 * 28];
        images[0] = 255;
        string mnist = Directory.CreateDirectory(Path.Combine(Folder, "mnist")).FullName;
        Npz.Write(Path.Combine(mnist, "mnist.npz"),
        [
            new("x_train", NpyArray.FromBytes(images, 4, 28, 28)), new("y_train", NpyArray.FromBytes([0, 9, 3, 3], 4)),
            new("x_test", NpyArray.FromBytes(images, 4, 28, 28)), new("y_test", NpyArray.FromBytes([1, 2, 3, 4], 4)),
        ]);
        var (code, output, error) = Run("--mnist", mnist, "--layers", "Linear", "--layer-sizes", "784;10", "--epochs", "1", "--batch-size", "2", "--seed", "1", "--info");
        Assert.True(code == 0, error);
        Assert.Contains("Xtrain 4×784, Ttrain 4×10, Xtest 4×784, Ttest 4×10", output);

        // --preprocessed: epoch0.npz before training, epoch<k>.npz at the start of epoch k.
        string preprocessed = Directory.CreateDirectory(Path.Combine(Folder, "pre")).FullName;
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var data = Nerva.Data.GeneratedDatasets.Generate("checkerboard", 50 + 10 * epoch, new Rng((ulong)epoch));
            data.Save(Path.Combine(preprocessed, $"epoch{epoch}.npz"));
        }
        (code, output, error) = Run("--preprocessed", preprocessed, "--layers", "ReLU;Linear", "--layer-sizes", "2;8;2", "--epochs", "3", "--batch-size", "10", "--seed", "1", "--loss", "SoftmaxCrossEntropy");
        Assert.True(code == 0, error);
        Assert.Equal(4, Losses(output).Length);
        (code, _, error) = Run("--preprocessed", preprocessed, "--layers", "ReLU;Linear", "--layer-sizes", "2;8;2", "--epochs", "4", "--batch-size", "10", "--seed", "1");
        Assert.Equal(1, code);
        Assert.Contains("epoch3.npz: file not found", error);
    }

    [Fact]
    public void Weights_of_the_original_load_into_networks_with_batch_normalization()
    {
        // The original writes W1, b1, W2, b2 only; batch-norm parameters keep their initial values.
        var rng = new Rng(5);
        string path = Path.Combine(Folder, "original.npz");
        var W1 = new float[8 * 2];
        W1[3] = 0.5f;
        Npz.Write(path,
        [
            new("W1", NpyArray.FromFloats(W1, 8, 2)), new("b1", NpyArray.FromFloats(new float[8], 8)),
            new("W2", NpyArray.FromFloats(new float[2 * 8], 2, 8)), new("b2", NpyArray.FromFloats([1f, -1f], 2)),
        ]);
        var mlp = Nerva.Specs.NetworkBuilder.Build(["ReLU", "BatchNormalization", "Linear"], [2, 8, 2], [0], [WeightInitializer.Xavier], [new Nerva.Optimizers.GradientDescent()], rng);
        WeightsFile.Load(mlp, path);
        var first = (Nerva.Layers.LinearLayer<float>)mlp.Layers[0];
        Assert.Equal(0.5f, first.W[1, 1]);
        Assert.Equal([1f, -1f], ((Nerva.Layers.LinearLayer<float>)mlp.Layers[2]).B.AsSpan().ToArray());
        Assert.All(((Nerva.Layers.BatchNormalizationLayer<float>)mlp.Layers[1]).Gamma.AsSpan().ToArray(), g => Assert.Equal(1f, g));
        File.Delete(path);
        Npz.Write(path, [new("W1", NpyArray.FromFloats(W1, 8, 2))]);
        Assert.Contains("no array 'b1'", Assert.Throws<DataFormatException>(() => WeightsFile.Load(mlp, path)).Message);
    }

    public static TheoryData<string[], string> BadInputs => new()
    {
        { ["--layers", "ReLU;Swish", "--layer-sizes", "2;4;2"], "unknown layer 'Swish' (valid: Linear, ReLU" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4"], "needs 3 sizes, got 2" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--optimizers", "Adamax"], "unknown optimizer 'Adamax' (valid: GradientDescent" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--loss", "Hinge"], "unknown loss 'Hinge' (valid: SquaredError" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--learning-rate-scheduler", "Cosine"], "unknown learning rate scheduler 'Cosine'" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--dropouts", "0.1;0.2;0.3"], "3 values for 2 linear layers" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "3;4;2"], "the inputs have 2 features but the network's first layer takes 3" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;5"], "the targets have 2 classes but the network's last layer gives 5 outputs" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--save-weights", "/nonexistent/dir/w.npz", "--epochs", "1"], "/nonexistent/dir" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--load-weights", "/nonexistent/w.npz"], "error: --load-weights: /nonexistent/w.npz: file not found (an .npz archive)" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--timer", "sometimes"], "--timer 'sometimes' (valid: disabled, brief, full)" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--learning-rate", "1e30", "--loss", "SquaredError"], "in epoch 1, batch " },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--epochs", "1", "--epochs", "2"], "--epochs is given more than once: give each option once" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "-v", "--verbose"], "--verbose is given more than once" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--precision", "40"], "--precision must be in 1..17 digits, got 40" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--early-stopping", "3"], "--early-stopping needs --validation-split" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--validation-split", "1"], "--validation-split must be in [0, 1), got 1" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--checkpoint-every", "0"], "--checkpoint-every must be at least 1 epoch" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--resume", "/nonexistent"], "--resume: /nonexistent/checkpoint.npz: file not found" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--bogus"], "unknown option '--bogus' (see 'mlp --help')" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--layer-weights", "None"], "NaN" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--prune", "Magnitude(0.2)"], "--prune needs sparse layers" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--densities", "0.5", "--grow", "Random"], "--grow needs --prune" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--densities", "0.5", "--prune", "Magnitude(1.5)"], "ζ must be in [0, 1], got 1.5" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--densities", "0.5", "--prune", "Random(0.1)"], "unknown prune strategy 'Random(0.1)' (valid: Magnitude(zeta), SET(zeta), Threshold(value))" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--densities", "0.5", "--prune", "SET(0.1)", "--grow", "Hebbian"], "unknown grow strategy 'Hebbian' (valid: Random, Gradient)" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--densities", "0.5;0"], "a layer needs a density above 0" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--densities", "0.5", "--overall-density", "0.5"], "give --densities or --overall-density, not both" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--overall-density", "1.5"], "--overall-density must be in (0, 1], got 1.5" },
        // numbers the equations cannot use (issue 13)
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--learning-rate", "-1"], "--learning-rate must be a positive number, got -1" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--learning-rate-scheduler", "Constant(lr=-1)"], "Constant: 'lr' must be positive, got -1" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--learning-rate-scheduler", "TimeBased(decay=-1e308)"], "TimeBased: 'decay' must be at least 0, got -1E+308" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--learning-rate-scheduler", "StepBased(drop_rate=-1, change_rate=2)"], "StepBased: 'drop_rate' must be positive, got -1" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--learning-rate-scheduler", "MultiStepLR(milestones=2, gamma=0)"], "MultiStepLR: 'gamma' must be positive, got 0" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--clip", "nan"], "--clip must be a number of at least 0" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--gradient-step", "Infinity"], "--gradient-step must be in (0, 1]" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--gradient-step", "1e308"], "--gradient-step must be in (0, 1]" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--grow-weights", "Bogus"], "Bogus" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--dataset-size", "0"], "--dataset-size must be in 1..100000000, got 0" },
        // convolutional networks: every shape checked with the layer's number and text (issue 15)
        { ["--layers", "Conv(out=2, kernel=1);Flatten;Linear", "--layer-sizes", "2;2"], "layer 1 Conv(out=2, kernel=1): a convolutional network needs the input shape C,H,W (--input-shape)" },
        { ["--layers", "Conv(out=2, kernel=3);Flatten;Linear", "--layer-sizes", "2;2", "--input-shape", "1,1,2"], "layer 1 Conv(out=2, kernel=3): a 3×3 kernel with padding 0 does not fit the 1×1×2 images it gets" },
        { ["--layers", "Conv(out=2, kernel=1);MaxPool(2);Flatten;Linear", "--layer-sizes", "2;2", "--input-shape", "1,1,2"], "layer 2 MaxPool(2): a 2×2 window does not fit the 2×1×2 images it gets" },
        { ["--layers", "Conv(out=2, kernel=1, dilation=2);Flatten;Linear", "--layer-sizes", "2;2", "--input-shape", "1,1,2"], "Conv: unknown argument 'dilation' (valid: out, kernel, stride, padding)" },
        { ["--layers", "Conv(out=2, kernel=1);Flatten;Linear", "--layer-sizes", "3;2", "--input-shape", "1,1,2"], "--layer-sizes starts with 3 inputs, but the input shape 1×1×2 has 2" },
        { ["--layers", "Conv(out=2, kernel=1);Flatten;Linear", "--layer-sizes", "2;2", "--input-shape", "1,0,2"], "--input-shape '1,0,2': give channels, height and width as positive integers" },
        { ["--layers", "Conv(out=2, kernel=1);BatchNormalization;MaxPool(1);Flatten;Linear", "--layer-sizes", "2;2", "--input-shape", "1,1,2"], "per-channel batch normalization is not implemented" },
        { ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--dataset-size", "2147483647"], "--dataset-size must be in 1..100000000, got 2147483647" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Bad_input_gives_one_line_naming_the_problem(string[] args, string expected)
    {
        var (code, _, error) = Run(["--generate-dataset", "checkerboard", "--seed", "1", "--batch-size", "10", .. args, .. args.Contains("--dataset-size") ? Array.Empty<string>() : ["--dataset-size", "100"], .. args.Contains("--epochs") ? Array.Empty<string>() : ["--epochs", "2"]]);
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains(expected, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void Output_paths_are_checked_before_the_data_is_loaded()
    {
        // the missing dataset would be the second error: the unwritable output comes first, before any loading
        var (code, _, error) = Run("--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--load-dataset", "/nonexistent/data.npz", "--save-weights", "/nonexistent/dir/w.npz");
        Assert.Equal(1, code);
        Assert.Contains("cannot write /nonexistent/dir/w.npz: the directory /nonexistent/dir does not exist", error);
        (code, _, error) = Run("--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--load-dataset", "/nonexistent/data.npz", "--save-initial-weights", Folder);
        Assert.Equal(1, code);
        Assert.Contains("is a directory", error);
        Assert.Empty(Directory.GetFiles(Folder));   // the probe left nothing behind
    }

    [Fact]
    public void Missing_data_and_truncated_weights_are_named()
    {
        var (code, _, error) = Run("--layers", "ReLU;Linear", "--layer-sizes", "2;4;2");
        Assert.Equal(1, code);
        Assert.Contains("no data: give one of --dataset fashion-mnist", error);
        string weights = Path.Combine(Folder, "w.npz");
        Assert.Equal(0, Run([.. Checkerboard, "--epochs", "0", "--save-weights", weights]).Code);
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 3)]);
        (code, _, error) = Run([.. Checkerboard, "--epochs", "0", "--load-weights", weights]);
        Assert.Equal(1, code);
        Assert.Contains(weights, error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Equal(0, Run([.. Checkerboard, "--epochs", "0", "--save-weights", weights]).Code);
        (code, _, error) = Run([.. With("--layer-sizes", "2;32;64;2"), "--epochs", "0", "--load-weights", weights]);
        // W1 of 64×2 for a layer of 32×2: refused from its header, before its data is decompressed
        Assert.Contains("W1: shape (64, 2) holds 128 elements; at most 64 are expected here", error);
    }

    [Fact]
    public void Options_of_the_original()
    {
        var (code, output, error) = Run([.. Checkerboard, "--epochs", "2", "--no-statistics", "--timer", "brief", "--learning-rate-scheduler", "MultiStepLR(lr=0.1,milestones=1|2,gamma=0.5)",
            "--normalize", "--clip", "1e-30", "--info", "--verbose"]);
        Assert.True(code == 0, error);
        Assert.Matches(@"epoch   1 time: \d+\.\d{8}s", output);
        Assert.Contains("--- timing results ---", output);
        Assert.Matches(@"feedforward +  = \d+\.\d{4}", output);
        Assert.Contains("learning rate scheduler = MultiStepLRScheduler(lr=0.1, milestones=[1, 2], gamma=0.1)".Replace("gamma=0.1", "gamma=0.5", StringComparison.Ordinal), output);
        Assert.Contains(" MLP before training", output);
        Assert.Contains("seed = 7, threads = 1", output);
        (code, output, error) = Run([.. With("--dataset-size", "64", "--batch-size", "64"), "--epochs", "1", "--gradient-step", "1e-3"]);
        Assert.True(code == 0, error);
        Assert.Matches(@"gradient check epoch 1 batch 1: layer 1 DW relative error", output);
    }

    [Fact]
    public void Sparse_training_with_prune_and_grow_in_the_original_format()
    {
        string[] sparse = ["--load-dataset", WriteBlobs(), "--layers", "ReLU;ReLU;Linear", "--layer-sizes", "2;128;128;2", "--optimizers", "Momentum(0.9)",
            "--loss", "SoftmaxCrossEntropy", "--learning-rate", "0.05", "--batch-size", "20", "--seed", "1", "--threads", "1", "--overall-density", "0.2", "--epochs", "6"];
        var (code, output, error) = Run([.. sparse, "--prune", "Magnitude(0.2)", "--grow", "Random"]);
        Assert.True(code == 0, error);
        Assert.Matches(@"Sparse\(input_size=128, output_size=128, density=0\.\d+, optimizer=Momentum\(0\.90000\), activation=ReLU\(\)\)", output);
        Assert.Matches(@"layer densities: 256/256 \(100%\), \d+/16384 \(\d+\.\d{3}%\), 256/256 \(100%\)", output);
        var accuracies = AccuracyLine().Matches(output).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(accuracies[^1] >= 0.95, $"test accuracy {accuracies[^1]}");
        // once before every epoch but the first, for the one sparse layer
        var regrow = Regex.Matches(output, @"pruning \+ growing (\d+)/(\d+) weights");
        Assert.Equal(5, regrow.Count);
        int nnz = int.Parse(regrow[0].Groups[2].Value, CultureInfo.InvariantCulture);
        Assert.Equal((int)Math.Round(0.2 * nnz, MidpointRounding.AwayFromZero), int.Parse(regrow[0].Groups[1].Value, CultureInfo.InvariantCulture));

        // gradient growth, every 20 batches, and the same seed gives the same run
        string Strip(string text) => TimePattern().Replace(text, "");
        string[] rigl = [.. sparse, "--prune", "SET(0.3)", "--grow", "Gradient", "--grow-weights", "Zero", "--prune-interval", "20"];
        var first = Run(rigl);
        Assert.True(first.Code == 0, first.Error);
        Assert.Equal(6 * 400 / 20 / 20 - 1, Regex.Matches(first.Output, "pruning \\+ growing").Count);
        Assert.Equal(Strip(first.Output), Strip(Run(rigl).Output));
    }

    [Fact]
    public void Sparse_weights_save_as_csr_arrays_that_SciPy_reads_and_load_back_with_their_support()
    {
        string path = Path.Combine(Folder, "sparse.npz");
        string[] sparse = [.. With("--layer-sizes", "2;64;64;2"), "--densities", "1;0.25;1", "--epochs", "2"];
        var run = Run([.. sparse, "--save-weights", path]);
        Assert.True(run.Code == 0, run.Error);
        var arrays = Npz.Read(path);
        Assert.False(arrays.ContainsKey("W2"));
        Assert.Equal([64, 2], arrays["W1"].Shape);
        Assert.Equal([1024], arrays["W2_data"].Shape);
        Assert.Equal("<i4", arrays["W2_indices"].Descr);
        Assert.Equal([65], arrays["W2_indptr"].Shape);
        Assert.Equal([64L, 64], arrays["W2_shape"].ToInt64());
        // SciPy rebuilds the matrix: 1024 stored weights, canonical (sorted, no duplicates), same sum of |w|
        double sum = arrays["W2_data"].ToDoubles().Sum(Math.Abs);
        string scipy = NpyTests.RunNumPy(
            "import numpy as np, scipy.sparse as sp; f = np.load('" + path + "'); " +
            "m = sp.csr_matrix((f['W2_data'], f['W2_indices'], f['W2_indptr']), shape=tuple(f['W2_shape'])); " +
            "print(m.nnz, m.has_canonical_format, m.shape, repr(float(abs(m).astype(np.float64).sum())), sep=';')");
        var parts = scipy.Split(';');
        Assert.Equal("1024;True;(64, 64)", string.Join(';', parts[..3]));
        Assert.Equal(sum, double.Parse(parts[3], CultureInfo.InvariantCulture), 1e-9 * sum);
        // loaded into a sparse layer of another density, the file's support comes back
        var again = Run([.. With("--layer-sizes", "2;64;64;2"), "--densities", "1;0.5;1", "--epochs", "0", "--load-weights", path]);
        Assert.True(again.Code == 0, again.Error);
        Assert.Equal(EpochLine().Matches(run.Output)[^1].Groups[2].Value, EpochLine().Matches(again.Output)[0].Groups[2].Value);
        Assert.Contains("layer densities: 128/128 (100%), 1024/4096 (25.000%), 128/128 (100%)", again.Output.Replace("\r", "", StringComparison.Ordinal));
        // and into a dense network as the dense matrix
        var dense = Run([.. With("--layer-sizes", "2;64;64;2"), "--epochs", "0", "--load-weights", path]);
        Assert.True(dense.Code == 0, dense.Error);
        Assert.Equal(EpochLine().Matches(run.Output)[^1].Groups[2].Value, EpochLine().Matches(dense.Output)[0].Groups[2].Value);
    }

    [Fact]
    public void A_corrupt_sparse_weights_file_is_one_line_naming_the_problem()
    {
        string path = Path.Combine(Folder, "sparse.npz");
        string[] sparse = [.. With("--layer-sizes", "2;64;64;2"), "--densities", "1;0.25;1"];
        Assert.Equal(0, Run([.. sparse, "--epochs", "0", "--save-weights", path]).Code);
        var good = Npz.Read(path);
        var indices = good["W2_indices"].ToInt64().Select(i => (int)i).ToArray();
        var indptr = good["W2_indptr"].ToInt64().Select(i => (int)i).ToArray();
        int row = Enumerable.Range(0, 64).First(i => indptr[i + 1] - indptr[i] >= 2);
        var cases = new (string Key, NpyArray Array, string Message)[]
        {
            ("W2_indices", Swapped(indices, indptr[row]), $"the column indices of row {row} are not strictly ascending"),
            ("W2_indices", Replaced(indices, 0, 64), "column index 64 in row 0 is outside [0, 64)"),
            ("W2_indptr", Replaced(indptr, 64, 1000), "indptr must run from 0 to the number of indices (1024)"),
            ("W2_indptr", Replaced(indptr, 1, indptr[2] + 1), "indptr decreases at row 1"),
            ("W2_shape", NpyArray.FromInt64([64, 65], 2), "'W2_shape' is [64, 65], the network needs [64, 64]"),
            ("W2_data", NpyArray.FromFloats(new float[1000], 1000), "1000 values for 1024 column indices"),
        };
        foreach (var (key, array, message) in cases)
        {
            Npz.Write(path, good.Select(pair => pair.Key == key ? new KeyValuePair<string, NpyArray>(key, array) : pair));
            var result = Run([.. sparse, "--epochs", "0", "--load-weights", path]);
            Assert.True(result.Code == 1 && result.Error.Contains(message, StringComparison.Ordinal), $"{key}: {result.Error}");
            Assert.Single(result.Error.Trim().Split('\n'));
        }

        static NpyArray Swapped(int[] values, int at)
        {
            var copy = values.ToArray();
            (copy[at], copy[at + 1]) = (copy[at + 1], copy[at]);
            return NpyArray.FromInt32(copy, copy.Length);
        }

        static NpyArray Replaced(int[] values, int at, int value)
        {
            var copy = values.ToArray();
            copy[at] = value;
            return NpyArray.FromInt32(copy, copy.Length);
        }
    }

    [Fact]
    public void Float_targets_of_one_column_train_a_one_output_network()
    {
        // a binary problem (is x₀ > x₁?) for one sigmoid output and binary cross-entropy (seed 003), targets saved as (N, 1) floats
        var data = GeneratedDatasets.Generate("checkerboard", 2000, new Rng(3));
        var column = (Matrix<float> X) => NpyArray.FromFloats([.. Enumerable.Range(0, X.Rows).Select(i => X[i, 0] > X[i, 1] ? 1f : 0f)], X.Rows, 1);
        string path = Path.Combine(Folder, "binary.npz");
        Npz.Write(path,
        [
            new("Xtrain", NpyArray.FromFloats(data.Xtrain.AsSpan().ToArray(), data.Xtrain.Rows, 2)), new("Ttrain", column(data.Xtrain)),
            new("Xtest", NpyArray.FromFloats(data.Xtest.AsSpan().ToArray(), data.Xtest.Rows, 2)), new("Ttest", column(data.Xtest)),
        ]);
        var (code, output, error) = Run("--load-dataset", path, "--layers", "ReLU;ReLU;Sigmoid", "--layer-sizes", "2;64;64;1", "--layer-weights", "He",
            "--optimizers", "Momentum(0.9)", "--learning-rate", "0.05", "--loss", "BinaryCrossEntropy", "--batch-size", "32", "--seed", "7", "--threads", "1", "--epochs", "10");
        Assert.True(code == 0, error);
        var accuracies = AccuracyLine().Matches(output).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(accuracies[^1] > 0.95, output);   // a coin is right half the time, and so is every output on one side of 0.5
        // the same file with a two-output network: one line that says what the rule is
        (code, _, error) = Run("--load-dataset", path, "--layers", "ReLU;Linear", "--layer-sizes", "2;8;2", "--epochs", "1");
        Assert.Equal(1, code);
        Assert.Contains("the targets are one column (float targets of a one-output network) but the network's last layer gives 2 outputs: store class labels as integers", error);
    }

    [Fact]
    public void A_saved_model_evaluates_and_predicts_without_its_architecture_on_the_command_line()
    {
        string model = Path.Combine(Folder, "m.npz"), csv = Path.Combine(Folder, "p.csv"), onnx = Path.Combine(Folder, "m.onnx");
        var (code, output, error) = Run([.. Checkerboard, "--epochs", "3", "--normalize", "--save-model", model]);
        Assert.True(code == 0, error);
        double trained = double.Parse(AccuracyLine().Matches(output)[^1].Groups[1].Value, CultureInfo.InvariantCulture);
        // the same data, the network and the standardisation from the file: epoch 0 is the trained network's evaluation
        (code, output, error) = Run("--generate-dataset", "checkerboard", "--dataset-size", "2000", "--seed", "7", "--loss", "SoftmaxCrossEntropy",
            "--batch-size", "32", "--threads", "1", "--load-model", model, "--epochs", "0", "--predict", csv, "--export-onnx", onnx);
        Assert.True(code == 0, error);
        using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(onnx)) Assert.Equal(["input"], session.InputMetadata.Keys);
        Assert.Equal(trained, double.Parse(AccuracyLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture));
        var lines = File.ReadAllLines(csv);
        Assert.Equal("index,label,predicted,p0,p1", lines[0]);
        Assert.Equal(401, lines.Length);   // a header and the 400 test rows
        var rows = lines[1..].Select(line => line.Split(',')).ToArray();
        Assert.Equal(trained, rows.Count(r => r[1] == r[2]) / 400.0);
        Assert.All(rows, r => Assert.Equal(1, float.Parse(r[3], CultureInfo.InvariantCulture) + float.Parse(r[4], CultureInfo.InvariantCulture), 5));
        // the network comes from the file alone
        (code, _, error) = Run([.. Checkerboard, "--load-model", model]);
        Assert.Equal(1, code);
        Assert.Contains("--load-model brings the network: give it without --layers", error);
        (code, _, error) = Run("--generate-dataset", "checkerboard", "--load-model", Path.Combine(Folder, "none.npz"), "--epochs", "0");
        Assert.Equal(1, code);
        Assert.Contains("error: --load-model: ", error);
    }

    [Fact]
    public void A_convolutional_network_trains_and_its_shapes_are_checked_before_the_data_loads()
    {
        // two blobs of points as 1×1×2 images: a 1×2 convolution of 16 channels, ReLU, then a linear layer
        var (code, output, error) = Run("--load-dataset", WriteBlobs(), "--layers", "Conv(out=16, kernel=1x2);ReLU;Flatten;Linear", "--layer-sizes", "2;2", "--input-shape", "1,1,2",
            "--loss", "SoftmaxCrossEntropy", "--learning-rate", "0.1", "--epochs", "5", "--batch-size", "20", "--seed", "1");
        Assert.True(code == 0, error);
        Assert.Contains("Convolution(input=1×1×2, output=16×1×1, kernel=1×2, stride=1, padding=0", output);
        var accuracies = AccuracyLine().Matches(output).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(accuracies[^1] >= 0.95, output);
        // a layer that does not fit is named before a missing dataset is looked for
        (code, _, error) = Run("--load-dataset", "/nonexistent/data.npz", "--layers", "Conv(out=2, kernel=5);Flatten;Linear", "--layer-sizes", "4;2", "--input-shape", "1,2,2");
        Assert.Equal(1, code);
        Assert.Contains("layer 1 Conv(out=2, kernel=5): a 5×5 kernel", error);
    }

    [Fact]
    public void Help_describes_every_option_and_gives_examples_and_specs_are_checked_before_the_data()
    {
        var (code, output, _) = Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("Examples:", output);
        var optionLines = output.Split('\n').Where(line => line.StartsWith("  -", StringComparison.Ordinal)).ToArray();
        Assert.True(optionLines.Length >= 40, output);
        // an option's line holds its syntax, then (after two or more spaces) its description
        Assert.All(optionLines, line => Assert.Matches(@"^\s+-\S.*?\S\s{2,}\S", line));
        // a bad loss or scheduler is named before a missing dataset is looked for
        (code, _, var error) = Run("--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--load-dataset", "/nonexistent/data.npz", "--loss", "Hinge");
        Assert.Equal(1, code);
        Assert.Contains("unknown loss 'Hinge'", error);
        (code, _, error) = Run("--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--load-dataset", "/nonexistent/data.npz", "--learning-rate-scheduler", "Cosine");
        Assert.Contains("unknown learning rate scheduler 'Cosine'", error);
    }

    [Fact]
    public void The_metrics_log_has_the_epoch_lines_numbers()
    {
        string csv = Path.Combine(Folder, "metrics.csv"), jsonl = Path.Combine(Folder, "metrics.jsonl");
        var (code, output, error) = Run([.. Checkerboard, "--epochs", "3", "--densities", "0.5;1;1", "--log", csv]);
        Assert.True(code == 0, error);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("epoch,lr,loss,train_accuracy,test_accuracy,seconds,densities,validation_loss,validation_accuracy", lines[0]);
        var epochLines = EpochLineFull().Matches(output).ToArray();
        Assert.Equal(4, epochLines.Length);
        Assert.Equal(epochLines.Length + 1, lines.Length);
        for (int e = 0; e < epochLines.Length; e++)
        {
            var row = lines[e + 1].Split(',');
            Assert.Equal(e.ToString(CultureInfo.InvariantCulture), row[0]);
            for (int k = 1; k <= 5; k++)
                Assert.Equal(epochLines[e].Groups[k].Value, double.Parse(row[k], CultureInfo.InvariantCulture).ToString("F8", CultureInfo.InvariantCulture));
            Assert.Equal(3, row[6].Split(';').Length);   // one density per linear layer
            Assert.Equal(1.0, double.Parse(row[6].Split(';')[2], CultureInfo.InvariantCulture));
        }
        // JSON lines, one object per epoch; a name of another kind is refused before anything runs
        (code, _, error) = Run([.. Checkerboard, "--epochs", "1", "--log", jsonl]);
        Assert.True(code == 0, error);
        var objects = File.ReadAllLines(jsonl).Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement).ToArray();
        Assert.Equal([0, 1], objects.Select(o => o.GetProperty("epoch").GetInt32()));
        Assert.Equal(0.05, objects[1].GetProperty("lr").GetDouble());
        (code, _, error) = Run([.. Checkerboard, "--epochs", "1", "--log", Path.Combine(Folder, "metrics.txt")]);
        Assert.Equal(1, code);
        Assert.Contains("the name must end in .csv or .jsonl", error);
    }

    /// <summary>Sparse layers with prune and grow, dropout and momentum: every kind of state a checkpoint must carry.</summary>
    private static readonly string[] Resumable = [.. With("--densities", "0.5;0.5;1", "--dropouts", "0.1;0.1;0"), "--prune", "Magnitude(0.2)", "--prune-interval", "20"];

    [Fact]
    public void A_run_resumed_from_a_checkpoint_ends_with_the_weights_of_the_run_without_a_stop()
    {
        string whole = Path.Combine(Folder, "whole.npz"), resumed = Path.Combine(Folder, "resumed.npz"), checkpoints = Path.Combine(Folder, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        var (code, _, error) = Run([.. Resumable, "--epochs", "5", "--save-weights", whole]);
        Assert.True(code == 0, error);
        // stopped after epoch 3 (its checkpoint written), then resumed with the same command
        (code, _, error) = Run([.. Resumable, "--epochs", "3", "--checkpoint", checkpoints]);
        Assert.True(code == 0, error);
        (code, var output, error) = Run([.. Resumable, "--epochs", "5", "--resume", checkpoints, "--save-weights", resumed]);
        Assert.True(code == 0, error);
        Assert.StartsWith("epoch   3", EpochLine().Match(output).Value);
        Assert.Equal(Weights(whole), Weights(resumed));
        // a checkpoint of another network is one line
        (code, _, error) = Run([.. Checkerboard, "--epochs", "5", "--resume", checkpoints]);
        Assert.Equal(1, code);
        Assert.StartsWith("error: --resume: ", error);
    }

    /// <summary>Every array of a weights file, as bits.</summary>
    private static Dictionary<string, string> Weights(string path) =>
        Npz.Read(path).ToDictionary(pair => pair.Key, pair => Convert.ToHexString(pair.Value.Data));

    [Fact]
    public void A_run_killed_mid_epoch_resumes_to_the_same_weights()
    {
        if (OperatingSystem.IsWindows()) return;
        string whole = Path.Combine(Folder, "whole.npz"), resumed = Path.Combine(Folder, "resumed.npz"), checkpoints = Path.Combine(Folder, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        string[] run = [.. Resumable.Select(arg => arg == "2000" ? "20000" : arg), "--epochs", "40"];
        var (code, _, error) = Run([.. run, "--save-weights", whole]);
        Assert.True(code == 0, error);
        // the same run in a process of its own, killed (SIGKILL) once a few checkpoints exist
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { typeof(Mlp).Assembly.Location }.Concat(run).Concat(["--checkpoint", checkpoints])) start.ArgumentList.Add(arg);
        using (var process = System.Diagnostics.Process.Start(start)!)
        {
            string file = Path.Combine(checkpoints, "checkpoint.npz");
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(file) && watch.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited) Thread.Sleep(10);
            Thread.Sleep(150);
            Assert.False(process.HasExited, "the run ended before it could be killed: give it more epochs");
            process.Kill();
            process.WaitForExit();
        }
        (code, _, error) = Run([.. run, "--resume", checkpoints, "--save-weights", resumed]);
        Assert.True(code == 0, error);
        Assert.Equal(Weights(whole), Weights(resumed));
    }

    [Fact]
    public void The_curves_png_plots_the_logged_values()
    {
        string csv = Path.Combine(Folder, "metrics.csv"), png = Path.Combine(Folder, "curves.png");
        var (code, _, error) = Run([.. Checkerboard, "--epochs", "4", "--validation-split", "0.1", "--log", csv, "--plot", png]);
        Assert.True(code == 0, error);
        var bytes = File.ReadAllBytes(png);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        Assert.Equal((900, 540), (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20))));
        Assert.True(bytes.Length > 10_000, $"{bytes.Length} bytes");
        // the series the plot draws hold the logged numbers
        var rows = File.ReadAllLines(csv)[1..].Select(line => line.Split(',')).ToArray();
        double Value(string[] row, int k) => double.Parse(row[k], CultureInfo.InvariantCulture);
        var epochs = rows.Select(r => new Training.EpochMetrics(int.Parse(r[0], CultureInfo.InvariantCulture), Value(r, 1), Value(r, 2), Value(r, 3), Value(r, 4), Value(r, 5), [], Value(r, 7))).ToList();
        var series = MetricsPlot.Draw(epochs).GetPlottables().OfType<ScottPlot.Plottables.Scatter>().ToDictionary(s => s.LegendText, s => s.Data.GetScatterPoints());
        Assert.Equal(["loss", "validation loss", "train accuracy", "test accuracy"], series.Keys);
        Assert.Equal(epochs.Select(m => (double)m.Epoch), series["loss"].Select(p => p.X));
        Assert.Equal(epochs.Select(m => m.Loss), series["loss"].Select(p => p.Y));
        Assert.Equal(epochs.Select(m => m.ValidationLoss), series["validation loss"].Select(p => p.Y));
        Assert.Equal(epochs.Select(m => m.TestAccuracy), series["test accuracy"].Select(p => p.Y));
    }

    [GeneratedRegex(@"epoch +\d+ lr: (\S+)  loss: (\S+)  train accuracy: (\S+)  test accuracy: (\S+) time: (\S+)s")]
    private static partial Regex EpochLineFull();

    [GeneratedRegex(@"epoch +(\d+) lr: \S+  loss: (\S+)  train accuracy")]
    private static partial Regex EpochLine();

    [GeneratedRegex(@"test accuracy: (\S+) time")]
    private static partial Regex AccuracyLine();

    [GeneratedRegex(@"\d+\.\d{8}s|= \d+\.\d+")]
    private static partial Regex TimePattern();
}
