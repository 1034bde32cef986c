using System.Runtime.InteropServices;
using Google.Protobuf;
using Nerva.Activations;
using Nerva.Data;
using Nerva.Layers;
using Nerva.Onnx.Protobuf;

namespace Nerva.Onnx;

/// <summary>
/// A <see cref="Model"/> as an ONNX graph (opset 17) of standard operators, written with Google's protobuf runtime and
/// the ONNX schema's messages (<c>onnx.proto</c>). Input <c>input</c> is N×D raw rows, output <c>output</c> the N×K
/// network outputs, what <see cref="Model.Predict(Matrix{float})"/> returns:
/// <code>
/// pixels:        x = (v / 255 − 0.5)·2                           Div, Sub, Mul (the readers' float operations)
/// standardised:  x = float((double(x) − mean)·scale)             Cast, Sub, Mul, Cast (in double, as the dataset was)
/// linear layer:  Z = X·Wᵀ + b                                    Gemm(transB = 1); a sparse W as a sparse initialiser
/// activation:    Relu, Sigmoid, Tanh, Elu, LeakyRelu (AllReLU, and LeakyReLU with 0 ≤ α ≤ 1), Max(α·Z, Z) (LeakyReLU
///                otherwise), Where(Z &lt; ε, 0, Z) (TReLU), SReLU's three cases as two Where nodes, Softmax, LogSoftmax
/// batch norm:    BatchNormalization in inference form (running mean and variance, ε = 1e-7)
/// convolution:   Reshape to N×C×H×W, Conv (kernels C'×C×kh×kw, pads, strides), Flatten; pooling likewise with MaxPool or
///                AveragePool; an activation on its own as the activation nodes above
/// </code>
/// Dropout is the identity in evaluation mode, so it has no node. A sparse layer's W is a <c>sparse_initializer</c>: its
/// stored values and their linearized positions k·D + d (ascending, as CSR stores them), so the file grows with nnz, not
/// K·D. ONNX Runtime (1.31) expands sparse initializers to dense tensors when it loads a model (microsoft/onnxruntime
/// #5540), and its one sparse operator, SparseToDenseMatMul, refuses a sparse initializer (#31730, open): an exported
/// sparse model runs there at the dense model's cost and memory; our own <see cref="Model.Predict(Matrix{float})"/> keeps it sparse.
/// </summary>
internal static class OnnxExport
{
    private const int Opset = 17;
    private const long IrVersion = 8;

    /// <summary>ONNX files are single protobuf messages, which cannot exceed 2 GB.</summary>
    private const long MaxBytes = int.MaxValue;

    public static ModelProto Build(Model model) => Build(model, out _);

