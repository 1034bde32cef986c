using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Nerva.Training;
using Spectre.Console;

namespace Nerva.Cli;

/// <summary>
/// Progress within an epoch when the output is a terminal, drawn with Spectre.Console: one bar per epoch with the batches
/// done, the running mean loss, samples per second and the time left; when the epoch ends its bar's text becomes the
/// epoch line. Lines that are not epoch lines (the total time, the timer's table) follow the bars. When the output is
/// redirected nothing of this runs, and the output is the original's plain epoch lines, byte for byte. A terminal narrower
/// than <see cref="WideColumns"/> gets a compact layout: no bar, and each epoch line in short form (loss and accuracies
/// to 4 decimals, the learning rate left out), so that nothing wraps at 80 columns. After an epoch's last batch the bar
/// says that the epoch is being evaluated.
/// </summary>
internal sealed partial class TerminalProgress(bool narrow)
{
    /// <summary>The columns from which the epoch lines (about 130 characters) and a bar fit on one line.</summary>
    public const int WideColumns = 160;

    private readonly Dictionary<int, ProgressTask> _tasks = [];
    private readonly List<string> _after = [];
    private readonly Stopwatch _clock = new();
    private ProgressContext? _context;
    private readonly bool _narrow = narrow;
    private double _lossSum;
    private int _samples;

    /// <summary>Whether <paramref name="output"/> is an interactive terminal (the console, not redirected).</summary>
    public static bool Wanted(TextWriter output) =>
        ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>
    /// Runs <paramref name="train"/> under a live display on <paramref name="console"/>; the trainer writes its lines to
    /// <paramref name="lines"/> and reports batches through <paramref name="sgd"/>'s events.
    /// </summary>
    public static T Run<T>(IAnsiConsole console, StochasticGradientDescent sgd, LineWriter lines, Func<T> train)
    {
        var progress = new TerminalProgress(console.Profile.Width < WideColumns);
        lines.Line += progress.Write;
        sgd.BatchCompleted += progress.Batch;
        T result = default!;
        ProgressColumn[] columns = progress._narrow
            ? [new TaskDescriptionColumn { Alignment = Justify.Left }, new PercentageColumn()]
            : [new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()];
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(columns)
            .Start(context =>
            {
                progress._context = context;
                result = train();
            });
        foreach (string line in progress._after) console.WriteLine(line);
        return result;
    }

    /// <summary>A batch done: the epoch's bar moves, its text shows the running loss and the speed.</summary>
    private void Batch(BatchProgress b)
    {
        if (_context is null) return;
        if (!_tasks.TryGetValue(b.Epoch, out var task))
        {
            task = _tasks[b.Epoch] = _context.AddTask(Label(b.Epoch), maxValue: b.Batches);
            (_lossSum, _samples) = (0, 0);
            _clock.Restart();
        }
        _lossSum += b.Loss * b.Samples;
        _samples += b.Samples;
        task.Value = b.Batch;
        double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-9), rate = _samples / seconds;
        // the narrow layout has no time column: the time left is in the text
        string left = _narrow ? $"  {TimeSpan.FromSeconds(Math.Round(seconds / b.Batch * (b.Batches - b.Batch))):g} left" : "";
        string state = b.Batch == b.Batches ? "  evaluating…" : left;
        task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{Label(b.Epoch)}  loss {_lossSum / _samples:F4}  {rate,9:N0} samples/s{state}"));
    }

    /// <summary>A line of the trainer: an epoch line becomes its bar's text (a finished bar of its own when no batches ran); any other line waits for the end.</summary>
    private void Write(string line)
    {
        if (_context is null || !line.StartsWith("epoch ", StringComparison.Ordinal))
        {
            _after.Add(line);
            return;
        }
        bool epochLine = line.Contains(" time: ", StringComparison.Ordinal);
        if (epochLine && int.TryParse(line.AsSpan(6, 3).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int epoch) && _tasks.Remove(epoch, out var running))
        {
            running.Description = Markup.Escape(Shown(line));
            running.Value = running.MaxValue;
            running.StopTask();
            return;
        }
        var task = _context.AddTask(Markup.Escape(Shown(line)), maxValue: 1);
        task.Value = 1;
        task.StopTask();
    }

    /// <summary>The line as the layout shows it: whole, or in the narrow layout compact ("epoch   3  loss 0.4210  train 0.8120  test 0.8050  0.51s").</summary>
    private string Shown(string line) => _narrow ? Compact(line) : line;

    /// <summary>An epoch line in short form: no learning rate, shorter names, 4 decimals (2 for seconds).</summary>
    internal static string Compact(string line)
    {
        line = LearningRate().Replace(line, " ");
        foreach (var (name, shortName) in Names) line = line.Replace(name, shortName, StringComparison.Ordinal);
        line = Decimals().Replace(line, m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture).ToString(m.Groups[2].Length > 0 ? "0.00" : "0.0000", CultureInfo.InvariantCulture) + m.Groups[2].Value);
        return Spaces().Replace(line, "  ");
    }

    private static readonly (string Name, string Short)[] Names =
        [("validation loss: ", "val loss "), ("validation accuracy: ", "val acc "), ("train accuracy: ", "train "), ("test accuracy: ", "test "), ("loss: ", "loss "), (" time: ", "  ")];

    [GeneratedRegex(@" lr: [0-9.eE+-]+ ")]
    private static partial Regex LearningRate();

    [GeneratedRegex(@"([0-9]+\.[0-9]+)(s?)")]
    private static partial Regex Decimals();

    [GeneratedRegex(@"(?<=[0-9]) +(?=[a-z])")]
    private static partial Regex Spaces();

    private static string Label(int epoch) => string.Create(CultureInfo.InvariantCulture, $"epoch {epoch,3}");
}
