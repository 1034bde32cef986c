using System.Diagnostics;
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Nerva.Data;
using Nerva.ML;

namespace Nerva.Bench;

/// <summary>
/// scikit-learn's digits (1 797 × 64, Debian's python3-sklearn) in 5-fold cross-validation, the same folds for every
/// trainer: the Nerva trainer (ML.NET, defaults), ML.NET's SdcaMaximumEntropy, LbfgsMaximumEntropy and LightGbm (their
/// defaults, features standardised as their samples do) and scikit-learn's MLPClassifier with its defaults
/// (bench/sklearn_digits.py, run here with the folds written to a file). Prints each trainer's macro accuracy per fold
/// and on average, and its training seconds summed over the folds.
/// </summary>
internal static class TabularBenchmark
{
    private const string Digits = "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";

    public sealed class Row
    {
        [VectorType(64)]
        public float[] Features { get; set; } = [];

        public float Digit { get; set; }
    }

    public static void Run(TextWriter output, int folds)
    {
        var table = CsvTable.Read(Digits, new CsvOptions { HasHeader = false, LabelColumn = "64" });
        var rows = Enumerable.Range(0, table.Rows).Select(i => new Row { Features = table.X.Row(i).ToArray(), Digit = table.Classes![i] }).ToArray();
        // fold of every row: a seeded permutation dealt round-robin
        var order = Enumerable.Range(0, rows.Length).ToArray();
        new Rng(7).Shuffle(order.AsSpan());
        var fold = new int[rows.Length];
        for (int k = 0; k < order.Length; k++) fold[order[k]] = k % folds;
        string foldsPath = Path.Combine(Path.GetTempPath(), "nerva-digits-folds.txt");
        File.WriteAllLines(foldsPath, fold.Select(f => f.ToString(CultureInfo.InvariantCulture)));

        var trainers = new (string Name, Func<MLContext, IEstimator<ITransformer>> Create)[]
        {
            ("Nerva (ML.NET trainer, defaults)", ml => ml.MulticlassClassification.Trainers.Nerva()),
            ("ML.NET SdcaMaximumEntropy", ml => ml.Transforms.NormalizeMeanVariance("Features").Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())),
            ("ML.NET LbfgsMaximumEntropy", ml => ml.Transforms.NormalizeMeanVariance("Features").Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy())),
            ("ML.NET LightGbm", ml => ml.MulticlassClassification.Trainers.LightGbm()),
        };
        output.WriteLine($"| trainer | {string.Join(" | ", Enumerable.Range(1, folds).Select(f => $"fold {f}"))} | macro accuracy (mean) | training s (all folds) |");
        output.WriteLine($"|---|{string.Concat(Enumerable.Repeat("---|", folds))}---|---|");
        foreach (var (name, create) in trainers)
        {
            var accuracies = new double[folds];
            double seconds = 0;
            for (int f = 0; f < folds; f++)
            {
                var ml = new MLContext(seed: 1);
                var train = ml.Data.LoadFromEnumerable(rows.Where((_, i) => fold[i] != f));
                var test = ml.Data.LoadFromEnumerable(rows.Where((_, i) => fold[i] == f));
                var pipeline = ml.Transforms.Conversion.MapValueToKey("Label", "Digit").Append(create(ml));
                long start = Stopwatch.GetTimestamp();
                var model = pipeline.Fit(train);
                seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
                accuracies[f] = ml.MulticlassClassification.Evaluate(model.Transform(test)).MacroAccuracy;
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {string.Join(" | ", accuracies.Select(a => a.ToString("F4", CultureInfo.InvariantCulture)))} | {accuracies.Average():F4} | {seconds:F2} |"));
        }
        var python = Process.Start(new ProcessStartInfo("/usr/bin/python3", [Path.Combine(AppContext.BaseDirectory, "sklearn_digits.py"), Digits, foldsPath]) { RedirectStandardOutput = true })!;
        output.Write(python.StandardOutput.ReadToEnd());
        python.WaitForExit();
    }
}
