using System.Globalization;
using Google.Protobuf;
using Nerva.Data;
using Nerva.Layers;
using Nerva.Schedulers;
using Nerva.Sparse;
using Nerva.Specs;
using Nerva.Training;

namespace Nerva;

/// <summary>
/// A network with what it takes to use it: the architecture, the weights and the input preprocessing, saved to and
/// loaded from one file (<see cref="Save"/>, <see cref="Load"/>), built from the <c>mlp</c> tool's grammar
/// (<see cref="Create"/>), and asked for predictions on raw inputs.
/// </summary>
/// <remarks>
/// <para>
/// <b>Inputs are raw.</b> <see cref="Predict(ReadOnlySpan{float})"/> and the other Predict methods take rows as they come
/// (image pixels in 0..255 when the model was trained on an image dataset) and apply <see cref="Preprocessing"/> first,
/// as the exported ONNX graph does. <see cref="Evaluate(Dataset)"/> takes a dataset whose rows are already prepared.
/// </para>
/// <para>
/// <b>Inference</b> always runs in evaluation mode (no dropout; batch normalization with its running statistics), whatever
/// mode training left the network in, and may be called from several threads at once: each call runs on an inference
/// replica of the network (its parameters shared, its buffers its own; one per concurrent call, kept for the next), so
/// calls run side by side, and a one-row request does not wait for another's batch. Do not train and predict at the
/// same time.
/// A row's outputs are the same bits for any thread count, and, in a network of fully connected layers, in any batch of
/// 17 rows or more; a smaller batch may differ from a larger one in the last bits: the products of a few rows take other
/// kernels, which sum in other orders. A batch of a sparse network is shared out over the threads in pieces, each fed
/// through the whole network on one thread, where that pays.
/// </para>
/// </remarks>
public sealed class Model
{
    /// <summary>Rows fed through the network at once: bounds the intermediate matrices of a large batch.</summary>
    private const int Chunk = 1024;

    private readonly object _gate = new();

    /// <summary>
    /// Networks for inference, each with its buffers, sharing the network's parameters (so they never go stale): a call
    /// takes one, or makes one when all are busy, and puts it back, so that calls from several threads run side by side.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentBag<(MultilayerPerceptron<float> Network, Matrix<float> X, Matrix<float> Y)> _replicas = [];

    /// <summary>
    /// A model of <paramref name="network"/> whose raw inputs are prepared by <paramref name="preprocessing"/> (default:
    /// none), trained with the loss named <paramref name="loss"/> (one of <see cref="SpecParser.LossNames"/>; null: not known).
    /// </summary>
    public Model(MultilayerPerceptron<float> network, InputPreprocessing? preprocessing = null, string? loss = null)
    {
        Network = network ?? throw new ArgumentNullException(nameof(network));
        Preprocessing = preprocessing ?? InputPreprocessing.None;
        if (loss is not null) SpecParser.Loss(loss);
        Loss = loss;
        if (Preprocessing.Mean is { } mean && mean.Length != network.InputSize)
            throw new ArgumentException($"the preprocessing has statistics for {mean.Length} features, the network takes {network.InputSize}", nameof(preprocessing));
    }

    /// <summary>The network: its layers, weights and optimizers.</summary>
    public MultilayerPerceptron<float> Network { get; }

    /// <summary>What is done to a raw input row before the network sees it; <see cref="Train"/> takes it from the dataset.</summary>
    public InputPreprocessing Preprocessing { get; private set; }

    /// <summary>The loss the network was trained with (saved in the model file, so that evaluating it reports that loss); null when not known.</summary>
    public string? Loss { get; private set; }

    /// <summary>
    /// The names of the classes, output 0 first (for one output: the classes 0 and 1), saved in the model file, so that
    /// predictions can name them; null when the classes are only numbers. <see cref="Train"/> takes them from the dataset.
    /// </summary>
    public IReadOnlyList<string>? ClassNames
    {
        get => _classNames;
        set
        {
            if (value is not null && value.Count != OutputSize && !(OutputSize == 1 && value.Count == 2))
                throw new ArgumentException($"{value.Count} class names for a network of {OutputSize} outputs", nameof(value));
            if (value is not null && value.Distinct(StringComparer.Ordinal).Count() != value.Count) throw new ArgumentException("the class names must be distinct", nameof(value));
            _classNames = value is null ? null : [.. value];
        }
    }

