using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Nerva.ML;

/// <summary>
/// The stateless steps after a fitted trainer's ONNX graph, as ML.NET <c>CustomMapping</c>s with contract names, so that
/// ML.NET's model files save them and load them again: the file names this assembly (Nerva.ML), which ML.NET loads and
/// searches for the contract names; a program that loads a saved model needs only to reference the package.
/// </summary>
public static class NervaMappings
{
    /// <summary>The contract name of the mapping of a binary classifier's logit to Score, Probability and PredictedLabel.</summary>
    public const string Binary = "Nerva.Binary";

    /// <summary>The contract name of the mapping of a regression's output to Score.</summary>
    public const string Regression = "Nerva.Regression";

    /// <summary>The contract names of the mapping of the predicted class's label value (one element) to a scalar, per type of the label's key values.</summary>
    public static string First<T>() => $"Nerva.First.{typeof(T).Name}";
}

/// <summary>The ONNX graph's predicted label value, a vector of one element.</summary>
/// <typeparam name="T">The type of the label's key values.</typeparam>
public sealed class PredictedValueVector<T>
{
    /// <summary>The one element.</summary>
    [ColumnName("Nerva.PredictedLabelValue")]
    public T[] Value { get; set; } = [];
}

/// <summary>The predicted label value as a scalar, which MapValueToKey turns into the key PredictedLabel.</summary>
/// <typeparam name="T">The type of the label's key values.</typeparam>
public sealed class PredictedValue<T>
{
    /// <summary>The label value.</summary>
    [ColumnName("Nerva.PredictedLabelScalar")]
    public T Value { get; set; } = default!;
}

/// <summary>A one-element vector of the ONNX graph (a binary classifier's logit, a regression's value).</summary>
public sealed class OnnxScore
{
    /// <summary>The one element.</summary>
    [ColumnName("Nerva.Score")]
    public float[] Value { get; set; } = [];
}

/// <summary>A binary classifier's columns, as ML.NET's binary trainers write them.</summary>
public sealed class BinaryPrediction
{
    /// <summary>The logit log(p₁/p₀).</summary>
    public float Score { get; set; }

    /// <summary>The probability of true: 1/(1 + e^−Score).</summary>
    public float Probability { get; set; }

    /// <summary>Whether Score &gt; 0 (Probability &gt; 0.5).</summary>
    public bool PredictedLabel { get; set; }
}

/// <summary>A regression's column.</summary>
public sealed class RegressionPrediction
{
    /// <summary>The predicted value.</summary>
    public float Score { get; set; }
}

/// <summary>The predicted label value's first (only) element.</summary>
/// <typeparam name="T">The type of the label's key values.</typeparam>
public abstract class FirstMapping<T> : CustomMappingFactory<PredictedValueVector<T>, PredictedValue<T>>
{
    /// <summary>dst = src[0].</summary>
    public static void Map(PredictedValueVector<T> source, PredictedValue<T> destination) => destination.Value = source.Value[0];

    /// <inheritdoc/>
    public override Action<PredictedValueVector<T>, PredictedValue<T>> GetMapping() => Map;
}

/// <summary>Text label values.</summary>
[CustomMappingFactoryAttribute("Nerva.First.String")]
public sealed class FirstString : FirstMapping<string>;

/// <summary>Single label values.</summary>
[CustomMappingFactoryAttribute("Nerva.First.Single")]
public sealed class FirstSingle : FirstMapping<float>;

/// <summary>Double label values.</summary>
[CustomMappingFactoryAttribute("Nerva.First.Double")]
public sealed class FirstDouble : FirstMapping<double>;

/// <summary>Int32 label values.</summary>
[CustomMappingFactoryAttribute("Nerva.First.Int32")]
public sealed class FirstInt32 : FirstMapping<int>;

/// <summary>UInt32 label values (also a key without values: the class numbers).</summary>
[CustomMappingFactoryAttribute("Nerva.First.UInt32")]
public sealed class FirstUInt32 : FirstMapping<uint>;

/// <summary>Int64 label values.</summary>
[CustomMappingFactoryAttribute("Nerva.First.Int64")]
public sealed class FirstInt64 : FirstMapping<long>;

/// <summary>A binary classifier's logit to Score, Probability and PredictedLabel.</summary>
[CustomMappingFactoryAttribute(NervaMappings.Binary)]
public sealed class BinaryMapping : CustomMappingFactory<OnnxScore, BinaryPrediction>
{
    /// <summary>Score = logit, Probability = σ(logit), PredictedLabel = logit &gt; 0.</summary>
    public static void Map(OnnxScore source, BinaryPrediction destination)
    {
        float logit = source.Value[0];
        destination.Score = logit;
        destination.Probability = 1 / (1 + MathF.Exp(-logit));
        destination.PredictedLabel = logit > 0;
    }

    /// <inheritdoc/>
    public override Action<OnnxScore, BinaryPrediction> GetMapping() => Map;
}

/// <summary>A regression's value to Score.</summary>
[CustomMappingFactoryAttribute(NervaMappings.Regression)]
public sealed class RegressionMapping : CustomMappingFactory<OnnxScore, RegressionPrediction>
{
    /// <summary>Score = the value.</summary>
    public static void Map(OnnxScore source, RegressionPrediction destination) => destination.Score = source.Value[0];

    /// <inheritdoc/>
    public override Action<OnnxScore, RegressionPrediction> GetMapping() => Map;
}
