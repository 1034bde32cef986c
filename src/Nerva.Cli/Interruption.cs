namespace Nerva.Cli;

/// <summary>
/// Ctrl-C (SIGINT) in the <c>mlp</c> process: the first one asks training to stop after the current batch (the run then
/// ends with one line saying what was saved, exit code 130); a second one ends the process at once. Either way a cursor
/// hidden by the progress display is shown again.
/// </summary>
internal sealed class Interruption : IDisposable
{
    /// <summary>The exit code of a run stopped by Ctrl-C, as a shell gives it (128 + SIGINT).</summary>
    public const int ExitCode = 130;

    /// <summary>The terminal sequence that shows the cursor (DECTCEM).</summary>
    public const string ShowCursor = "\u001b[?25h";

    private readonly CancellationTokenSource _source = new();

    public Interruption() => Console.CancelKeyPress += Pressed;

    /// <summary>Cancelled by the first Ctrl-C.</summary>
    public CancellationToken Token => _source.Token;

    private void Pressed(object? sender, ConsoleCancelEventArgs e)
    {
        RestoreCursor();
        if (_source.IsCancellationRequested) return;   // the second Ctrl-C: the process ends now
        e.Cancel = true;
        _source.Cancel();
    }

    /// <summary>Shows the cursor again when the output is a terminal.</summary>
    public static void RestoreCursor()
    {
        if (!Console.IsOutputRedirected) Console.Out.Write(ShowCursor);
        Console.Out.Flush();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= Pressed;
        _source.Dispose();
    }
}

/// <summary>Training stopped by Ctrl-C; the message says what was saved and how to go on.</summary>
internal sealed class InterruptedException(string message) : Exception(message);
