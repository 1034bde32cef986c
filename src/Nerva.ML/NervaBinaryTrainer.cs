using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Nerva.Onnx.Protobuf;

namespace Nerva.ML;

/// <summary>
/// Binary classification: the label is a Boolean; the network has two outputs, trained with softmax cross-entropy.
/// Writes Score (the logit log(p₁/p₀)), Probability (p₁ = σ(Score)) and PredictedLabel (Score &gt; 0), as ML.NET's
/// binary trainers do.
/// </summary>
public sealed class NervaBinaryTrainer : NervaTrainer
{
    internal NervaBinaryTrainer(IHostEnvironment environment, NervaTrainerOptions options) : base(environment, options)
    {
    }

    private protected override int Outputs(DataViewSchema.Column label) => label.Type == BooleanDataViewType.Instance ? 2
        : throw new ArgumentException($"the label column '{label.Name}' is {label.Type}: it must be Boolean");

    private protected override Func<float> LabelGetter(DataViewRowCursor cursor, DataViewSchema.Column label) => Getter<bool>(cursor, label, value => value ? 1 : 0);

    private protected override string[] AddOutputs(OnnxScoring graph, DataViewSchema.Column label)
    {
        graph.Output("Nerva.Score", graph.Logit(), TensorProto.Types.DataType.Float, 1);
        return ["Nerva.Score"];
    }

    private protected override IEstimator<ITransformer> Mappings(MLContext ml, DataViewSchema.Column label) =>
        ml.Transforms.CustomMapping<OnnxScore, BinaryPrediction>(BinaryMapping.Map, NervaMappings.Binary).Append(ml.Transforms.DropColumns("Nerva.Score"));

    private protected override IEstimator<ITransformer> Equivalent(MLContext ml) =>
        ml.BinaryClassification.Trainers.LbfgsLogisticRegression(Options.LabelColumnName, Options.FeatureColumnName);
}
