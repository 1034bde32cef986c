using Nerva.Data;
using Nerva.Training;
using ScottPlot;

namespace Nerva.Cli;

/// <summary>
/// <c>--plot curves.png</c>: the training curves drawn with ScottPlot, loss (and validation loss) on the left axis and
/// train and test accuracy on the right, one point per epoch; redrawn and written atomically after every epoch.
/// </summary>
internal sealed class MetricsPlot(string path)
{
    private readonly List<EpochMetrics> _epochs = [];

    public void Add(EpochMetrics metrics)
    {
        _epochs.Add(metrics);
        var png = Draw(_epochs).GetImageBytes(900, 540, ImageFormat.Png);
        AtomicFile.Write(path, stream => stream.Write(png));
    }

    /// <summary>The plot of the epochs' numbers (NaN ones, as without statistics, are left out).</summary>
    public static Plot Draw(IReadOnlyList<EpochMetrics> epochs)
    {
        var plot = new Plot();
        double[] x = [.. epochs.Select(m => (double)m.Epoch)];
        void Series(Func<EpochMetrics, double> value, string name, bool right)
        {
            var points = epochs.Where(m => double.IsFinite(value(m))).ToArray();
            if (points.Length == 0) return;
            var scatter = plot.Add.Scatter(points.Select(m => (double)m.Epoch).ToArray(), points.Select(value).ToArray());
            scatter.LegendText = name;
            if (right) scatter.Axes.YAxis = plot.Axes.Right;
        }
        Series(m => m.Loss, "loss", right: false);
        Series(m => m.ValidationLoss, "validation loss", right: false);
        Series(m => m.TrainAccuracy, "train accuracy", right: true);
        Series(m => m.ValidationAccuracy, "validation accuracy", right: true);
        Series(m => m.TestAccuracy, "test accuracy", right: true);
        plot.Axes.Bottom.Label.Text = "epoch";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };   // epochs are whole
        plot.Axes.Left.Label.Text = "loss";
        plot.Axes.Right.Label.Text = "accuracy";
        plot.ShowLegend(Alignment.MiddleRight);
        plot.Title($"training curves ({x.Length} points)");
        return plot;
    }
}
