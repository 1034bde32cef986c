using System.Globalization;
using Nerva.Cli;
using Nerva.Training;

namespace Nerva.Tests;

/// <summary>What the mlp tool says: suggestions, one-line errors whatever the input holds, the files it wrote, the grammar as --help shows it.</summary>
[Collection(ThreadCountCollection.Name)]
public sealed class MlpToolMessagesTests : ToolTest
{
    private static readonly string[] Small =
        ["--generate-dataset", "checkerboard", "--dataset-size", "200", "--layers", "ReLU;Linear", "--layer-weights", "He", "--batch-size", "20", "--seed", "3", "--threads", "1", "--loss", "SoftmaxCrossEntropy"];

    private static void OneLine(int code, string error, string expected)
    {
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", error);
        Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("--epoch", "unknown option '--epoch': did you mean --epochs?")]
    [InlineData("--learningrate", "unknown option '--learningrate': did you mean --learning-rate?")]
    [InlineData("--optimiser", "unknown option '--optimiser': did you mean --optimizers?")]
    [InlineData("--frobnicate", "unknown option '--frobnicate'")]
    public void An_unknown_option_gets_the_nearest_one(string option, string expected)
    {
        var (code, _, error) = Run([.. Small, "--layer-sizes", "2;8;2", option, "2"]);
        OneLine(code, error, expected);
        Assert.DoesNotContain("Unrecognized command", error);
    }

    [Fact]
    public void A_line_break_inside_a_value_stays_one_line()
    {
        var (code, _, error) = Run([.. Small, "--layer-sizes", "2;8;2", "--learning-rate-scheduler", "Constant(lr=x\ny)"]);
        OneLine(code, error, "Constant(lr=x\\ny)");
        (code, _, error) = Run([.. Small, "--layer-sizes", "2;8;2", "--grow-weights", "Xa\r\nvier\t"]);
        OneLine(code, error, "'Xa\\r\\nvier\\t'");
    }

    [Fact]
    public void Sizes_and_optimizers_are_taken_as_the_library_and_help_write_them()
    {
        var (code, output, error) = Run([.. Small, "--layer-sizes", "2-8-2", "--optimizers", "Adam(0.9, 0.999, 1e-8)", "--epochs", "1"]);
        Assert.True(code == 0, error);
        Assert.Contains("optimizer=Adam(beta1=0.9,beta2=0.999,epsilon=1E-08)", output);
        (code, _, error) = Run([.. Small, "--layer-sizes", "2-8-2", "--optimizers", "Adam(beta1=2)"]);
        OneLine(code, error, "Adam: beta1 must be in [0, 1), got 2");
        (code, _, error) = Run([.. Small, "--layer-sizes", "2;-8;2"]);
        OneLine(code, error, "is not a positive integer");
    }

    [Fact]
    public void The_checkpointFolder_is_created_and_every_file_written_is_named()
    {
        string checkpoints = Path.Combine(Folder, "runs", "ck"), weights = Path.Combine(Folder, "w.npz"), model = Path.Combine(Folder, "m.npz"),
            log = Path.Combine(Folder, "log.csv");
        var (code, output, error) = Run([.. Small, "--layer-sizes", "2;8;2", "--epochs", "2", "--checkpoint", checkpoints, "--save-weights", weights, "--save-model", model, "--log", log]);
        Assert.True(code == 0, error);
        Assert.True(File.Exists(Path.Combine(checkpoints, "checkpoint.npz")));
        Assert.Contains($"wrote the trained weights to {weights}", output);
        Assert.Contains($"wrote the model to {model}", output);
        Assert.Contains($"wrote the metrics of every epoch to {log}", output);
        Assert.Contains($"wrote the last checkpoint to {Path.Combine(checkpoints, "checkpoint.npz")} (--resume {checkpoints} goes on from it)", output);
        // a file where the directory should be is one line
        File.WriteAllText(Path.Combine(Folder, "file"), "");
        (code, _, error) = Run([.. Small, "--layer-sizes", "2;8;2", "--checkpoint", Path.Combine(Folder, "file")]);
        OneLine(code, error, "is a file: give a directory");
    }

    [Fact]
    public void Links_that_lead_nowhere_under_resume_name_the_option()
    {
        if (OperatingSystem.IsWindows()) return;
        string loop = Path.Combine(Folder, "loop"), dangling = Path.Combine(Folder, "dangling");
        Directory.CreateDirectory(loop);
        File.CreateSymbolicLink(Path.Combine(loop, "checkpoint.npz"), Path.Combine(loop, "checkpoint.npz"));   // a link to itself
        Directory.CreateDirectory(dangling);
        File.CreateSymbolicLink(Path.Combine(dangling, "checkpoint.npz"), Path.Combine(Folder, "nowhere.npz"));
        foreach (string directory in new[] { loop, dangling })
        {
            var (code, _, error) = Run([.. Small, "--layer-sizes", "2;8;2", "--resume", directory]);
            OneLine(code, error, "error: --resume: ");
        }
        // a checkpoint directory that is a link to itself
        string selfLink = Path.Combine(Folder, "self");
        Directory.CreateSymbolicLink(selfLink, selfLink);
        var (status, _, message) = Run([.. Small, "--layer-sizes", "2;8;2", "--checkpoint", selfLink]);
        OneLine(status, message, "--checkpoint");
    }

    [Fact]
    public void The_log_has_the_validation_accuracy_and_the_plot_whole_epochs()
    {
        string csv = Path.Combine(Folder, "log.csv");
        var (code, output, error) = Run([.. Small, "--layer-sizes", "2;8;2", "--epochs", "4", "--validation-split", "0.2", "--log", csv]);
        Assert.True(code == 0, error);
        var rows = File.ReadAllLines(csv);
        Assert.EndsWith(",validation_loss,validation_accuracy", rows[0]);
        var last = rows[^1].Split(',');
        Assert.InRange(double.Parse(last[^1], CultureInfo.InvariantCulture), 0, 1);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"validation accuracy: {double.Parse(last[^1], CultureInfo.InvariantCulture):F8}"), output);

        var epochs = Enumerable.Range(0, 5).Select(e => new EpochMetrics(e, 0.1, 1.0 / (e + 1), 0.5, 0.5, 1, [1.0])).ToList();
        var plot = MetricsPlot.Draw(epochs);
        plot.GetImageBytes(900, 540, ScottPlot.ImageFormat.Png);
        var ticks = plot.Axes.Bottom.TickGenerator.Ticks.Where(tick => tick.IsMajor).Select(tick => tick.Position).ToArray();
        Assert.NotEmpty(ticks);
        Assert.All(ticks, position => Assert.Equal(Math.Round(position), position, 1e-9));   // no −0.2 … 4.2
    }
}
