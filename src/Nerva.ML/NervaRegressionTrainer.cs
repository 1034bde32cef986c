using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Nerva.Onnx.Protobuf;

namespace Nerva.ML;

/// <summary>
/// Regression: the label is a Single; the network has one output, trained with the squared error on the label
/// standardised with the training set's mean and deviation, and scaled back in the graph. Writes Score, as ML.NET's
/// regression trainers do.
/// </summary>
public sealed class NervaRegressionTrainer : NervaTrainer
{
    private (double Mean, double Deviation) _scaling = (0, 1);

    internal NervaRegressionTrainer(IHostEnvironment environment, NervaTrainerOptions options) : base(environment, options)
    {
    }

    private protected override string Loss => "SquaredError";

    private protected override int Outputs(DataViewSchema.Column label) => label.Type == NumberDataViewType.Single ? 1
        : throw new ArgumentException($"the label column '{label.Name}' is {label.Type}: it must be Single");

    private protected override Func<float> LabelGetter(DataViewRowCursor cursor, DataViewSchema.Column label) => Getter<float>(cursor, label, value => value);

    /// <summary>(y − mean)/σ, in double (σ = 1 for a constant label).</summary>
    private protected override Matrix<float> Targets(float[] labels, int outputs)
    {
        double mean = labels.Average(y => (double)y);
        double deviation = Math.Sqrt(labels.Average(y => (y - mean) * (y - mean)));
        _scaling = (mean, deviation > 0 ? deviation : 1);
        return new Matrix<float>(labels.Length, 1, [.. labels.Select(y => (float)((y - mean) / _scaling.Deviation))]);
    }

    private protected override string[] AddOutputs(OnnxScoring graph, DataViewSchema.Column label)
    {
        graph.Output("Nerva.Score", graph.Value((float)_scaling.Deviation, (float)_scaling.Mean), TensorProto.Types.DataType.Float, 1);
        return ["Nerva.Score"];
    }

    private protected override IEstimator<ITransformer> Mappings(MLContext ml, DataViewSchema.Column label) =>
        ml.Transforms.CustomMapping<OnnxScore, RegressionPrediction>(RegressionMapping.Map, NervaMappings.Regression).Append(ml.Transforms.DropColumns("Nerva.Score"));

    private protected override IEstimator<ITransformer> Equivalent(MLContext ml) =>
        ml.Regression.Trainers.Sdca(Options.LabelColumnName, Options.FeatureColumnName);
}
