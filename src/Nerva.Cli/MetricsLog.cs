using System.Globalization;
using System.Text;
using Nerva.Data;
using Nerva.Training;

namespace Nerva.Cli;

/// <summary>
/// <c>--log</c>: one row per epoch, as CSV (<c>epoch,lr,loss,train_accuracy,test_accuracy,seconds,densities,validation_loss,validation_accuracy</c>, the
/// densities ';'-separated) or JSON lines, rewritten whole and atomically after every epoch, so that a killed run leaves
/// the rows of its finished epochs. Numbers are the epoch line's, with every digit (round-trip format); NaN where the
/// run has no statistics.
/// </summary>
internal sealed class MetricsLog(string path)
{
    private readonly List<string> _rows = [];
    private readonly bool _json = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);

    public static bool IsKnown(string path) => path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);

    public void Add(EpochMetrics m)
    {
        _rows.Add(_json
            ? string.Create(CultureInfo.InvariantCulture, $"{{\"epoch\":{m.Epoch},\"lr\":{Json(m.LearningRate)},\"loss\":{Json(m.Loss)},\"train_accuracy\":{Json(m.TrainAccuracy)},\"test_accuracy\":{Json(m.TestAccuracy)},\"seconds\":{Json(m.Seconds)},\"densities\":[{string.Join(',', m.Densities.Select(Json))}],\"validation_loss\":{Json(m.ValidationLoss)},\"validation_accuracy\":{Json(m.ValidationAccuracy)}}}")
            : string.Join(',', [m.Epoch.ToString(CultureInfo.InvariantCulture), Text(m.LearningRate), Text(m.Loss), Text(m.TrainAccuracy), Text(m.TestAccuracy), Text(m.Seconds), string.Join(';', m.Densities.Select(Text)), Text(m.ValidationLoss), Text(m.ValidationAccuracy)]));
        var text = new StringBuilder();
        if (!_json) text.Append("epoch,lr,loss,train_accuracy,test_accuracy,seconds,densities,validation_loss,validation_accuracy\n");
        foreach (string row in _rows) text.Append(row).Append('\n');
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    private static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>JSON has no NaN: null.</summary>
    private static string Json(double value) => double.IsFinite(value) ? Text(value) : "null";
}
