using Nerva.Kernels;
using Nerva.Layers;
using Nerva.Sparse;

namespace Nerva;

/// <summary>
/// A model prepared for serving (<see cref="Model.CreatePredictor"/>): a copy of the model's weights taken when it is made,
/// with every dense layer's W packed once in the panels the products read, so that a product packs only the batch, as ONNX
/// Runtime packs constant weights when it loads a model, and in eights of rows that a single row reads as one stream, and
/// every sparse layer's W laid out once for the products of a few rows on AVX-512 (<see cref="PreparedSparseRows"/>:
/// batch-1 latency). It holds the dense weights three times (its copy, the panels, the eights). Its predictions are the
/// same bits as the model's <see cref="Model.Predict(Matrix{float})"/> on those weights, for every batch and thread count.
/// </summary>
/// <remarks>
/// A predictor is a snapshot: training the model or writing its weights afterwards changes nothing here (make a new
/// predictor then), so a server can go on answering from one predictor while a new one is made. Its methods may be called
/// from several threads at once: each call runs on its own replica of the network, as <see cref="Model"/>'s do.
/// </remarks>
public sealed class Predictor
{
    private readonly Model _model;

    /// <summary>A predictor of <paramref name="copy"/>, a model of its own (<see cref="Nerva.Data.ModelFile.Copy"/>): nothing outside ever writes its weights, so what is prepared here never goes stale.</summary>
    internal Predictor(Model copy)
    {
        _model = copy;
        foreach (var layer in _model.Network.Layers.OfType<LinearLayer<float>>())
        {
            if (layer.SparseW is null) layer.Prepared = new PreparedWeights(layer.W);
            else layer.PreparedRows = PreparedSparseRows.TryCreate(layer.SparseW, layer.SparseW.Values);
        }
    }

    /// <summary>The features of an input row.</summary>
    public int InputSize => _model.InputSize;

    /// <summary>The outputs of a row.</summary>
    public int OutputSize => _model.OutputSize;

    /// <summary>The names of the classes (outputs), when the model knows them.</summary>
    public IReadOnlyList<string>? ClassNames => _model.ClassNames;

    /// <summary>The network's outputs for one raw input row (see <see cref="Model.Predict(ReadOnlySpan{float})"/>).</summary>
    public float[] Predict(ReadOnlySpan<float> input) => _model.Predict(input);

    /// <summary>The network's outputs for every raw input row (N×K).</summary>
    public Matrix<float> Predict(Matrix<float> inputs) => _model.Predict(inputs);

    /// <summary>Class probabilities for one raw input row (see <see cref="Model.PredictProbabilities(ReadOnlySpan{float})"/>).</summary>
    public float[] PredictProbabilities(ReadOnlySpan<float> input) => _model.PredictProbabilities(input);

    /// <summary>Class probabilities for every raw input row.</summary>
    public Matrix<float> PredictProbabilities(Matrix<float> inputs) => _model.PredictProbabilities(inputs);

    /// <summary>The predicted class of one raw input row (see <see cref="Model.PredictLabel"/>).</summary>
    public int PredictLabel(ReadOnlySpan<float> input) => _model.PredictLabel(input);

    /// <summary>The predicted class of every raw input row.</summary>
    public int[] PredictLabels(Matrix<float> inputs) => _model.PredictLabels(inputs);
}
