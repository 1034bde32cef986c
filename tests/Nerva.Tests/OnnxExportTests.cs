using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Nerva.Data;

namespace Nerva.Tests;

/// <summary>ONNX export (issue 14): every layer kind, run by ONNX Runtime, agrees with our outputs to 1e-5 relative.</summary>
public sealed class OnnxExportTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nerva-onnx-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string, double, bool, bool> Networks => new()
    {
        { "ReLU;ReLU;Linear", 1, false, false },
        { "ReLU;BatchNormalization;Sigmoid;Softmax", 1, true, false },
        { "LeakyReLU(0.1);ELU(0.5);LogSoftmax", 0.4, true, true },
        { "LeakyReLU(1.5);AllReLU(0.2);Linear", 1, false, true },
        { "SReLU(al=0.1, tl=-0.2, ar=0.3, tr=0.9);TReLU(0.05);Linear", 0.5, true, true },
        { "SReLU(al=0.2, tl=0.4, ar=0.5, tr=-0.3);HyperbolicTangent;BatchNormalization;Linear", 1, false, false },   // overlapping SReLU cases
        // a convolutional part on 3×2×2 images: convolution with padding and stride, pooling of both kinds, activations on their own
        { "Conv(out=4, kernel=2, padding=1);LeakyReLU(0.2);MaxPool(kernel=2, stride=1);Conv(out=3, kernel=2x1, stride=1);TReLU(0.05);AvgPool(1);Flatten;ReLU;Linear", 1, true, true },
    };

    [Theory]
    [MemberData(nameof(Networks))]
    public void Onnx_Runtime_gives_our_outputs(string layers, double density, bool pixels, bool standardised)
    {
        int linear = Specs.NetworkBuilder.LinearLayerCount(Specs.SpecParser.List(layers));
        string sizes = string.Join('-', new[] { 12, 20, 16, 3 }.Take(linear + 1).Select((n, i) => i == linear ? 3 : n));
        bool convolutional = layers.StartsWith("Conv", StringComparison.Ordinal);
        var model = Model.Create(sizes, layers: layers, weights: "He", density: density, dropout: 0.2, seed: 4, inputShape: convolutional ? "3,2,2" : null);
        // trained a little, so that batch normalization has running statistics and SReLU trained parameters
        var rng = new Rng(8);
        var X = new Matrix<float>(64, 12);
        var x = X.AsSpan();
        for (int k = 0; k < x.Length; k++) x[k] = pixels ? (float)Math.Floor(256 * rng.NextDouble()) : (float)(4 * rng.NextDouble() - 2);
        var prepared = X.Clone();
        var preprocessing = new InputPreprocessing(pixels);
        preprocessing.Apply(prepared);
        var data = Dataset.FromLabels(prepared, [.. Enumerable.Range(0, 64).Select(i => (long)(i % 3))], prepared.Clone(), [.. Enumerable.Range(0, 64).Select(i => (long)(i % 3))], 3);
        data.Preprocessing = preprocessing;
        if (standardised) data.Normalize();
        model.Train(data, loss: "SquaredError", learningRate: 0.02, epochs: 2, batchSize: 16);

        string path = Path.Combine(_directory, "m.onnx");
        model.ExportOnnx(path);
        var expected = model.Predict(X);
        using var session = new InferenceSession(path);
        var input = new DenseTensor<float>(X.AsSpan().ToArray(), [X.Rows, X.Cols]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var actual = results.Single(r => r.Name == "output").AsEnumerable<float>().ToArray();

        Assert.Equal(expected.Rows * expected.Cols, actual.Length);
        var y = expected.AsSpan().ToArray();
        double scale = y.Max(v => Math.Abs(v)), error = y.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(error <= 1e-5 * scale, $"max |ours − ONNX Runtime| = {error:G3}, max |ours| = {scale:G3}");
    }

    [Theory]
    [InlineData("ReLU;Sigmoid")]
    [InlineData("ReLU;Linear")]
    public void A_network_with_one_output_unit_runs_in_ONNX_Runtime(string layers)
    {
        // W of the last layer is 1×4: it was written as a 1-D tensor, which Gemm refuses ("Input 1 expected to have rank 2")
        var model = Model.Create("5-4-1", layers: layers, seed: 1);
        string path = Path.Combine(_directory, "one.onnx");
        model.ExportOnnx(path);
        var X = new Matrix<float>(3, 5);
        for (int k = 0; k < X.Length; k++) X.AsSpan()[k] = k % 7 - 3;
        using var session = new InferenceSession(path);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(X.AsSpan().ToArray(), [3, 5]))]);
        var actual = results.Single(r => r.Name == "output").AsEnumerable<float>().ToArray();
        var expected = model.Predict(X).AsSpan().ToArray();
        Assert.Equal(3, actual.Length);
        for (int i = 0; i < 3; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"{expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void The_graph_has_one_input_and_one_output_of_any_batch_size()
    {
        var model = Model.Create("5-4-2", seed: 1);
        string path = Path.Combine(_directory, "m.onnx");
        model.ExportOnnx(path);
        using var session = new InferenceSession(path);
        Assert.Equal(["input"], session.InputMetadata.Keys);
        Assert.Equal(["output"], session.OutputMetadata.Keys);
        Assert.Equal([-1, 5], session.InputMetadata["input"].Dimensions);
        Assert.Equal([-1, 2], session.OutputMetadata["output"].Dimensions);
    }

    [Fact]
    public void A_sparse_layer_travels_as_a_sparse_initializer_of_its_stored_weights()
    {
        // 50 000 × 50 000 at density 10⁻⁵: 25 000 weights, 300 KB as a sparse initializer (10 GB as a dense one, which
        // the export refused before; ONNX Runtime still expands it at load, so it is not run here)
        var model = Model.Create("50000-50000-2", density: 0.00001, seed: 1);
        string path = Path.Combine(_directory, "big.onnx");
        model.ExportOnnx(path);
        Assert.InRange(new FileInfo(path).Length, 25_000 * 12, 1 << 20);
        var graph = Nerva.Onnx.Protobuf.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
        Assert.Equal(2, graph.SparseInitializer.Count);   // both layers are sparse at this overall density
        var W = graph.SparseInitializer[0];
        var layer = (Layers.LinearLayer<float>)model.Network.Layers[0];
        Assert.Equal([50000L, 50000L], W.Dims);
        Assert.Equal("W1", W.Values.Name);
        var positions = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(W.Indices.RawData.Span).ToArray();
        Assert.Equal(layer.WeightCount, positions.Length);
        for (int e = 1; e < positions.Length; e++) Assert.True(positions[e] > positions[e - 1]);
        int k = Array.FindIndex(layer.SparseW!.RowStart, start => start > 0) - 1;   // the first row with an entry
        Assert.Equal((long)k * 50000 + layer.SparseW.Columns[0], positions[0]);
        Assert.Equal(layer.SparseW.Values.AsSpan().ToArray(), System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(W.Values.RawData.Span).ToArray());
    }
}
