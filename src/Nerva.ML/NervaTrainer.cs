using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Nerva.Data;
using Nerva.Kernels;
using Nerva.Schedulers;
using Nerva.Specs;
using Nerva.Training;

namespace Nerva.ML;

/// <summary>
/// An ML.NET trainer of a Nerva.NET multilayer perceptron (dense or truly sparse): reads the label and features columns,
/// trains with mini-batch SGD, and returns a chain of ML.NET's own transformers that ML.NET's model files save and load:
/// an <c>OnnxTransformer</c> that runs the fitted network (exported as ONNX, preprocessing included), then the mappings
/// that give the columns ML.NET's trainers give (Score, and PredictedLabel and Probability as the task has them).
/// </summary>
/// <remarks>
/// <para>
/// <b>Why a chain and not a transformer of ours:</b> ML.NET writes a transformer into its model file only through
/// <c>ModelSaveContext</c>, whose writing members are internal to ML.NET's own assemblies (dotnet/machinelearning
/// issues 4911 and 6839); an outside <c>ITransformer</c> cannot be saved. The fitted network therefore travels as an
/// ONNX graph inside ML.NET's <c>OnnxTransformer</c>, which ML.NET saves and loads natively, and the few stateless steps
/// after it are <c>CustomMapping</c>s with contract names (<see cref="NervaMappings"/>), which ML.NET finds again in this
/// assembly when it loads the file.
/// </para>
/// <para>
/// Training progress (one line per epoch) goes to ML.NET's log (<c>mlContext.Log</c>, channel "Nerva").
/// </para>
/// </remarks>
public abstract class NervaTrainer : IEstimator<TransformerChain<ITransformer>>
{
    private protected NervaTrainer(IHostEnvironment environment, NervaTrainerOptions options)
    {
        Environment = environment ?? throw new ArgumentNullException(nameof(environment));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        if (Options.HiddenLayers is null || Options.HiddenLayers.Any(size => size < 1)) throw new ArgumentException("the hidden layers' sizes must be at least 1", nameof(options));
    }

    /// <summary>The settings.</summary>
    public NervaTrainerOptions Options { get; }

    /// <summary>The model of the last <see cref="Fit(IDataView)"/>: its network, preprocessing and names (to save as a Nerva model file, or export).</summary>
    public Model? TrainedModel { get; private set; }

    private protected IHostEnvironment Environment { get; }

    private protected MLContext Context => Environment as MLContext ?? new MLContext((int)Options.Seed);

    /// <summary>The loss trained with: softmax cross-entropy for the classifiers.</summary>
    private protected virtual string Loss => "SoftmaxCrossEntropy";

    /// <summary>The network's outputs for this label column (classes, 2, 1); refuses a column of the wrong type.</summary>
    private protected abstract int Outputs(DataViewSchema.Column label);

    /// <summary>A getter of the label of the cursor's row as a float: the class index, 0/1, or the value (NaN: missing).</summary>
    private protected abstract Func<float> LabelGetter(DataViewRowCursor cursor, DataViewSchema.Column label);

    /// <summary>The label of type <typeparamref name="T"/> of the cursor's row, converted by <paramref name="convert"/>.</summary>
    private protected static Func<float> Getter<T>(DataViewRowCursor cursor, DataViewSchema.Column label, Func<T, float> convert)
    {
        var get = cursor.GetGetter<T>(label);
        T value = default!;
        return () =>
        {
            get(ref value);
            return convert(value);
        };
    }

    /// <summary>The target rows for these labels: one-hot rows of the classes (the regression trainer standardises its values, and keeps how for <see cref="AddOutputs"/>).</summary>
    private protected virtual Matrix<float> Targets(float[] labels, int outputs) => Dataset.OneHot([.. labels.Select(c => (long)c)], outputs, "the");

    /// <summary>The ONNX outputs after the network's (the names ML.NET's columns get).</summary>
    private protected abstract string[] AddOutputs(OnnxScoring graph, DataViewSchema.Column label);

    /// <summary>The ML.NET steps after the ONNX graph that give the task's columns.</summary>
    private protected abstract IEstimator<ITransformer> Mappings(MLContext ml, DataViewSchema.Column label);

    /// <summary>The ML.NET trainer of the same task, whose output schema is ours (Score, PredictedLabel, Probability).</summary>
    private protected abstract IEstimator<ITransformer> Equivalent(MLContext ml);

    /// <inheritdoc/>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) => Equivalent(Context).GetOutputSchema(inputSchema);

    /// <summary>Trains on <paramref name="input"/> and returns the transformer that scores rows.</summary>
    public TransformerChain<ITransformer> Fit(IDataView input) => Fit(input, null);

