using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Nerva.ML;

namespace Nerva.Tests;

/// <summary>
/// The ML.NET trainers (Nerva.ML) in the pipelines ML.NET users write, on scikit-learn's real tables: fit, Evaluate,
/// CrossValidate, PredictionEngine, and a model saved by ML.NET and loaded in a fresh context predicting the same bits.
/// </summary>
public sealed class MlNetTests : ToolTest
{
    private static string Table(string name) => Path.Combine(CsvTests.Sklearn, name);

    public sealed class IrisRow
    {
        [LoadColumn(0, 3), VectorType(4)]
        public float[] Measurements { get; set; } = [];

        [LoadColumn(4)]
        public string Species { get; set; } = "";
    }

    public sealed class IrisPrediction
    {
        public string PredictedLabel { get; set; } = "";

        public float[] Score { get; set; } = [];
    }

    private static IEstimator<ITransformer> IrisPipeline(MLContext ml, NervaTrainerOptions options) =>
        ml.Transforms.Concatenate("Features", "Measurements")
            .Append(ml.Transforms.NormalizeMeanVariance("Features"))
            .Append(ml.Transforms.Conversion.MapValueToKey("Label", "Species"))
            .Append(ml.MulticlassClassification.Trainers.Nerva(options))
            .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

    [Fact]
    public void Iris_fits_evaluates_cross_validates_and_survives_save_and_load()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromTextFile<IrisRow>(CsvTests.Iris(Folder), separatorChar: ',', hasHeader: true);
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
        var pipeline = IrisPipeline(ml, new NervaTrainerOptions { Epochs = 50, LearningRate = 0.01, HiddenLayers = [16] });
        var model = pipeline.Fit(split.TrainSet);
        var scored = model.Transform(split.TestSet);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.InRange(metrics.MacroAccuracy, 0.9, 1);
        string[] predicted = [.. scored.GetColumn<string>("PredictedLabel")];
        Assert.All(predicted, name => Assert.Contains(name, new[] { "setosa", "versicolor", "virginica" }));
        // the probabilities of every row sum to 1, and the predicted label is the class of the first largest
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        VBuffer<ReadOnlyMemory<char>> classes = default;
        scored.Schema["Label"].GetKeyValues(ref classes);
        var names = classes.DenseValues().Select(name => name.ToString()).ToArray();
        for (int i = 0; i < scores.Length; i++)
        {
            Assert.Equal(1, scores[i].Sum(), 1e-5);
            Assert.Equal(names[Array.IndexOf(scores[i], scores[i].Max())], predicted[i]);
        }

        // saved by ML.NET, loaded in a fresh context (which finds the mappings in the assembly the file names): the same bits
        string path = Path.Combine(Folder, "iris.zip");
        ml.Model.Save(model, data.Schema, path);
        var fresh = new MLContext();
        var loaded = fresh.Model.Load(path, out _);
        var again = loaded.Transform(split.TestSet);
        Assert.Equal(scores.SelectMany(s => s), again.GetColumn<float[]>("Score").SelectMany(s => s));
        Assert.Equal(predicted, again.GetColumn<string>("PredictedLabel"));
        var engine = fresh.Model.CreatePredictionEngine<IrisRow, IrisPrediction>(loaded);
        var first = ml.Data.CreateEnumerable<IrisRow>(split.TestSet, reuseRowObject: false).First();
        var prediction = engine.Predict(first);
        Assert.Equal(predicted[0], prediction.PredictedLabel);
        Assert.Equal(scores[0], prediction.Score);

