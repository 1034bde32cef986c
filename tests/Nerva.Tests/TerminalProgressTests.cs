using System.Text.RegularExpressions;
using Nerva.Cli;
using Nerva.Data;
using Nerva.Losses;
using Nerva.Schedulers;
using Nerva.Training;
using Spectre.Console.Testing;

namespace Nerva.Tests;

/// <summary>The progress display (issue 16): on a terminal the epoch lines become the bars' text, redirected nothing changes.</summary>
[Collection(ThreadCountCollection.Name)]
public sealed partial class TerminalProgressTests
{
    private static StochasticGradientDescent Trainer(TextWriter output, out Dataset data)
    {
        data = GeneratedDatasets.Generate("checkerboard", 600, new Rng(1));
        var model = Model.Create("2-16-2", weights: "He", optimizer: "Momentum(0.9)", seed: 2);
        return new StochasticGradientDescent(model.Network, new SoftmaxCrossEntropyLoss(), new ConstantScheduler(0.05),
            new TrainingOptions { Epochs = 3, BatchSize = 50, ValidationSplit = 0.1 }, new Rng(3), output);
    }

    [Fact]
    public void On_a_terminal_every_epoch_line_is_shown_and_the_rest_follows_the_bars()
    {
        var plain = new StringWriter();
        Trainer(plain, out var data).Train(data);

        var console = new TestConsole().Interactive();
        console.Profile.Width = 250;   // a wide terminal: the epoch lines are about 130 characters
        var lines = new LineWriter();
        var sgd = Trainer(lines, out data);
        int batches = 0;
        sgd.BatchCompleted += _ => batches++;
        TerminalProgress.Run(console, sgd, lines, () => sgd.Train(data));

        Assert.Equal(3 * 11, batches);   // 540 training rows in batches of 50
        string shown = Time().Replace(console.Output, "Xs");
        var expected = plain.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => Time().Replace(line, "Xs")).ToArray();
        Assert.Equal(8, expected.Count(line => line.StartsWith("epoch ", StringComparison.Ordinal)));   // 4 epoch lines, 4 validation lines
        foreach (string line in expected) Assert.Contains(line, shown);
        // the total comes after the last epoch's bar
        Assert.True(shown.LastIndexOf("Total training time", StringComparison.Ordinal) > shown.LastIndexOf("epoch   3 validation loss", StringComparison.Ordinal));
        // the console is not a terminal here: the mlp tool writes its plain lines
        Assert.False(TerminalProgress.Wanted(new StringWriter()));
    }

    [Fact]
    public void At_80_columns_nothing_wraps_and_the_evaluation_shows()
    {
        var console = new TestConsole().Interactive();
        console.Profile.Width = 80;
        var lines = new LineWriter();
        var sgd = Trainer(lines, out var data);
        string? last = null;
        sgd.BatchCompleted += b => last = b.Batch == b.Batches ? "last" : null;
        TerminalProgress.Run(console, sgd, lines, () => sgd.Train(data));
        var shown = console.Output.Split('\n').Select(line => line.TrimEnd('\r')).ToArray();
        Assert.All(shown, line => Assert.True(line.Length <= 80, $"{line.Length} columns: {line}"));
        Assert.Contains(shown, line => CompactEpoch().IsMatch(line));
        Assert.Contains(shown, line => line.Contains("epoch   3  val loss ", StringComparison.Ordinal));
        Assert.Equal("epoch   3  loss 0.4210  train 0.8120  test 0.8050  0.51s",
            TerminalProgress.Compact("epoch   3 lr: 0.01000000  loss: 0.42103456  train accuracy: 0.81200000  test accuracy: 0.80500000 time: 0.51234567s"));
        Assert.Equal("epoch   3  val loss 0.6931  val acc 0.5000",
            TerminalProgress.Compact("epoch   3 validation loss: 0.69314718  validation accuracy: 0.50000000"));
    }

    /// <summary>
    /// The mlp tool in a pseudo-terminal (util-linux's script) at 80 and 200 columns: Ctrl-C typed during training stops it
    /// after the batch with one line naming the checkpoint, exit code 130, and the cursor the progress display hid is shown.
    /// </summary>
    [Theory]
    [InlineData(80)]
    [InlineData(200)]
    public void Ctrl_C_in_a_terminal_stops_with_one_line_and_the_cursor_shown(int columns)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/script")) return;
        string directory = Directory.CreateTempSubdirectory("nerva-pty-").FullName;
        try
        {
            string checkpoints = Path.Combine(directory, "ck");
            string[] args = [typeof(Mlp).Assembly.Location, "--generate-dataset", "checkerboard", "--dataset-size", "50000", "--layers", "ReLU;ReLU;Linear", "--layer-sizes", "2;128;128;2",
                "--epochs", "1000", "--batch-size", "10", "--threads", "1", "--seed", "1", "--checkpoint", checkpoints];
            string command = $"stty cols {columns} rows 40; exec dotnet {string.Join(' ', args.Select(arg => $"'{arg}'"))}";
            var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/script", ["-q", "-f", "-e", "-c", command, "/dev/null"])
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            using var process = System.Diagnostics.Process.Start(start)!;
            var screen = new System.Text.StringBuilder();
            var reading = new Thread(() =>
            {
                var buffer = new char[4096];
                for (int n; (n = process.StandardOutput.Read(buffer, 0, buffer.Length)) > 0;)
                    lock (screen) screen.Append(buffer, 0, n);
            });
            reading.Start();
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(checkpoints, "checkpoint.npz")) && watch.Elapsed < TimeSpan.FromSeconds(90) && !process.HasExited) Thread.Sleep(20);
            Assert.False(process.HasExited, "the run ended before Ctrl-C");
            process.StandardInput.Write('\u0003');   // Ctrl-C as typed: the terminal sends SIGINT
            process.StandardInput.Flush();
            Assert.True(process.WaitForExit(60_000), "the run did not stop after Ctrl-C");
            reading.Join(10_000);
            string output;
            lock (screen) output = screen.ToString();
            Assert.Equal(130, process.ExitCode);
            Assert.Contains("interrupted: training stopped after ", output);
            Assert.Contains($"the same command with --resume {checkpoints} goes on from it", output);
            int hidden = output.LastIndexOf("\u001b[?25l", StringComparison.Ordinal);
            Assert.True(hidden >= 0, "the progress display hid the cursor");
            Assert.True(output.IndexOf("\u001b[?25h", hidden, StringComparison.Ordinal) > hidden, "the cursor is shown again");
            Assert.Contains(columns < TerminalProgress.WideColumns ? "  loss " : "train accuracy: ", output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [GeneratedRegex(@"^epoch +\d+  loss \d\.\d{4}  train \d\.\d{4}  test \d\.\d{4}  \d+\.\d\ds")]
    private static partial Regex CompactEpoch();

    [GeneratedRegex(@"(?<=(time|epochs): )[0-9.]+s")]
    private static partial Regex Time();
}
