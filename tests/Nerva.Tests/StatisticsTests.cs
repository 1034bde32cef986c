namespace Nerva.Tests;

/// <summary>What the tool computes after every epoch: all statistics, the test set's only, or none.</summary>
[Collection(ThreadCountCollection.Name)]
public sealed class StatisticsTests : ToolTest
{
    private static readonly string[] Small =
        ["--generate-dataset", "checkerboard", "--dataset-size", "200", "--layers", "ReLU;Linear", "--layer-sizes", "2-8-2", "--seed", "3", "--threads", "1", "--batch-size", "10", "--epochs", "3"];

    [Fact]
    public void Test_statistics_only_give_the_full_runs_test_accuracies_and_no_training_numbers()
    {
        string full = Path.Combine(Folder, "full.csv"), test = Path.Combine(Folder, "test.csv");
        Assert.Equal(0, Run([.. Small, "--log", full]).Code);
        var (code, output, _) = Run([.. Small, "--test-statistics-only", "--log", test]);
        Assert.Equal(0, code);
        string[][] a = Rows(full), b = Rows(test);
        Assert.Equal(4, b.Length);   // before training and after each epoch
        for (int epoch = 0; epoch < a.Length; epoch++)
        {
            Assert.Equal(a[epoch][4], b[epoch][4]);                            // test accuracy: the same bits
            Assert.NotEqual("NaN", a[epoch][2]);
            Assert.Equal(["NaN", "NaN"], b[epoch][2..4]);                      // loss and train accuracy: not computed
        }
        Assert.Matches(@"epoch   3 lr: 0\.01000000  test accuracy: \d\.\d{8} time: ", output);
    }

    [Fact]
    public void A_diverged_run_is_caught_by_the_test_sets_loss()
    {
        var (code, output, error) = Run([.. Small[..^4], "--batch-size", "200", "--learning-rate", "1e38", "--epochs", "1", "--test-statistics-only"]);
        Assert.Equal(1, code);
        Assert.Matches(@"^error: the (weights became infinite or NaN \(W of layer 1\) in|loss on the test set became \S+ after) epoch 1; lower the learning rate", error);
        Assert.DoesNotContain("NaN", output);
    }

    private static string[][] Rows(string csv) => [.. File.ReadLines(csv).Skip(1).Select(line => line.Split(','))];
}
