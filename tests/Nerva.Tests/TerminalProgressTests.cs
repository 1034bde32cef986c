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

    [GeneratedRegex(@"(?<=(time|epochs): )[0-9.]+s")]
    private static partial Regex Time();
}