    /// <summary>The model's graph and its builder, which goes on naming nodes and initializers where the export stopped (the ML.NET trainers add nodes after <c>output</c>).</summary>
    public static ModelProto Build(Model model, out Graph graph)
    {
        var mlp = model.Network;
        // a dense W takes 4 bytes a weight, a sparse one 12 (a value and its int64 position)
        long bytes = mlp.Layers.OfType<LinearLayer<float>>().Sum(l => l.IsSparse ? 12L * l.WeightCount : 4L * l.InputSize * l.OutputSize);
        if (bytes > MaxBytes)
            throw new NotSupportedException($"the network's weights take {bytes >> 20} MB in ONNX, more than its 2 GB limit on one file");
        var g = graph = new Graph();
        string x = Preprocess(g, model.Preprocessing, "input");
        int linear = 0, normalization = 0, convolution = 0, pooling = 0, functions = 0;
        foreach (var layer in mlp.Layers)
        {
            switch (layer)
            {
                case BatchNormalizationLayer<float> bn:
                    normalization++;
                    string p = $"bn{normalization}_";
                    x = g.Node("BatchNormalization", [x, g.Tensor(p + "gamma", bn.Gamma), g.Tensor(p + "beta", bn.Beta), g.Tensor(p + "mean", bn.RunningMean), g.Tensor(p + "var", bn.RunningVariance)],
                        Float("epsilon", (float)MatrixOperations.InvSqrtEpsilon<double>()));
                    break;
                case ConvolutionLayer<float> c:
                    convolution++;
                    // rows to N×C×H×W images, the convolution, and back to rows (channels first, as ours)
                    x = g.Node("Reshape", [x, g.Shape($"conv{convolution}_images", c.Input)]);
                    x = g.Node("Conv", [x, g.Tensor($"conv{convolution}_W", c.W, [c.Output.Channels, c.Input.Channels, c.KernelHeight, c.KernelWidth]), g.Tensor($"conv{convolution}_b", c.B)],
                        Ints("kernel_shape", c.KernelHeight, c.KernelWidth), Ints("pads", c.Padding, c.Padding, c.Padding, c.Padding), Ints("strides", c.Stride, c.Stride));
                    x = g.Node("Flatten", [x], Int("axis", 1));
                    break;
                case MaxPoolingLayer<float> m:
                    pooling++;
                    x = g.Node("Reshape", [x, g.Shape($"pool{pooling}_images", m.Input)]);
                    x = g.Node("Flatten", [g.Node("MaxPool", [x], Ints("kernel_shape", m.Kernel, m.Kernel), Ints("strides", m.Stride, m.Stride))], Int("axis", 1));
                    break;
                case AveragePoolingLayer<float> a:
                    pooling++;
                    x = g.Node("Reshape", [x, g.Shape($"pool{pooling}_images", a.Input)]);
                    x = g.Node("Flatten", [g.Node("AveragePool", [x], Ints("kernel_shape", a.Kernel, a.Kernel), Ints("strides", a.Stride, a.Stride))], Int("axis", 1));
                    break;
                case LinearLayer<float> l:
                    linear++;
                    string W = l.SparseW is { } sparse ? g.Sparse($"W{linear}", sparse) : g.Tensor($"W{linear}", l.W, [l.OutputSize, l.InputSize]);
                    string Z = g.Node("Gemm", [x, W, g.Tensor($"b{linear}", l.B)], Int("transB", 1));
                    x = Activation(g, l, Z, linear);
                    break;
                case var other when Boxed(other) is { } activation:
                    functions++;
                    x = Activation(g, activation, x, $"f{functions}");
                    break;
                default:
                    throw new NotSupportedException($"ONNX export does not know the layer {layer.GetType().Name}");
            }
        }
        g.Proto.Node.Add(new NodeProto { OpType = "Identity", Input = { x }, Output = { "output" } });
        g.Proto.Name = "Nerva.NET";
        g.Proto.Input.Add(Value("input", TensorProto.Types.DataType.Float, mlp.InputSize));
        g.Proto.Output.Add(Value("output", TensorProto.Types.DataType.Float, mlp.OutputSize));
        return new ModelProto
        {
            IrVersion = IrVersion,
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = Opset } },
            ProducerName = "Nerva.NET",
            ProducerVersion = typeof(Model).Assembly.GetName().Version?.ToString() ?? "",
            DocString = $"layers {string.Join(';', ModelFile.LayerSpecs(mlp))}; preprocessing: {model.Preprocessing}",
            Graph = g.Proto,
        };
    }

    /// <summary>The nodes of the input preprocessing, in the float and double operations the readers and Dataset.Normalize use.</summary>
    private static string Preprocess(Graph g, InputPreprocessing preprocessing, string x)
    {
        if (preprocessing.ScalePixels)
        {
            // 2(v/255 − 0.5), as ImageDatasets.ToUnit computes it
            x = g.Node("Div", [x, g.Scalar("pixel_range", 255f)]);
            x = g.Node("Sub", [x, g.Scalar("pixel_half", 0.5f)]);
            x = g.Node("Mul", [x, g.Scalar("pixel_two", 2f)]);
        }
        if (preprocessing is { Mean: { } mean, Scale: { } scale })
        {
            x = g.Node("Cast", [x], Int("to", (int)TensorProto.Types.DataType.Double));
            x = g.Node("Sub", [x, g.Doubles("input_mean", mean)]);
            x = g.Node("Mul", [x, g.Doubles("input_scale", scale)]);
            x = g.Node("Cast", [x], Int("to", (int)TensorProto.Types.DataType.Float));
        }
        return x;
    }

    /// <summary>The activation of linear layer <paramref name="k"/> applied to its Z.</summary>
    private static string Activation(Graph g, LinearLayer<float> layer, string Z, int k) => layer switch
    {
        SoftmaxLayer<float> => g.Node("Softmax", [Z], Int("axis", -1)),
        LogSoftmaxLayer<float> => g.Node("LogSoftmax", [Z], Int("axis", -1)),
        SReLULayer<float> s => SReLU(g, Z, s.A.AsSpan(), k),
        { LayerSpec: "Linear" } => Z,
        _ when Boxed(layer) is { } activation => Activation(g, activation, Z, $"{k}"),
        _ => throw new NotSupportedException($"ONNX export does not know the activation of layer {k} ({layer.LayerSpec})"),
    };

    /// <summary>The activation function of a layer that has one (a dense layer's, or one on its own), else null.</summary>
    private static object? Boxed(Layer<float> layer) => layer switch
    {
        ActivationLayer<float, ReLU<float>> a => a.BoxedActivation,
        ActivationLayer<float, Sigmoid<float>> a => a.BoxedActivation,
        ActivationLayer<float, HyperbolicTangent<float>> a => a.BoxedActivation,
        ActivationLayer<float, ELU<float>> a => a.BoxedActivation,
        ActivationLayer<float, AllReLU<float>> a => a.BoxedActivation,
        ActivationLayer<float, LeakyReLU<float>> a => a.BoxedActivation,
        ActivationLayer<float, TReLU<float>> a => a.BoxedActivation,
        ActivationFunctionLayer<float, ReLU<float>> a => a.BoxedActivation,
        ActivationFunctionLayer<float, Sigmoid<float>> a => a.BoxedActivation,
        ActivationFunctionLayer<float, HyperbolicTangent<float>> a => a.BoxedActivation,
        ActivationFunctionLayer<float, ELU<float>> a => a.BoxedActivation,
        ActivationFunctionLayer<float, AllReLU<float>> a => a.BoxedActivation,
        ActivationFunctionLayer<float, LeakyReLU<float>> a => a.BoxedActivation,
        ActivationFunctionLayer<float, TReLU<float>> a => a.BoxedActivation,
        _ => null,
    };

    /// <summary>An element-wise activation applied to Z; <paramref name="k"/> names its constants.</summary>
    private static string Activation(Graph g, object activation, string Z, string k) => activation switch
    {
        ReLU<float> => g.Node("Relu", [Z]),
        Sigmoid<float> => g.Node("Sigmoid", [Z]),
        HyperbolicTangent<float> => g.Node("Tanh", [Z]),
        ELU<float> a => g.Node("Elu", [Z], Float("alpha", a.Alpha)),
        // AllReLU is z < 0 ? αz : z, ONNX's LeakyRelu for every α
        AllReLU<float> a => g.Node("LeakyRelu", [Z], Float("alpha", a.Alpha)),
        // LeakyReLU is max(αz, z): LeakyRelu where 0 ≤ α ≤ 1, the max itself otherwise
        LeakyReLU<float> a when a.Alpha is >= 0 and <= 1 => g.Node("LeakyRelu", [Z], Float("alpha", a.Alpha)),
        LeakyReLU<float> a => g.Node("Max", [g.Node("Mul", [Z, g.Scalar($"alpha{k}", a.Alpha)]), Z]),
        // TReLU is z < ε ? 0 : z (ThresholdedRelu differs at z = ε)
        TReLU<float> a => g.Node("Where", [g.Node("Less", [Z, g.Scalar($"epsilon{k}", a.Epsilon)]), g.Scalar($"zero{k}", 0f), Z]),
        _ => throw new NotSupportedException($"ONNX export does not know the activation {activation}"),
    };

    /// <summary>z ≤ t_l ? t_l + a_l(z − t_l) : (z &lt; t_r ? z : t_r + a_r(z − t_r)), the first case first as in <see cref="SReLU{T}"/>.</summary>
    private static string SReLU(Graph g, string Z, ReadOnlySpan<float> A, int k)
    {
        string al = g.Scalar($"srelu{k}_al", A[0]), tl = g.Scalar($"srelu{k}_tl", A[1]), ar = g.Scalar($"srelu{k}_ar", A[2]), tr = g.Scalar($"srelu{k}_tr", A[3]);
        string left = g.Node("Add", [tl, g.Node("Mul", [al, g.Node("Sub", [Z, tl])])]);
        string right = g.Node("Add", [tr, g.Node("Mul", [ar, g.Node("Sub", [Z, tr])])]);
        string middle = g.Node("Where", [g.Node("Less", [Z, tr]), Z, right]);
        return g.Node("Where", [g.Node("LessOrEqual", [Z, tl]), left, middle]);
    }

    internal static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Ints(string name, params long[] values) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };

    private static AttributeProto Float(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    /// <summary>A graph input or output: a float matrix of N (any) rows and <paramref name="columns"/> columns.</summary>
    private static ValueInfoProto Value(string name, TensorProto.Types.DataType type, int columns) => new()
    {
        Name = name,
        Type = new TypeProto
        {
            TensorType = new TypeProto.Types.Tensor
            {
                ElemType = (int)type,
                Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimParam = "N" }, new TensorShapeProto.Types.Dimension { DimValue = columns } } },
            },
        },
    };

    /// <summary>The graph under construction: nodes with generated output names, initializers by name.</summary>
    internal sealed class Graph
    {
        private int _values;

        public GraphProto Proto { get; } = new();

        /// <summary>Adds a node and returns the name of its one output.</summary>
        public string Node(string op, string[] inputs, params AttributeProto[] attributes)
        {
            string output = $"{op.ToLowerInvariant()}{++_values}";
            Proto.Node.Add(new NodeProto { OpType = op, Name = output, Input = { inputs }, Output = { output }, Attribute = { attributes } });
            return output;
        }

        /// <summary>A float initializer of a row vector (a bias, batch normalization's vectors) as 1-D.</summary>
        public string Tensor(string name, Matrix<float> values) =>
            values.Rows == 1 ? Add(name, TensorProto.Types.DataType.Float, [values.Cols], MemoryMarshal.AsBytes(values.AsSpan())) : throw new ArgumentException($"{name}: a vector has one row");

        /// <summary>A float initializer of the given shape: W as K×D (as Gemm with transB takes it, even for K = 1), a convolution's kernels as C'×C×kh×kw.</summary>
        public string Tensor(string name, Matrix<float> values, long[] dims) => Add(name, TensorProto.Types.DataType.Float, dims, MemoryMarshal.AsBytes(values.AsSpan()));

        /// <summary>The int64 shape −1×C×H×W that Reshape takes rows to images with.</summary>
        public string Shape(string name, ImageShape image) =>
            Add(name, TensorProto.Types.DataType.Int64, [4], MemoryMarshal.AsBytes(new long[] { -1, image.Channels, image.Height, image.Width }.AsSpan()));

        public string Scalar(string name, float value) => Add(name, TensorProto.Types.DataType.Float, [], MemoryMarshal.AsBytes(new[] { value }.AsSpan()));

        /// <summary>An int64 initializer: a scalar (no <paramref name="dims"/>, as Gather takes an index to drop its axis) or a vector.</summary>
        public string Int64s(string name, long[] dims, params long[] values) => Add(name, TensorProto.Types.DataType.Int64, dims, MemoryMarshal.AsBytes(values.AsSpan()));

        public string Doubles(string name, double[] values) => Add(name, TensorProto.Types.DataType.Double, [values.Length], MemoryMarshal.AsBytes(values.AsSpan()));

        /// <summary>A sparse initializer of W (K×D): its stored values and their positions k·D + d, as CSR stores them (ascending).</summary>
        public string Sparse(string name, Sparse.CsrMatrix<float> W)
        {
            var positions = new long[W.NonZeroCount];
            for (int k = 0; k < W.Rows; k++)
                for (int e = W.RowStart[k]; e < W.RowStart[k + 1]; e++) positions[e] = (long)k * W.Cols + W.Columns[e];
            var values = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, Dims = { W.NonZeroCount }, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(W.Values.AsSpan())) };
            var indices = new TensorProto { DataType = (int)TensorProto.Types.DataType.Int64, Dims = { W.NonZeroCount }, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(positions.AsSpan())) };
            Proto.SparseInitializer.Add(new SparseTensorProto { Values = values, Indices = indices, Dims = { W.Rows, W.Cols } });
            return name;
        }

        /// <summary>An initializer of raw little-endian values.</summary>
        public string Add(string name, TensorProto.Types.DataType type, long[] dims, ReadOnlySpan<byte> littleEndian)
        {
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX export writes raw little-endian tensors; this machine is big-endian");
            Proto.Initializer.Add(new TensorProto { Name = name, DataType = (int)type, Dims = { dims }, RawData = ByteString.CopyFrom(littleEndian) });
            return name;
        }
    }
}