    /// <summary>The names of the input features (a CSV file's columns, which a file of rows to predict is read by), or null.</summary>
    public IReadOnlyList<string>? FeatureNames
    {
        get => _featureNames;
        set
        {
            if (value is not null && value.Count != InputSize) throw new ArgumentException($"{value.Count} feature names for a network of {InputSize} inputs", nameof(value));
            _featureNames = value is null ? null : [.. value];
        }
    }

    /// <summary>The name of the label column of the CSV file the model was trained on, or null.</summary>
    public string? LabelName { get; set; }

    private IReadOnlyList<string>? _classNames, _featureNames;

    /// <summary>The number of input features.</summary>
    public int InputSize => Network.InputSize;

    /// <summary>The number of outputs (classes).</summary>
    public int OutputSize => Network.OutputSize;

    /// <summary>
    /// A network from the <c>mlp</c> tool's grammar: <paramref name="sizes"/> such as "784-256-128-10" (also ';' or ','),
    /// hidden layers with <paramref name="activation"/> and the last with <paramref name="output"/> (or every layer given
    /// in <paramref name="layers"/>, e.g. "ReLU;BatchNormalization;ReLU;Linear"), weights drawn by <paramref name="weights"/>
    /// (Xavier, He, …), every layer optimized by <paramref name="optimizer"/> (GradientDescent, Momentum(0.9),
    /// Nesterov(0.9), Adam). A <paramref name="density"/> below 1 makes the layers sparse, spread by the Erdős–Rényi rule;
    /// <paramref name="dropout"/> applies to the hidden layers. A convolutional network gives its layers (e.g.
    /// "Conv(out=32, kernel=3, padding=1);ReLU;MaxPool(2);Flatten;ReLU;Linear", sizes "784-128-10") and
    /// <paramref name="inputShape"/> "C,H,W". Every name is checked: a bad one is an
    /// <see cref="InvalidSpecException"/> that lists the valid choices.
    /// </summary>
    public static Model Create(string sizes, string activation = "ReLU", string output = "Linear", string weights = "Xavier",
        string optimizer = "GradientDescent", double density = 1, double dropout = 0, ulong seed = 1, string? layers = null, string? inputShape = null)
        => CreateDrawing(sizes, activation, output, weights, optimizer, density, dropout, new Rng(seed), layers, inputShape);