    /// <summary>
    /// Trains on <paramref name="trainData"/>; with <paramref name="validationData"/>, its loss is computed after every
    /// epoch and, with <see cref="NervaTrainerOptions.EarlyStoppingPatience"/>, stops training and keeps the best epoch's weights.
    /// </summary>
    public TransformerChain<ITransformer> Fit(IDataView trainData, IDataView? validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        var features = Column(trainData.Schema, Options.FeatureColumnName, "features");
        var label = Column(trainData.Schema, Options.LabelColumnName, "label");
        if (features.Type is not VectorDataViewType { IsKnownSize: true, ItemType: NumberDataViewType number } || number != NumberDataViewType.Single)
            throw new ArgumentException($"the features column '{features.Name}' is {features.Type}: it must be a vector of Single of known size (Concatenate the feature columns)");
        int D = ((VectorDataViewType)features.Type).Size, K = Outputs(label);

        var (X, labels) = Read(trainData, D, "training");
        int training = X.Rows;
        if (validationData is not null)
        {
            // the validation rows after the training rows: the trainer holds out a dataset's last rows
            var (V, validationLabels) = Read(validationData, D, "validation");
            var all = new Matrix<float>(X.Rows + V.Rows, D);
            X.AsSpan().CopyTo(all.AsSpan());
            V.AsSpan().CopyTo(all.AsSpan()[X.AsSpan().Length..]);
            (X, labels) = (all, [.. labels, .. validationLabels]);
        }
        var data = new Dataset(X, Targets(labels, K));
        if (Options.StandardizeFeatures) data.Normalize();   // the statistics include the validation rows' (as a held-out split's)

        using var channel = Environment.Start("Nerva");
        string[] hidden = [.. Options.HiddenLayers.Select(size => size.ToString(CultureInfo.InvariantCulture))];
        // one generator for the weights and then the shuffles and masks, as the mlp tool draws them: the same settings give the same model
        var rng = new Rng(Options.Seed);
        var model = Model.CreateDrawing(string.Join('-', [D.ToString(CultureInfo.InvariantCulture), .. hidden, K.ToString(CultureInfo.InvariantCulture)]),
            Options.Activation, "Linear", Options.Weights, Options.Optimizer, Options.Density, Options.Dropout, rng, Options.Layers, null);
        var options = new TrainingOptions
        {
            Epochs = Options.Epochs,
            BatchSize = Options.BatchSize,
            Statistics = Options.LogStatistics,
            // ⌊split·N⌋ = the validation rows exactly
            ValidationSplit = validationData is null ? 0 : (X.Rows - training + 0.5) / X.Rows,
            EarlyStoppingPatience = validationData is null ? 0 : Options.EarlyStoppingPatience,
        };
        ILearningRateScheduler scheduler = Options.LearningRateScheduler is null ? new ConstantScheduler(Options.LearningRate) : SpecParser.Scheduler(Options.LearningRateScheduler, Options.LearningRate);
        int threads = Parallelism.Threads;
        if (Options.Threads is int t) Parallelism.Threads = t;
        try
        {
            using var log = new ChannelWriter(channel);
            new StochasticGradientDescent(model.Network, SpecParser.Loss(Loss), scheduler, options, rng, log).Train(data);
        }
        finally
        {
            Parallelism.Threads = threads;
            model.Network.IsTraining = false;
        }
        TrainedModel = new Model(model.Network, data.Preprocessing, Loss);

        var graph = new OnnxScoring(TrainedModel, features.Name);
        string[] outputs = AddOutputs(graph, label);
        var ml = Context;
        using var onnx = graph.ToStream();
        var chain = ml.Transforms.ApplyOnnxModel(outputs, [features.Name], onnx).Append(Mappings(ml, label)).Fit(trainData);
        return new TransformerChain<ITransformer>([.. chain]);
    }

    /// <summary>Every row's features and label, refusing missing and non-finite values with the row's number.</summary>
    private (Matrix<float> X, float[] Labels) Read(IDataView data, int D, string what)
    {
        var features = Column(data.Schema, Options.FeatureColumnName, "features");
        var label = Column(data.Schema, Options.LabelColumnName, "label");
        if (features.Type is not VectorDataViewType { Size: var size } || size != D) throw new ArgumentException($"the {what} data's features column '{features.Name}' is {features.Type}, the training data's a vector of {D} Single");
        var values = new List<float>();
        var labels = new List<float>();
        using var cursor = data.GetRowCursor([features, label]);
        var getFeatures = cursor.GetGetter<VBuffer<float>>(features);
        var getLabel = LabelGetter(cursor, label);
        VBuffer<float> row = default;
        var dense = new float[D];
        while (cursor.MoveNext())
        {
            getFeatures(ref row);
            row.CopyTo(dense);
            int bad = Array.FindIndex(dense, v => !float.IsFinite(v));
            if (bad >= 0) throw new ArgumentException($"{what} row {labels.Count}: feature {bad} is {dense[bad]}; replace missing values first (e.g. ReplaceMissingValues)");
            float y = getLabel();
            if (!float.IsFinite(y)) throw new ArgumentException($"{what} row {labels.Count}: the label '{label.Name}' is missing or not finite");
            values.AddRange(dense);
            labels.Add(y);
        }
        if (labels.Count == 0) throw new ArgumentException($"the {what} data has no rows");
        return (new Matrix<float>(labels.Count, D, [.. values]), [.. labels]);
    }

    private static DataViewSchema.Column Column(DataViewSchema schema, string name, string what) =>
        schema.GetColumnOrNull(name) ?? throw new ArgumentException($"no {what} column '{name}': the columns are {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"'{c.Name}'"))}");

    /// <summary>Lines written by the trainer, as messages on ML.NET's channel.</summary>
    private sealed class ChannelWriter(IChannel channel) : TextWriter
    {
        private readonly System.Text.StringBuilder _line = new();

        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n')
            {
                channel.Info(MessageSensitivity.None, "{0}", _line.ToString().TrimEnd('\r'));
                _line.Clear();
            }
            else _line.Append(value);
        }
    }
}
