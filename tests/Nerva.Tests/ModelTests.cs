using System.IO.Compression;
using System.Text;
using Nerva.Data;
using Nerva.Specs;

namespace Nerva.Tests;

/// <summary>Models (issue 14): one file with the architecture, bit-identical after loading; inference in evaluation mode from many threads.</summary>
public sealed class ModelTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nerva-model-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Inputs of <paramref name="features"/> raw features: pixel-like values in 0..255.</summary>
    private static Matrix<float> Inputs(int rows, int features, ulong seed)
    {
        var rng = new Rng(seed);
        var X = new Matrix<float>(rows, features);
        var x = X.AsSpan();
        for (int k = 0; k < x.Length; k++) x[k] = (float)Math.Floor(256 * rng.NextDouble());
        return X;
    }

    /// <summary>A small labelled dataset of raw pixels, prepared as the image readers prepare theirs, standardised on request.</summary>
    private static Dataset PixelData(int features, int classes, bool normalize)
    {
        var Xtrain = Inputs(60, features, 1);
        var Xtest = Inputs(20, features, 2);
        long[] Labels(Matrix<float> X) => [.. Enumerable.Range(0, X.Rows).Select(i => (long)(X[i, 0] * classes / 256))];
        var pixels = new InputPreprocessing(scalePixels: true);
        foreach (var X in new[] { Xtrain, Xtest }) pixels.Apply(X);
        var data = Dataset.FromLabels(Xtrain, Labels(Xtrain), Xtest, Labels(Xtest), classes);
        data.Preprocessing = pixels;
        if (normalize) data.Normalize();
        return data;
    }

    public static TheoryData<string, string, double, double> Architectures => new()
    {
        { "ReLU;ReLU;Linear", "8;16;12;3", 1, 0 },
        { "ReLU;BatchNormalization;Sigmoid;Softmax", "8;16;12;3", 1, 0 },
        { "LeakyReLU(0.1);ELU(0.5);LogSoftmax", "8;16;12;3", 0.4, 0 },
        { "SReLU(al=0.1, tl=-0.2, ar=0.3, tr=0.9);AllReLU(0.2);Linear", "8;16;12;3", 1, 0.3 },
        { "TReLU(0.05);HyperbolicTangent;Linear", "8;16;12;3", 0.5, 0.2 },
    };

    /// <summary>A convolutional network on 2×4×4 "images" of the 8 → 32 features below: every image layer kind.</summary>
    private const string Convolutional = "Conv(out=3, kernel=3, padding=1);ReLU;MaxPool(2);Conv(out=4, kernel=2x1, stride=1);ELU(0.5);AvgPool(kernel=1, stride=1);Flatten;ReLU;Linear";

    [Fact]
    public void A_saved_convolutional_model_loads_with_bit_identical_outputs() =>
        A_saved_model_loads_into_a_fresh_object_with_bit_identical_outputs(Convolutional, "32;12;3", 1, 0, "2,4,4");

    [Theory]
    [MemberData(nameof(Architectures))]
    public void A_saved_model_loads_into_a_fresh_object_with_bit_identical_outputs(string layers, string sizes, double density, double dropout, string? inputShape = null)
    {
        var model = Model.Create(sizes, layers: layers, weights: "He", optimizer: "Momentum(0.9)", density: density, dropout: dropout, seed: 3, inputShape: inputShape);
        int features = model.InputSize;
        var data = PixelData(features, 3, normalize: true);
        // running statistics and trained SReLU parameters (at 0.05 the convolutional network diverged, and a network of NaN
        // weights loaded "bit-identical": the trainer now stops such a run, and the assertion below keeps this test honest)
        model.Train(data, loss: "SquaredError", learningRate: inputShape is null ? 0.05 : 0.01, epochs: 2, batchSize: 16);
        Assert.Null(model.Network.FirstNonFinite());
        string path = Path.Combine(_directory, "m.npz");
        model.Save(path);
        var loaded = Model.Load(path);

        Assert.Equal(ModelFile.LayerSpecs(model.Network), ModelFile.LayerSpecs(loaded.Network));
        Assert.Equal(model.Network.Layers.OfType<Layers.LinearLayer<float>>().Select(l => (l.IsSparse, l.WeightCount, l.DropoutRate)),
            loaded.Network.Layers.OfType<Layers.LinearLayer<float>>().Select(l => (l.IsSparse, l.WeightCount, l.DropoutRate)));
        Assert.Equal(model.Preprocessing.Mean, loaded.Preprocessing.Mean);
        Assert.True(loaded.Preprocessing.ScalePixels);
        var X = Inputs(50, features, 9);
        Assert.Equal(Bits(model.Predict(X)), Bits(loaded.Predict(X)));
        Assert.Equal(model.Evaluate(data), loaded.Evaluate(data));
    }

    private static int[] Bits(Matrix<float> Y) => [.. Y.AsSpan().ToArray().Select(BitConverter.SingleToInt32Bits)];

    [Fact]
    public void Predict_prepares_raw_inputs_and_runs_in_evaluation_mode()
    {
        var model = Model.Create("8-16-3", layers: "ReLU;BatchNormalization;Linear", dropout: 0.5, seed: 2);
        var data = PixelData(8, 3, normalize: true);
        model.Train(data, epochs: 1, batchSize: 8);
        model.Network.IsTraining = true;   // as a trainer may leave it
        var raw = Inputs(5, 8, 4);
        var prepared = Inputs(5, 8, 4);
        model.Preprocessing.Apply(prepared);
        var Y = model.Predict(raw);
        Assert.True(model.Network.IsTraining);   // the caller's mode is given back
        model.Network.IsTraining = false;
        var expected = new Matrix<float>(0, 0);
        model.Network.Feedforward(prepared, expected);
        Assert.Equal(Bits(expected), Bits(Y));
        Assert.Equal(Bits(model.Predict(raw)), Bits(Y));   // the same again: no dropout mask, no batch statistics
        // one row as a span, probabilities, labels
        // one row alone: as a one-row batch, bit for bit; as a row of a larger batch, up to the products' rounding
        var one = new Matrix<float>(1, 8);
        raw.Row(2).CopyTo(one.Row(0));
        Assert.Equal(model.Predict(one).AsSpan().ToArray(), model.Predict(raw.Row(2)));
        Assert.All(model.Predict(raw.Row(2)).Zip(Y.Row(2).ToArray()), pair => Assert.Equal(pair.Second, pair.First, 1e-6f));
        var p = model.PredictProbabilities(raw.Row(2));
        Assert.Equal(1, p.Sum(), 5);
        Assert.Equal(Dataset.ArgMax<float>(p), model.PredictLabel(raw.Row(2)));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => Dataset.ArgMax<float>(Y.Row(i))), model.PredictLabels(raw));
    }

    [Fact]
    public void Predict_from_eight_threads_at_once_equals_the_serial_results()
    {
        var model = Model.Create("8-32-32-3", weights: "He", seed: 5, density: 0.5);
        var inputs = Enumerable.Range(0, 8).Select(t => Inputs(40 + t, 8, (ulong)(10 + t))).ToArray();
        var serial = inputs.Select(X => Bits(model.Predict(X))).ToArray();
        var single = inputs.Select(X => model.Predict(X.Row(0))).ToArray();
        var parallel = new int[8][];
        var singles = new float[8][];
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            for (int repeat = 0; repeat < 20; repeat++)
            {
                parallel[t] = Bits(model.Predict(inputs[t]));
                singles[t] = model.Predict(inputs[t].Row(0));
            }
        });
        for (int t = 0; t < 8; t++)
        {
            Assert.Equal(serial[t], parallel[t]);
            Assert.Equal(single[t], singles[t]);
        }
    }

    [Fact]
    public void Weights_of_another_architecture_are_refused_with_one_line()
    {
        var model = Model.Create("8-16-3", activation: "ReLU", seed: 1);
        string path = Path.Combine(_directory, "relu.npz");
        model.Save(path);
        // the same shapes, another activation: a weights file would load silently, a model file says what differs
        var sigmoid = Model.Create("8-16-3", activation: "Sigmoid", seed: 1);
        var error = Assert.Throws<DataFormatException>(() => WeightsFile.Load(sigmoid.Network, path)).Message;
        Assert.Equal($"{path}: the file's model is ReLU;Linear with sizes 8;16;3, this network is Sigmoid;Linear with sizes 8;16;3", error);
        WeightsFile.Load(Model.Create("8-16-3", activation: "ReLU", seed: 9).Network, path);   // the same architecture loads
        // a weights file is not a model file
        string weights = Path.Combine(_directory, "w.npz");
        WeightsFile.Save(model.Network, weights);
        Assert.Contains("not a model file (no 'model' member)", Assert.Throws<DataFormatException>(() => Model.Load(weights)).Message);
    }

    /// <summary>The model file at <paramref name="path"/> with its description replaced by <paramref name="json"/>.</summary>
    private static void ReplaceDescription(string path, string json)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
        zip.GetEntry("model.npy")!.Delete();
        using var entry = zip.CreateEntry("model.npy").Open();
        var bytes = Encoding.UTF8.GetBytes(json);
        NpyArray.FromBytes(bytes, bytes.Length).Write(entry);
    }

    [Fact]
    public void A_corrupt_description_is_one_line_and_allocates_nothing_large()
    {
        var model = Model.Create("8-16-3", seed: 1);
        string path = Path.Combine(_directory, "m.npz");
        const string Valid = """{"format":"Nerva.NET model","version":1,"layers":["ReLU","Linear"],"sizes":[8,16,3],"dropouts":[0,0],"densities":[1,1],"optimizers":["GradientDescent","GradientDescent"],"scale_pixels":false}""";
        (string Json, string Message)[] cases =
        [
            ("{\"format\": ", "not valid JSON"),
            ("[1, 2]", "not valid JSON"),
            (Valid.Replace("\"version\":1", "\"version\":7", StringComparison.Ordinal), "version 7 is not supported"),
            (Valid.Replace("\"Nerva.NET model\"", "\"Keras\"", StringComparison.Ordinal), "'format' must be \"Nerva.NET model\""),
            (Valid.Replace("\"ReLU\",", "\"Softplus\",", StringComparison.Ordinal), "unknown layer 'Softplus'"),
            (Valid.Replace("[8,16,3]", "[8,16]", StringComparison.Ordinal), "needs 3 sizes"),
            // a 100 000 × 100 000 dense layer (40 GB) claimed without the arrays to fill it
            (Valid.Replace("[8,16,3]", "[100000,100000,3]", StringComparison.Ordinal), "'W1' has shape (16, 8), the description says (100000, 100000)"),
            (Valid.Replace("\"layers\":[\"ReLU\",\"Linear\"],", "", StringComparison.Ordinal), "it needs 'layers'"),
            (Valid.Replace("\"GradientDescent\",", "\"Adamax\",", StringComparison.Ordinal), "unknown optimizer 'Adamax'"),
        ];
        foreach (var (json, message) in cases)
        {
            model.Save(path);
            ReplaceDescription(path, json);
            long before = GC.GetAllocatedBytesForCurrentThread();
            var error = Assert.Throws<DataFormatException>(() => Model.Load(path)).Message;
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20, json);
            Assert.StartsWith($"{path}: ", error);
            Assert.Contains(message, error);
            Assert.DoesNotContain('\n', error);
        }
    }

    [Fact]
    public void The_builder_checks_every_name_and_size()
    {
        Assert.Contains("unknown layer 'Relu'", Assert.Throws<InvalidSpecException>(() => Model.Create("8-4-2", activation: "Relu")).Message);
        Assert.Contains("unknown optimizer 'SGD'", Assert.Throws<InvalidSpecException>(() => Model.Create("8-4-2", optimizer: "SGD")).Message);
        Assert.Contains("valid: Xavier", Assert.Throws<InvalidSpecException>(() => Model.Create("8-4-2", weights: "Glorot")).Message);
        Assert.Contains("sizes '8': give the input size and every layer's size", Assert.Throws<InvalidSpecException>(() => Model.Create("8")).Message);
        Assert.Contains("as positive integers", Assert.Throws<InvalidSpecException>(() => Model.Create("8-0-2")).Message);
        Assert.Contains("LeakyReLU", Assert.Throws<InvalidSpecException>(() => Model.Create("8-4-2", activation: "LeakyReLU")).Message);   // α is required
        Assert.Contains("3 linear layers need 4 sizes", Assert.Throws<InvalidSpecException>(() => Model.Create("8-4-2", layers: "ReLU;ReLU;Linear")).Message);
        var sparse = Model.Create("784-256-128-10", density: 0.05, seed: 1);
        Assert.All(sparse.Network.Layers.OfType<Layers.LinearLayer<float>>().Take(2), layer => Assert.True(layer.IsSparse));
        Assert.Equal((784, 10), (sparse.InputSize, sparse.OutputSize));
    }

    [Fact]
    public void A_default_parameterised_activation_is_refused_not_silently_zero()
    {
        var error = Assert.Throws<ArgumentException>(() => new Layers.ActivationLayer<float, Activations.LeakyReLU<float>>(4, 3, default)).Message;
        Assert.Contains("default(LeakyReLU) has all its parameters 0", error);
        Assert.Throws<ArgumentException>(() => new Layers.ActivationLayer<float, Activations.SReLU<float>>(4, 3, default));
        Assert.Throws<ArgumentException>(() => new Layers.ActivationLayer<float, Activations.TReLU<float>>(4, 3, default));
        Assert.Equal(0f, new Layers.ActivationLayer<float, Activations.LeakyReLU<float>>(4, 3, new Activations.LeakyReLU<float>(0f)).Activation.Alpha);   // α = 0 said out loud
        _ = new Layers.ActivationLayer<float, Activations.ReLU<float>>(4, 3, default);   // nothing to forget
    }
}
