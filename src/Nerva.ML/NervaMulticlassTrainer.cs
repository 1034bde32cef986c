using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Nerva.Data;
using Nerva.Onnx.Protobuf;

namespace Nerva.ML;

/// <summary>
/// Multiclass classification: the label is a key (as <c>MapValueToKey</c> makes it) of K classes; the network has K
/// outputs, trained with softmax cross-entropy. Writes Score (the K class probabilities) and PredictedLabel (a key with
/// the label's key values, so that <c>MapKeyToValue</c> gives the class names), as ML.NET's multiclass trainers do.
/// </summary>
public sealed class NervaMulticlassTrainer : NervaTrainer
{
    internal NervaMulticlassTrainer(IHostEnvironment environment, NervaTrainerOptions options) : base(environment, options)
    {
    }

    private protected override int Outputs(DataViewSchema.Column label)
    {
        if (label.Type is not KeyDataViewType { Count: >= 2 and <= Dataset.MaxClasses } key)
            throw new ArgumentException($"the label column '{label.Name}' is {label.Type}: it must be a key of 2 to {Dataset.MaxClasses} classes (MapValueToKey)");
        return (int)key.Count;
    }

    private protected override Func<float> LabelGetter(DataViewRowCursor cursor, DataViewSchema.Column label) => Getter<uint>(cursor, label, key => key == 0 ? float.NaN : key - 1);   // key 0 is a missing value

    private protected override string[] AddOutputs(OnnxScoring graph, DataViewSchema.Column label)
    {
        string P = graph.Probabilities();
        int K = (int)((KeyDataViewType)label.Type).Count;
        graph.Output("Score", P, TensorProto.Types.DataType.Float, K);
        var values = KeyValues(label);
        graph.Output("Nerva.PredictedLabelValue", graph.Gather(values.Tensor, graph.ArgMax(P)), (TensorProto.Types.DataType)values.Tensor.DataType, 1);
        return ["Score", "Nerva.PredictedLabelValue"];
    }

    private protected override IEstimator<ITransformer> Mappings(MLContext ml, DataViewSchema.Column label) => KeyValues(label).Mappings(ml);

    private protected override IEstimator<ITransformer> Equivalent(MLContext ml) =>
        ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(Options.LabelColumnName, Options.FeatureColumnName);

    /// <summary>The label's key values (class k's value at k), as an ONNX tensor and as the steps that make the key PredictedLabel of the predicted value.</summary>
    private static (TensorProto Tensor, Func<MLContext, IEstimator<ITransformer>> Mappings) KeyValues(DataViewSchema.Column label)
    {
        int K = (int)((KeyDataViewType)label.Type).Count;
        var type = label.Annotations.Schema.GetColumnOrNull("KeyValues")?.Type is VectorDataViewType { Size: var size } values && size == K ? values.ItemType : null;
        return type switch
        {
            null => Steps(Enumerable.Range(0, K).Select(k => (uint)k).ToArray()),
            TextDataViewType => Steps(Values<ReadOnlyMemory<char>>(label).Select(v => v.ToString()).ToArray()),
            NumberDataViewType n when n == NumberDataViewType.Single => Steps(Values<float>(label)),
            NumberDataViewType n when n == NumberDataViewType.Double => Steps(Values<double>(label)),
            NumberDataViewType n when n == NumberDataViewType.Int32 => Steps(Values<int>(label)),
            NumberDataViewType n when n == NumberDataViewType.UInt32 => Steps(Values<uint>(label)),
            NumberDataViewType n when n == NumberDataViewType.Int64 => Steps(Values<long>(label)),
            _ => throw new NotSupportedException($"the label column '{label.Name}' has key values of type {type}; the Nerva trainer takes text, Single, Double, Int32, UInt32 or Int64 key values"),
        };
    }

    private static T[] Values<T>(DataViewSchema.Column label)
    {
        VBuffer<T> values = default;
        label.GetKeyValues(ref values);
        return values.DenseValues().ToArray();
    }

    /// <summary>The value (one element) as a scalar, then the key of that value among <paramref name="values"/> (in class order), with them as its key values.</summary>
    private static (TensorProto, Func<MLContext, IEstimator<ITransformer>>) Steps<T>(T[] values) => (OnnxScoring.Tensor(values), ml =>
        ml.Transforms.CustomMapping<PredictedValueVector<T>, PredictedValue<T>>(FirstMapping<T>.Map, NervaMappings.First<T>())
            .Append(ml.Transforms.Conversion.MapValueToKey("PredictedLabel", "Nerva.PredictedLabelScalar",
                keyData: ml.Data.LoadFromEnumerable(values.Select(v => new PredictedValue<T> { Value = v }))))
            .Append(ml.Transforms.DropColumns("Nerva.PredictedLabelValue", "Nerva.PredictedLabelScalar")));
}
