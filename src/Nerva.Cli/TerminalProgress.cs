using System.Diagnostics;
using System.Globalization;
using Nerva.Training;
using Spectre.Console;

namespace Nerva.Cli;

/// <summary>
/// Progress within an epoch when the output is a terminal, drawn with Spectre.Console: one bar per epoch with the batches
/// done, the running mean loss, samples per second and the time left; when the epoch ends its bar's text becomes the
/// epoch line. Lines that are not epoch lines (the total time, the timer's table) follow the bars. When the output is
/// redirected nothing of this runs, and the output is the original's plain epoch lines, byte for byte.
/// </summary>
internal sealed class TerminalProgress
{
    private readonly Dictionary<int, ProgressTask> _tasks = [];
    private readonly List<string> _after = [];
    private readonly Stopwatch _clock = new();
    private ProgressContext? _context;
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
        var progress = new TerminalProgress();
        lines.Line += progress.Write;
        sgd.BatchCompleted += progress.Batch;
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
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
        double rate = _samples / Math.Max(_clock.Elapsed.TotalSeconds, 1e-9);
        task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"{Label(b.Epoch)}  loss {_lossSum / _samples:F4}  {rate,9:N0} samples/s"));
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
            running.Description = Markup.Escape(line);
            running.Value = running.MaxValue;
            running.StopTask();
            return;
        }
        var task = _context.AddTask(Markup.Escape(line), maxValue: 1);
        task.Value = 1;
        task.StopTask();
    }

    private static string Label(int epoch) => string.Create(CultureInfo.InvariantCulture, $"epoch {epoch,3}");
}
