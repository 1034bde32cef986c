using System.Globalization;
using ScottPlot;

namespace Nerva.Bench;

/// <summary>
/// The curves of a run that was stopped and resumed (<c>bench/million-fashion.sh</c>): the per-epoch CSV logs of its
/// parts (the tool's <c>--log</c>, one file per part) merged by epoch, and drawn as the tool's <c>--plot</c> draws one
/// part: the loss on the left axis, train and test accuracy on the right, numbers that were not computed (NaN) left out.
/// </summary>
internal static class RunCurves
{
    /// <summary>
    /// The rows of the logs by epoch, the logs read in the order given. A resumed part logs its starting epoch again (with
    /// 0 seconds, and without the training set's numbers under <c>--test-statistics-only</c>): an epoch keeps the numbers
    /// of the part that trained it, and takes a later part's only where it had none (NaN).
    /// </summary>
    public static SortedDictionary<int, string[]> Merge(IEnumerable<string> logs)
    {
        var epochs = new SortedDictionary<int, string[]>();
        foreach (string log in logs)
            foreach (string line in File.ReadLines(log).Skip(1))
            {
                string[] cells = line.Split(',');
                int epoch = int.Parse(cells[0], CultureInfo.InvariantCulture);
                if (epochs.TryGetValue(epoch, out var earlier) && earlier.Length == cells.Length)
                    for (int c = 0; c < cells.Length; c++)
                        if (earlier[c] != "NaN") cells[c] = earlier[c];
                epochs[epoch] = cells;
            }
        return epochs;
    }

    /// <summary>Draws the merged logs (in the order of their parts) to <paramref name="png"/>.</summary>
    public static void Run(TextWriter output, string png, IReadOnlyList<string> logs)
    {
        var epochs = Merge(logs);
        var plot = new Plot();
        void Series(int column, string name, bool right)
        {
            var points = epochs.Select(e => (X: (double)e.Key, Y: double.Parse(e.Value[column], CultureInfo.InvariantCulture))).Where(p => double.IsFinite(p.Y)).ToArray();
            if (points.Length == 0) return;
            var scatter = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            scatter.LegendText = name;
            if (right) scatter.Axes.YAxis = plot.Axes.Right;
        }
        Series(2, "loss", right: false);
        Series(3, "train accuracy", right: true);
        Series(4, "test accuracy", right: true);
        plot.Axes.SetLimitsX(epochs.Keys.First() - 0.25, epochs.Keys.Last() + 0.25);   // every series, whichever axis it is on
        plot.Axes.Bottom.Label.Text = "epoch";
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Axes.Left.Label.Text = "loss";
        plot.Axes.Right.Label.Text = "accuracy";
        plot.ShowLegend(Alignment.MiddleRight);
        plot.Title($"training curves ({epochs.Count} points, {logs.Count} part(s))");
        plot.SavePng(png, 900, 540);
        output.WriteLine($"wrote {png}: epochs {epochs.Keys.First()}–{epochs.Keys.Last()} from {logs.Count} log(s)");
    }
}