        // five folds, each fitted and evaluated
        var folds = ml.MulticlassClassification.CrossValidate(data, IrisPipeline(ml, new NervaTrainerOptions { Epochs = 50, LearningRate = 0.01, HiddenLayers = [16] }), numberOfFolds: 5);
        Assert.Equal(5, folds.Count);
        Assert.All(folds, fold => Assert.InRange(fold.Metrics.MacroAccuracy, 0.8, 1));
    }

    /// <summary>ML.NET's text loader reads no .gz: the digits, decompressed once into the temporary folder.</summary>
    private static string Unzipped(string gz)
    {
        string path = Path.Combine(Path.GetTempPath(), "nerva-sklearn-digits.csv");
        if (!File.Exists(path))
        {
            using var input = new System.IO.Compression.GZipStream(File.OpenRead(gz), System.IO.Compression.CompressionMode.Decompress);
            string temporary = path + $".{Environment.ProcessId}";
            using (var output = File.Create(temporary)) input.CopyTo(output);
            File.Move(temporary, path, overwrite: true);
        }
        return path;
    }

    [Fact]
    public void Digits_through_mlnet_score_as_through_the_tool()
    {
        // the same rows, split once, for both
        var ml = new MLContext(seed: 1);
        var lines = File.ReadAllLines(Unzipped(Table("digits.csv.gz")));
        string train = Path.Combine(Folder, "train.csv"), test = Path.Combine(Folder, "test.csv");
        File.WriteAllLines(train, lines.Where((_, i) => i % 5 != 0));
        File.WriteAllLines(test, lines.Where((_, i) => i % 5 == 0));
        var columns = new[] { new TextLoader.Column("Features", DataKind.Single, 0, 63), new TextLoader.Column("Digit", DataKind.Single, 64) };
        var options = new NervaTrainerOptions { Epochs = 10, LearningRate = 0.001, HiddenLayers = [100], Weights = "He", Optimizer = "Adam", BatchSize = 32, Seed = 3 };
        // classes in the order of their values, as the tool orders numbers
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", "Digit", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(ml.MulticlassClassification.Trainers.Nerva(options));
        var model = pipeline.Fit(ml.Data.LoadFromTextFile(train, columns, separatorChar: ','));
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(ml.Data.LoadFromTextFile(test, columns, separatorChar: ',')));

        var (code, output, error) = Run("--csv", train, "--test-csv", test, "--no-header", "--label-column", "64", "--normalize", "--layers", "ReLU;Linear",
            "--layer-sizes", "64;100;10", "--layer-weights", "He", "--optimizers", "Adam", "--learning-rate", "0.001", "--loss", "SoftmaxCrossEntropy",
            "--epochs", "10", "--batch-size", "32", "--seed", "3");
        Assert.True(code == 0, error);
        double tool = double.Parse(output.Split('\n').Last(line => line.StartsWith("epoch  10", StringComparison.Ordinal)).Split("test accuracy: ")[1][..10], CultureInfo.InvariantCulture);
        Assert.InRange(tool, 0.95, 1);
        // the same network, trained alike; scored by ONNX Runtime, whose sums may differ in the last bits from ours: a near
        // tie may fall the other way in at most one of the 360 rows
        Assert.Equal(tool, metrics.MicroAccuracy, 1.0 / 360 + 1e-8);
    }

    public sealed class CancerRow
    {
        [LoadColumn(0, 29), VectorType(30)]
        public float[] Features { get; set; } = [];

        [LoadColumn(30)]
        public bool Label { get; set; }
    }

    [Fact]
    public void Breast_cancer_is_binary()
    {
        var ml = new MLContext(seed: 1);
        // the first line of scikit-learn's file is a count line, which hasHeader skips
        var data = ml.Data.LoadFromTextFile<CancerRow>(Table("breast_cancer.csv"), separatorChar: ',', hasHeader: true);
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.25, seed: 2);
        var model = ml.BinaryClassification.Trainers.Nerva(new NervaTrainerOptions { Epochs = 30, HiddenLayers = [32] }).Fit(split.TrainSet);
        var scored = model.Transform(split.TestSet);
        var metrics = ml.BinaryClassification.Evaluate(scored);
        Assert.InRange(metrics.AreaUnderRocCurve, 0.97, 1);
        Assert.InRange(metrics.Accuracy, 0.93, 1);
        var score = scored.GetColumn<float>("Score").ToArray();
        var probability = scored.GetColumn<float>("Probability").ToArray();
        var label = scored.GetColumn<bool>("PredictedLabel").ToArray();
        for (int i = 0; i < score.Length; i++)
        {
            Assert.Equal(1 / (1 + Math.Exp(-score[i])), probability[i], 1e-6);
            Assert.Equal(score[i] > 0, label[i]);
        }
        string path = Path.Combine(Folder, "cancer.zip");
        ml.Model.Save(model, data.Schema, path);
        Assert.Equal(probability, ml.Model.Load(path, out _).Transform(split.TestSet).GetColumn<float>("Probability"));
    }

    [Fact]
    public void Boston_is_regression_with_validation_and_early_stopping()
    {
        var ml = new MLContext(seed: 1);
        // the file's first line counts its rows and the second names its columns: the names are the header
        string path = Path.Combine(Folder, "boston.csv");
        File.WriteAllLines(path, File.ReadAllLines(Table("boston_house_prices.csv")).Skip(1));
        var data = ml.Data.LoadFromTextFile(path, [new TextLoader.Column("Features", DataKind.Single, 0, 12), new TextLoader.Column("Label", DataKind.Single, 13)], separatorChar: ',', hasHeader: true);
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 3);
        var validation = ml.Data.TrainTestSplit(split.TrainSet, testFraction: 0.2, seed: 4);
        var log = new List<string>();
        ml.Log += (_, e) =>
        {
            lock (log) log.Add($"{e.Source}|{e.Kind}|{e.Message}");
        };
        var trainer = ml.Regression.Trainers.Nerva(new NervaTrainerOptions { Epochs = 300, HiddenLayers = [64], LearningRate = 0.003, EarlyStoppingPatience = 15 });
        var model = trainer.Fit(validation.TrainSet, validation.TestSet);
        var metrics = ml.Regression.Evaluate(model.Transform(split.TestSet));
        Assert.InRange(metrics.RSquared, 0.75, 1);
        // the scores are in the label's units (the standardised targets scaled back)
        var scores = model.Transform(split.TestSet).GetColumn<float>("Score").ToArray();
        Assert.InRange(scores.Average(), 15, 30);
        var nerva = log.Where(line => line.StartsWith("Nerva", StringComparison.Ordinal)).ToList();
        Assert.True(nerva.Any(line => line.Contains("early stopping after epoch", StringComparison.Ordinal)), string.Join('\n', nerva.Take(5)));
        Assert.Contains(nerva, line => line.Contains("|Info|", StringComparison.Ordinal) && line.Contains("epoch   1 validation loss", StringComparison.Ordinal));
        Assert.NotNull(trainer.TrainedModel);
    }

    [Fact]
    public void A_sparse_network_trains_in_mlnet()
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromTextFile(Unzipped(Table("digits.csv.gz")), [new TextLoader.Column("Features", DataKind.Single, 0, 63), new TextLoader.Column("Digit", DataKind.Single, 64)], separatorChar: ',');
        var split = ml.Data.TrainTestSplit(data, testFraction: 0.2, seed: 1);
        var trainer = ml.MulticlassClassification.Trainers.Nerva(new NervaTrainerOptions { Epochs = 20, HiddenLayers = [256], Density = 0.2 });
        var model = ml.Transforms.Conversion.MapValueToKey("Label", "Digit").Append(trainer).Fit(split.TrainSet);
        Assert.InRange(ml.MulticlassClassification.Evaluate(model.Transform(split.TestSet)).MacroAccuracy, 0.93, 1);
        Assert.True(trainer.TrainedModel!.Network.Layers.OfType<Layers.LinearLayer<float>>().All(layer => layer.IsSparse));
    }

    [Theory]
    [InlineData("Features", "Species", "the label column 'Species' is String: it must be a key")]
    [InlineData("Measurements", "Label", "the features column 'Measurements' is Vector<Single, 4>")]
    [InlineData("Features", "Nope", "no label column 'Nope'")]
    public void Wrong_columns_are_named(string features, string label, string expected)
    {
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromTextFile<IrisRow>(CsvTests.Iris(Folder), separatorChar: ',', hasHeader: true);
        var prepared = ml.Transforms.Concatenate("Features", "Measurements").Append(ml.Transforms.Conversion.MapValueToKey("Label", "Species")).Fit(data).Transform(data);
        if (features == "Measurements") prepared = ml.Transforms.Conversion.ConvertType("Measurements", "Measurements", DataKind.Double).Fit(prepared).Transform(prepared);
        var e = Assert.Throws<ArgumentException>(() => ml.MulticlassClassification.Trainers.Nerva(new NervaTrainerOptions { FeatureColumnName = features, LabelColumnName = label, Epochs = 1 }).Fit(prepared));
        Assert.Contains(expected.Replace("Vector<Single, 4>", "Vector<Double, 4>", StringComparison.Ordinal), e.Message);
    }
}
