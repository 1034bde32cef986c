using System.Runtime.InteropServices;
using Google.Protobuf;
using Nerva.Layers;
using Nerva.Onnx.Protobuf;

namespace Nerva.ML;

/// <summary>
/// The ONNX graph of a fitted trainer: the model's own export (<see cref="Model.ExportOnnx"/>: preprocessing, layers) with
/// its input named after the features column, and nodes after its output <c>output</c> (N×K) that compute what ML.NET's
/// columns hold. ML.NET's OnnxTransformer feeds one row at a time and makes every output a vector (of the declared
/// size), so the outputs are declared without the batch dimension.
/// </summary>
internal sealed class OnnxScoring
{
    private readonly ModelProto _model;
    private readonly Onnx.OnnxExport.Graph _graph;
    private int _constants;

    public OnnxScoring(Model model, string features)
    {
        _model = Onnx.OnnxExport.Build(model, out _graph);
        var graph = _model.Graph;
        foreach (var node in graph.Node)
            for (int i = 0; i < node.Input.Count; i++)
                if (node.Input[i] == "input") node.Input[i] = features;
        graph.Input[0].Name = features;
        graph.Output.Clear();
        Network = model.Network;
    }

    /// <summary>The network, whose last layer says what <c>output</c> holds (logits, probabilities, log-probabilities).</summary>
    public MultilayerPerceptron<float> Network { get; }

    /// <summary>The class probabilities (N×K): <c>output</c> as it is after a Softmax layer, exponentiated after LogSoftmax, else its softmax.</summary>
    public string Probabilities() => Network.Layers[^1] switch
    {
        SoftmaxLayer<float> => "output",
        LogSoftmaxLayer<float> => _graph.Node("Exp", ["output"]),
        _ => _graph.Node("Softmax", ["output"], Int("axis", -1)),
    };

    /// <summary>log p₁ − log p₀ of a two-output network (N): the logit whose sigmoid is the probability of class 1.</summary>
    public string Logit()
    {
        string logits = Network.Layers[^1] is SoftmaxLayer<float> ? _graph.Node("Log", ["output"]) : "output";
        return _graph.Node("Sub", [Column(logits, 1), Column(logits, 0)]);
    }

    /// <summary>Output 0 of every row (N), scaled and shifted: y·<paramref name="scale"/> + <paramref name="shift"/>.</summary>
    public string Value(float scale, float shift) =>
        _graph.Node("Add", [_graph.Node("Mul", [Column("output", 0), _graph.Scalar("scoring_scale", scale)]), _graph.Scalar("scoring_shift", shift)]);

    /// <summary>The column of each row's first largest value (N, int64), as <c>Dataset.ArgMax</c> picks it.</summary>
    public string ArgMax(string values) => _graph.Node("ArgMax", [values], Int("axis", 1), Int("keepdims", 0), Int("select_last_index", 0));

    /// <summary>values[indices] of a constant vector (<see cref="Tensor"/>).</summary>
    public string Gather(TensorProto values, string indices)
    {
        values.Name = $"scoring_values{++_constants}";
        _model.Graph.Initializer.Add(values);
        return _graph.Node("Gather", [values.Name, indices], Int("axis", 0));
    }

    /// <summary>Makes <paramref name="value"/> the graph output <paramref name="name"/>, declared as a vector of <paramref name="size"/> elements of <paramref name="type"/>.</summary>
    public void Output(string name, string value, TensorProto.Types.DataType type, int size)
    {
        _model.Graph.Node.Add(new NodeProto { OpType = "Reshape", Name = name, Input = { value, _graph.Int64s($"{name}_shape", [1], size) }, Output = { name } });
        _model.Graph.Output.Add(new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = size } } } } },
        });
    }

    /// <summary>The graph as a file's bytes.</summary>
    public MemoryStream ToStream() => new(_model.ToByteArray());

    /// <summary>A tensor of <paramref name="values"/>: strings as UTF-8, numbers little-endian.</summary>
    public static TensorProto Tensor<T>(IReadOnlyList<T> values)
    {
        var tensor = new TensorProto { Dims = { values.Count } };
        if (values is IReadOnlyList<string> text)
        {
            tensor.DataType = (int)TensorProto.Types.DataType.String;
            tensor.StringData.AddRange(text.Select(ByteString.CopyFromUtf8));
            return tensor;
        }
        (tensor.DataType, byte[] bytes) = values switch
        {
            IReadOnlyList<float> v => ((int)TensorProto.Types.DataType.Float, Bytes(v)),
            IReadOnlyList<double> v => ((int)TensorProto.Types.DataType.Double, Bytes(v)),
            // uint before int: a uint[] is an IReadOnlyList<int> too (the CLR's array covariance)
            IReadOnlyList<uint> v when typeof(T) == typeof(uint) => ((int)TensorProto.Types.DataType.Uint32, Bytes(v)),
            IReadOnlyList<int> v => ((int)TensorProto.Types.DataType.Int32, Bytes(v)),
            IReadOnlyList<long> v => ((int)TensorProto.Types.DataType.Int64, Bytes(v)),
            _ => throw new NotSupportedException($"values of type {typeof(T).Name}"),
        };
        tensor.RawData = ByteString.CopyFrom(bytes);
        return tensor;
    }

    private static byte[] Bytes<T>(IReadOnlyList<T> values) where T : unmanaged => MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray();

    /// <summary>Column <paramref name="j"/> of every row (N): Gather with a scalar index drops the axis.</summary>
    private string Column(string matrix, long j)
    {
        string index = $"scoring_index{j}";
        if (_model.Graph.Initializer.All(t => t.Name != index)) _graph.Int64s(index, [], j);
        return _graph.Node("Gather", [matrix, index], Int("axis", 1));
    }

    private static AttributeProto Int(string name, long value) => Onnx.OnnxExport.Int(name, value);
}
