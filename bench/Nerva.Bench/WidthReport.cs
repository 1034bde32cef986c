using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using ScottPlot;

namespace Nerva.Bench;

/// <summary>
/// The width study's report (<c>bench/width-study.sh</c>): from each run's per-epoch CSV logs (the parts of a resumed run
/// merged by epoch), its tool output and its peak memory, a Markdown table (final and best test accuracy, median epoch
/// time, peak memory, stored weights) and a picture: test accuracy against width, one line per method, the dense
/// network as a horizontal line (points and line: the mean over the seeds), and, where a network ran with several seeds,
/// the mean and standard deviation of its final accuracy. Runs are named <c>dense-s1</c>, <c>w4096-set-s1</c> (784-W-W-W-10)
/// or <c>w2048d2-rigl-s1</c> (DEPTH hidden layers of W, here 784-2048-2048-10).
/// </summary>
internal static partial class WidthReport
{
    private sealed record Result(string Name, int Width, int Depth, string Method, int Seed, SortedDictionary<int, (double Test, double Seconds)> Epochs, double PeakMB, long Weights, bool Done);

    public static void Run(TextWriter output, string folder)
    {
        var runs = Directory.GetFiles(folder, "*.csv").GroupBy(path => Path.GetFileName(path).Split('.')[0]).Select(group => Read(folder, group.Key, group.Order())).OrderBy(r => r.Width > 0).ThenBy(r => r.Depth).ThenBy(r => r.Width).ThenBy(r => r.Method).ThenBy(r => r.Seed).ToList();
        var table = new StringBuilder();
        table.AppendLine("| network | method | seed | epochs | final test accuracy | best test accuracy (epoch) | median epoch (s) | peak memory (MB) | stored weights |");
        table.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in runs)
        {
            if (r.Epochs.Count == 0) continue;
            var best = r.Epochs.MaxBy(e => e.Value.Test);
            double[] seconds = [.. r.Epochs.Values.Select(e => e.Seconds).Order()];
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {Network(r.Width, r.Depth)} | {r.Method} | {r.Seed} | {r.Epochs.Keys.Max()}{(r.Done ? "" : " (running)")} | {r.Epochs.Last().Value.Test:F4} | {best.Value.Test:F4} ({best.Key}) | {seconds[seconds.Length / 2]:F1} | {r.PeakMB:F0} | {r.Weights} |"));
        }
        // over the seeds of each network and method, when a run has more than one: mean and sample standard deviation
        var bySeeds = runs.Where(r => r.Epochs.Count > 0 && r.Done).GroupBy(r => (r.Width, r.Depth, r.Method)).Where(g => g.Count() > 1).ToList();
        if (bySeeds.Count > 0)
        {
            table.AppendLine();
            table.AppendLine("| network | method | seeds | final test accuracy, mean ± sd | best test accuracy, mean |");
            table.AppendLine("|---|---|---|---|---|");
            foreach (var g in bySeeds)
            {
                double[] final = [.. g.Select(r => r.Epochs.Last().Value.Test)];
                double mean = final.Average(), sd = Math.Sqrt(final.Sum(a => (a - mean) * (a - mean)) / (final.Length - 1));
                table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {Network(g.Key.Width, g.Key.Depth)} | {g.Key.Method} | {string.Join(", ", g.Select(r => r.Seed))} | {mean:F4} ± {sd:F4} | {g.Average(r => r.Epochs.Values.Max(e => e.Test)):F4} |"));
            }
        }
        File.WriteAllText(Path.Combine(folder, "table.md"), table.ToString());
        output.Write(table);

        var plot = new Plot();
        foreach (var method in runs.Where(r => r.Width > 0).GroupBy(r => (r.Method, r.Depth)))
        {
            var points = method.Where(r => r.Epochs.Count > 0).GroupBy(r => r.Width).OrderBy(g => g.Key)
                .Select(g => (X: Math.Log2(g.Key), Y: g.Average(r => r.Epochs.Last().Value.Test))).ToArray();
            var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            line.LegendText = method.Key.Depth == 3 ? method.Key.Method : $"{method.Key.Method}, {method.Key.Depth} hidden layers";
        }
        var dense = runs.Where(r => r.Width == 0 && r.Epochs.Count > 0).ToList();
        if (dense.Count > 0)
        {
            var line = plot.Add.HorizontalLine(dense.Average(r => r.Epochs.Last().Value.Test));
            line.LegendText = "dense 784-1024-512-10";
            line.LinePattern = LinePattern.Dashed;
        }
        plot.Axes.Bottom.Label.Text = "width W of 784-W-W-W-10, or of the hidden layers marked (log₂)";
        plot.Axes.Left.Label.Text = "final test accuracy";
        plot.ShowLegend(Edge.Right);   // beside the axes: no point hidden
        plot.Title("Fashion-MNIST, equal stored weights");
        plot.SavePng(Path.Combine(folder, "width-study.png"), 900, 540);
        output.WriteLine($"wrote {Path.Combine(folder, "table.md")} and {Path.Combine(folder, "width-study.png")}");
    }

    /// <summary>The network of a run of <paramref name="depth"/> hidden layers of width <paramref name="width"/> (0: the dense one).</summary>
    private static string Network(int width, int depth) => width == 0 ? "dense 784-1024-512-10" : $"784-{string.Concat(Enumerable.Repeat($"{width}-", depth))}10";

    private static Result Read(string folder, string name, IEnumerable<string> logs)
    {
        // the logs in the order of their start times: an epoch keeps the numbers of the part that trained it (RunCurves.Merge)
        var epochs = new SortedDictionary<int, (double Test, double Seconds)>(RunCurves.Merge(logs).ToDictionary(
            row => row.Key, row => (double.Parse(row.Value[4], CultureInfo.InvariantCulture), double.Parse(row.Value[5], CultureInfo.InvariantCulture))));
        epochs.Remove(0);   // the line before training
        double peak = Directory.GetFiles(folder, name + ".*.kb").Select(path => double.TryParse(File.ReadAllText(path).Trim().Split('\n')[^1], CultureInfo.InvariantCulture, out double kb) ? kb / 1024 : 0).DefaultIfEmpty(0).Max();
        string text = File.Exists(Path.Combine(folder, name + ".txt")) ? File.ReadAllText(Path.Combine(folder, name + ".txt")) : "";
        long weights = Densities().Matches(text.Split('\n').FirstOrDefault(l => l.StartsWith("layer densities:", StringComparison.Ordinal)) ?? "").Sum(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
        var match = Name().Match(name);
        return new Result(name, match.Groups[1].Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            match.Groups[2].Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : 3, match.Groups[3].Success ? match.Groups[3].Value : "dense",
            int.Parse(match.Groups[4].Value, CultureInfo.InvariantCulture), epochs, peak, weights, File.Exists(Path.Combine(folder, name + ".done")));
    }

    [GeneratedRegex(@"^(?:w(\d+)(?:d(\d+))?-(\w+)|dense)-s(\d+)$")]
    private static partial Regex Name();

    [GeneratedRegex(@"(\d+)/\d+ \(")]
    private static partial Regex Densities();
}