    /// <summary>As the public Create, drawing the weights from <paramref name="rng"/>, which training then goes on drawing from (as the mlp tool does).</summary>
    internal static Model CreateDrawing(string sizes, string activation, string output, string weights, string optimizer, double density, double dropout, Rng rng, string? layers, string? inputShape)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        var parts = sizes.Split(['-', ';', ','], StringSplitOptions.TrimEntries);
        var size = new int[parts.Length];
        if (parts.Length < 2 || !parts.Select((part, i) => int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out size[i]) && size[i] >= 1).All(ok => ok))
            throw new InvalidSpecException($"sizes '{sizes}': give the input size and every layer's size as positive integers, e.g. \"784-256-10\"");
        string[] specs = layers is not null ? SpecParser.List(layers) : [.. Enumerable.Repeat(activation, size.Length - 2), output];
        int linear = NetworkBuilder.LinearLayerCount(specs);
        if (!(density > 0 && density <= 1)) throw new InvalidSpecException($"density must be in (0, 1], got {density}");
        if (!(dropout >= 0 && dropout < 1)) throw new InvalidSpecException($"dropout must be in [0, 1), got {dropout}");
        if (size.Length != linear + 1) throw new InvalidSpecException($"{linear} linear layers need {linear + 1} sizes, got {size.Length} ('{sizes}')");
        double[] densities = density < 1 ? ErdosRenyi.Densities(density, size) : [1];
        double[] dropouts = [.. Enumerable.Range(0, linear).Select(k => k < linear - 1 ? dropout : 0)];
        var network = NetworkBuilder.Build(specs, size, dropouts, [SpecParser.Weights(weights)], [SpecParser.Optimizer(optimizer)], rng, densities,
            inputShape is null ? null : NetworkBuilder.InputShape(inputShape));
        return new Model(network);
    }

    /// <summary>
    /// Trains on <paramref name="data"/> with mini-batch SGD at a constant learning rate (the <c>mlp</c> tool's defaults
    /// otherwise; <see cref="StochasticGradientDescent"/> offers everything else) and returns the final test accuracy.
    /// The model takes the dataset's <see cref="Dataset.Preprocessing"/>; epoch lines go to <paramref name="log"/>.
    /// </summary>
    public double Train(Dataset data, string loss = "SoftmaxCrossEntropy", double learningRate = 0.01, int epochs = 10, int batchSize = 100, ulong seed = 1, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var options = new TrainingOptions { Epochs = epochs, BatchSize = batchSize };
        var sgd = new StochasticGradientDescent(Network, SpecParser.Loss(loss), new ConstantScheduler(learningRate), options, new Rng(seed), log ?? TextWriter.Null);
        lock (_gate)
        {
            Preprocessing = data.Preprocessing;
            Loss = loss.Trim();
            ClassNames = data.ClassNames;
            FeatureNames = data.FeatureNames;
            LabelName = data.LabelName;
            try
            {
                return sgd.Train(data).TestAccuracy;
            }
            finally
            {
                Network.IsTraining = false;
            }
        }
    }

    /// <summary>
    /// A <see cref="Predictor"/> of this model for serving: a snapshot of its weights, the dense layers' packed once and the
    /// sparse layers' laid out for batches of 1–3 rows (AVX-512), whose predictions are the same bits as
    /// <see cref="Predict(Matrix{float})"/>'s and come faster: dense batches of one row and of 12 rows on, sparse ones of 1–3
    /// rows. Make a new one after training or changing the weights.
    /// </summary>
    /// <exception cref="InvalidOperationException">a weight is not finite (a diverged network)</exception>
    public Predictor CreatePredictor()
    {
        Model copy;
        lock (_gate) copy = ModelFile.Copy(this);   // the copy only: preparing it (seconds for a million-neuron network) holds nothing of this model
        return new Predictor(copy);
    }

    /// <summary>The network's outputs for one raw input row.</summary>
    public float[] Predict(ReadOnlySpan<float> input)
    {
        var Y = new Matrix<float>(1, OutputSize);
        var X = new Matrix<float>(1, input.Length);
        input.CopyTo(X.Row(0));
        Feed(X, prepared: false, Y);
        return Y.AsSpan().ToArray();
    }

    /// <summary>The network's outputs for every raw input row (N×K).</summary>
    public Matrix<float> Predict(Matrix<float> inputs) => Predict(inputs, prepared: false);

    /// <summary>
    /// Class probabilities for one raw input row: a Softmax output layer's outputs as they are, a LogSoftmax layer's
    /// exponentiated, a Sigmoid layer's as they are; otherwise the softmax of the outputs (a network trained with
    /// SoftmaxCrossEntropy ends in a Linear layer), or, for one output without a sigmoid, the output itself.
    /// </summary>
    public float[] PredictProbabilities(ReadOnlySpan<float> input)
    {
        var y = Predict(input);
        ToProbabilities(y);
        return y;
    }

    /// <summary>Class probabilities for every raw input row (see <see cref="PredictProbabilities(ReadOnlySpan{float})"/>).</summary>
    public Matrix<float> PredictProbabilities(Matrix<float> inputs)
    {
        var Y = Predict(inputs);
        for (int i = 0; i < Y.Rows; i++) ToProbabilities(Y.Row(i));
        return Y;
    }

    /// <summary>The predicted class of one raw input row: the first largest output, or for one output 1 when it is at least 0.5.</summary>
    public int PredictLabel(ReadOnlySpan<float> input) => Dataset.ClassOf(Predict(input));

    /// <summary>The predicted class of every raw input row.</summary>
    public int[] PredictLabels(Matrix<float> inputs)
    {
        var Y = Predict(inputs);
        return [.. Enumerable.Range(0, Y.Rows).Select(i => Dataset.ClassOf(Y.Row(i)))];
    }

    /// <summary>The accuracy on raw input rows with their class labels.</summary>
    public double Evaluate(Matrix<float> inputs, IReadOnlyList<int> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Count != inputs.Rows) throw new ArgumentException($"{inputs.Rows} inputs but {labels.Count} labels", nameof(labels));
        var predicted = PredictLabels(inputs);
        return inputs.Rows == 0 ? 0 : predicted.Where((label, i) => label == labels[i]).Count() / (double)inputs.Rows;
    }

    /// <summary>
    /// The accuracy on the test set of <paramref name="data"/>, whose rows are already prepared (as our readers and
    /// <see cref="Dataset.Normalize"/> leave them); its <see cref="Dataset.Preprocessing"/> must be the model's.
    /// </summary>
    public double Evaluate(Dataset data)
    {
        CheckPrepared(data);
        var Y = new Matrix<float>(data.Xtest.Rows, OutputSize);
        Feed(data.Xtest, prepared: true, Y);
        int correct = 0;
        for (int i = 0; i < Y.Rows; i++)
            if (Dataset.SameClass(Y.Row(i), data.Ttest.Row(i))) correct++;
        return Y.Rows == 0 ? 0 : correct / (double)Y.Rows;
    }

    /// <summary>
    /// Saves the model (architecture, weights, preprocessing) as one .npz, atomically. The weight arrays have the weights
    /// file's names, so <see cref="WeightsFile.Load(MultilayerPerceptron{float}, string)"/>, the original's tools and NumPy read them as before.
    /// </summary>
    public void Save(string path)
    {
        lock (_gate) ModelFile.Save(this, path);
    }

    /// <summary>
    /// Writes the model as an ONNX graph of standard operators (opset 17), atomically: input <c>input</c> (N×D raw rows,
    /// the preprocessing as the graph's first nodes), output <c>output</c> (N×K, what <see cref="Predict(Matrix{float})"/>
    /// returns), a sparse layer's W as a sparse initialiser (its stored values and positions: the file grows with nnz).
    /// ONNX Runtime (<c>Microsoft.ML.OnnxRuntime</c>) serves it in .NET, and every other ONNX runtime elsewhere; ONNX
    /// Runtime 1.31 expands sparse initialisers to dense tensors at load, so a sparse model runs there at the dense cost.
    /// A network whose weights take more than ONNX's 2 GB in the file is refused (<see cref="NotSupportedException"/>).
    /// </summary>
    public void ExportOnnx(string path)
    {
        Onnx.Protobuf.ModelProto onnx;
        lock (_gate) onnx = Onnx.OnnxExport.Build(this);
        AtomicFile.Write(path, stream => onnx.WriteTo(stream));
    }

    /// <summary>Loads a model saved by <see cref="Save"/>; a file that is not one, or is corrupt, is one <see cref="DataFormatException"/> naming the problem.</summary>
    public static Model Load(string path) => ModelFile.Load(path);

    /// <summary>
    /// Class probabilities for the test set of <paramref name="data"/>, whose rows are already prepared (see
    /// <see cref="Evaluate(Dataset)"/>); <see cref="Dataset.ClassOf"/> of a row is its predicted class.
    /// </summary>
    public Matrix<float> PredictProbabilities(Dataset data)
    {
        CheckPrepared(data);
        var Y = new Matrix<float>(data.Xtest.Rows, OutputSize);
        Feed(data.Xtest, prepared: true, Y);
        for (int i = 0; i < Y.Rows; i++) ToProbabilities(Y.Row(i));
        return Y;
    }

    /// <summary>
    /// Y for the rows of <paramref name="inputs"/> (prepared here unless <paramref name="prepared"/>), in evaluation mode, in
    /// pieces over the threads where that pays (<see cref="InferencePieces"/>), each in chunks of rows, on an inference
    /// replica of the network (see <see cref="_replicas"/>).
    /// </summary>
    private void Feed(Matrix<float> inputs, bool prepared, Matrix<float> Y)
    {
        if (inputs.Cols != InputSize) throw new ArgumentException($"the inputs have {inputs.Cols} features, the model takes {InputSize}", nameof(inputs));
        int pieces = InferencePieces.Count(Network, inputs.Rows, Kernels.Parallelism.Threads);
        if (pieces == 1)
        {
            FeedRows(inputs, 0, inputs.Rows, prepared, Y);
            return;
        }
        Kernels.Parallelism.For(pieces, long.MaxValue, new Piece(this, inputs, prepared, Y, pieces));   // the work: Count judged it
    }

    /// <summary>Piece p of a batch fed in pieces: its rows through <see cref="FeedRows"/>.</summary>
    private readonly struct Piece(Model model, Matrix<float> inputs, bool prepared, Matrix<float> Y, int pieces) : Kernels.IParallelBody
    {
        public void Run(int p) => model.FeedRows(inputs, InferencePieces.Start(inputs.Rows, pieces, p), InferencePieces.Start(inputs.Rows, pieces, p + 1), prepared, Y);
    }

    /// <summary>Y's rows [first, end) for those of <paramref name="inputs"/>, in chunks of at most <see cref="Chunk"/> rows as even as they go, on a replica.</summary>
    private void FeedRows(Matrix<float> inputs, int first, int end, bool prepared, Matrix<float> Y)
    {
        if (!_replicas.TryTake(out var replica)) replica = (Network.InferenceReplica(), new Matrix<float>(0, 0), new Matrix<float>(0, 0));
        var (network, X, chunk) = replica;
        int rows = end - first, chunks = InferencePieces.Chunks(rows, Chunk);
        for (int c = 0; c < chunks; c++)
        {
            int start = first + InferencePieces.ChunkStart(rows, Chunk, c), n = first + InferencePieces.ChunkStart(rows, Chunk, c + 1) - start;
            X.Resize(n, InputSize);
            for (int i = 0; i < n; i++)
            {
                if (prepared) inputs.Row(start + i).CopyTo(X.Row(i));
                else Preprocessing.Apply(inputs.Row(start + i), X.Row(i));
            }
            network.Feedforward(X, chunk);
            chunk.AsSpan().CopyTo(Y.AsSpan()[(start * OutputSize)..]);
        }
        _replicas.Add(replica);
    }

    /// <summary>Refuses a dataset whose rows were prepared otherwise than the model's inputs are, or with another number of classes.</summary>
    private void CheckPrepared(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var (mine, theirs) = (Preprocessing, data.Preprocessing);
        if (mine.ScalePixels != theirs.ScalePixels || !(mine.Mean ?? []).SequenceEqual(theirs.Mean ?? []) || !(mine.Scale ?? []).SequenceEqual(theirs.Scale ?? []))
            throw new ArgumentException($"the dataset's inputs were prepared as '{theirs}', the model's are prepared as '{mine}'", nameof(data));
        if (data.Classes != OutputSize) throw new ArgumentException($"the dataset has {data.Classes} classes, the model {OutputSize} outputs", nameof(data));
    }

    /// <summary>The network's outputs for rows already prepared (<paramref name="prepared"/>) or raw.</summary>
    internal Matrix<float> Predict(Matrix<float> inputs, bool prepared)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var Y = new Matrix<float>(inputs.Rows, OutputSize);
        Feed(inputs, prepared, Y);
        return Y;
    }

    /// <summary>A row of outputs made class probabilities, in place (see <see cref="PredictProbabilities(ReadOnlySpan{float})"/>).</summary>
    internal void ToProbabilities(Span<float> y)
    {
        switch (Network.Layers[^1])
        {
            case SoftmaxLayer<float>:
                return;
            case LogSoftmaxLayer<float>:
                for (int j = 0; j < y.Length; j++) y[j] = MathF.Exp(y[j]);
                return;
            case LinearLayer<float> last when last.LayerSpec == "Sigmoid" || y.Length == 1:
                return;
        }
        // softmax(y) = exp(y − max y) / Σ exp(y − max y)
        float max = float.NegativeInfinity;
        foreach (float v in y) max = MathF.Max(max, v);
        float sum = 0;
        for (int j = 0; j < y.Length; j++) sum += y[j] = MathF.Exp(y[j] - max);
        for (int j = 0; j < y.Length; j++) y[j] /= sum;
    }
}
