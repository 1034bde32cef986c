using System.Diagnostics;
using Nerva.Cli;
using Nerva.Data;

namespace Nerva.Tests;

/// <summary>
/// Data-parallel training over Open MPI (issue 25): the mlp tool under <c>mpirun -np P</c> against one process with the
/// same global batch, replicas compared after every epoch, failures that end the whole job, resume on P ranks.
/// </summary>
[Collection(ThreadCountCollection.Name)]
public sealed class DistributedTests : ToolTest
{
    /// <summary>2000 samples, batches of 32 (the last of 16): 3 epochs of 63 steps.</summary>
    private static readonly string[] Base =
    [
        "--generate-dataset", "checkerboard", "--dataset-size", "2000", "--layers", "ReLU;ReLU;Linear", "--layer-sizes", "2;64;64;2",
        "--layer-weights", "He", "--optimizers", "Momentum(0.9)", "--learning-rate", "0.01", "--loss", "SoftmaxCrossEntropy",
        "--batch-size", "32", "--seed", "7", "--threads", "1", "--epochs", "3",
    ];

    /// <summary>The arguments of mpirun starting the tool on <paramref name="ranks"/> ranks with <paramref name="args"/> (an MPMD part when more follow ':').</summary>
    private static string[] Ranks(int ranks, params string[] args) =>
        ["-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture), "dotnet", typeof(Mlp).Assembly.Location, .. args];

    /// <summary>Open MPI's mpirun (as root, on as many ranks as asked whatever the cores, quiet).</summary>
    private static readonly string[] OpenMpi = ["/usr/bin/mpirun.openmpi", "--allow-run-as-root", "--oversubscribe", "-q"];

    /// <summary>MPICH's mpirun (Hydra: as root and on more ranks than cores as it is).</summary>
    private static readonly string[] Mpich = ["/usr/bin/mpirun.mpich"];

    /// <summary>Open MPI's mpirun with <paramref name="parts"/>, its output and error read.</summary>
    private static (Process Process, Task<string> Output, Task<string> Error) Start(params string[] parts) => StartWith(OpenMpi, parts);

    /// <summary><paramref name="launcher"/> (the program and its options) with <paramref name="parts"/>, its output and error read.</summary>
    private static (Process Process, Task<string> Output, Task<string> Error) StartWith(string[] launcher, string[] parts)
    {
        Assert.True(File.Exists(launcher[0]), $"the distributed tests need {launcher[0]}: apt-get install openmpi-bin mpich (scripts/test.sh does)");
        var start = new ProcessStartInfo(launcher[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in launcher.Skip(1).Concat(parts)) start.ArgumentList.Add(arg);
        var process = Process.Start(start)!;
        return (process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
    }

    /// <summary>Open MPI's mpirun with <paramref name="parts"/> to its end: its exit code, output and error, and how long it ran.</summary>
    private static (int Code, string Output, string Error, TimeSpan Time) Finish(params string[] parts) => FinishWith(OpenMpi, parts);

    /// <summary><paramref name="launcher"/> with <paramref name="parts"/> to its end: its exit code, output and error, and how long it ran.</summary>
    private static (int Code, string Output, string Error, TimeSpan Time) FinishWith(string[] launcher, string[] parts)
    {
        var watch = Stopwatch.StartNew();
        var (process, output, error) = StartWith(launcher, parts);
        using (process)
        {
            if (!process.WaitForExit(120_000))
            {
                process.Kill(entireProcessTree: true);   // no ranks left behind to slow the tests after it
                Assert.Fail("mpirun did not end within 2 minutes");
            }
            process.WaitForExit();
            return (process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult(), watch.Elapsed);
        }
    }

    /// <summary>mpirun -np <paramref name="ranks"/> of the tool with <paramref name="args"/>, to its end.</summary>
    private static (int Code, string Output, string Error, TimeSpan Time) MpiRun(int ranks, params string[] args) => Finish(Ranks(ranks, args));

    public static TheoryData<string, string[], int> Parity()
    {
        var cases = new TheoryData<string, string[], int>();
        foreach (int P in new[] { 2, 3, 4 })
        {
            cases.Add("dense", [], P);
            cases.Add("sparse, magnitude pruning, random growth", ["--densities", "0.5;0.5;1", "--prune", "Magnitude(0.2)", "--grow", "Random"], P);
            cases.Add("DropConnect", ["--dropouts", "0.1;0.1;0"], P);
            cases.Add("batch normalization (synchronized)", ["--layers", "ReLU;BatchNormalization;ReLU;Linear"], P);
            cases.Add("Adam", ["--optimizers", "Adam"], P);
        }
        cases.Add("gradient growth with DropConnect", ["--densities", "0.5;0.5;1", "--prune", "Magnitude(0.2)", "--grow", "Gradient", "--dropouts", "0.1;0.1;0"], 2);
        return cases;
    }

    /// <summary>
    /// P ranks against one process with the same global batch: every array within 1e-5 of its largest magnitude (only the
    /// order of the sums differs); the replicas were compared after every epoch by the run itself; the same P again gives
    /// the same bits.
    /// </summary>
    [Theory]
    [MemberData(nameof(Parity))]
    public void P_ranks_train_the_weights_of_one_process(string name, string[] options, int P)
    {
        string[] run = Replaced(Base, options);
        string one = Path.Combine(Folder, "one.npz"), ranks = Path.Combine(Folder, "ranks.npz"), again = Path.Combine(Folder, "again.npz");
        var (code, _, error) = Run([.. run, "--save-weights", one]);
        Assert.True(code == 0, error);
        var (mpiCode, output, mpiError, _) = MpiRun(P, [.. run, "--save-weights", ranks]);
        Assert.True(mpiCode == 0, $"{name}, {P} ranks: {mpiError}");
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(output, "=== Nerva.NET model ==="));   // rank 0 alone prints
        AssertClose(one, ranks, $"{name}, {P} ranks");
        if (P != 2) return;
        Assert.Equal(0, MpiRun(P, [.. run, "--save-weights", again]).Code);
        Assert.Equal(File.ReadAllBytes(ranks), File.ReadAllBytes(again));
    }

    /// <summary>Every float array of the weights file <paramref name="actual"/> within 1e-5 of its largest magnitude in <paramref name="expected"/>.</summary>
    private static void AssertClose(string expected, string actual, string run)
    {
        var arrays = Npz.Read(expected);
        foreach (var (key, array) in Npz.Read(actual))
        {
            if (array.Kind != 'f') continue;
            double[] a = arrays[key].ToDoubles(), b = array.ToDoubles();
            double scale = a.Max(Math.Abs), difference = a.Zip(b, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(difference <= 1e-5 * scale, $"{run}: '{key}' differs by {difference:G3} (largest magnitude {scale:G3})");
        }
    }

    /// <summary>
    /// Gradient sums started during backpropagation (the default) and after it (--no-overlap) give the same bits: with a
    /// large gradient summed in place while batch normalization's own sums run beside it, and a sparse one, on 3 ranks.
    /// </summary>
    [Theory]
    [InlineData("--layers", "ReLU;BatchNormalization;ReLU;Linear")]
    [InlineData("--densities", "0.6;0.6;1")]
    public void Overlapping_the_sums_with_backpropagation_changes_no_bit(string option, string value)
    {
        string[] run = Replaced(Base, "--layer-sizes", "2;512;256;2", option, value);
        string overlapped = Path.Combine(Folder, "overlapped.npz"), after = Path.Combine(Folder, "after.npz");
        var (code, _, error, _) = MpiRun(3, [.. run, "--save-weights", overlapped]);
        Assert.True(code == 0, error);
        (code, _, error, _) = MpiRun(3, [.. run, "--no-overlap", "--save-weights", after]);
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllBytes(after), File.ReadAllBytes(overlapped));
    }

    /// <summary>
    /// MPICH (integer handles, Hydra's launcher) on 2 and 3 ranks: every array within 1e-5 of one process's, for a network
    /// with a large gradient (layer 2's 64×1024, summed in place while layer 1 backpropagates) and one with batch
    /// normalization's blocking sums; on 2 ranks (one addition per value) the same bits as Open MPI's. (A 2-512-256-2
    /// network is not used: its first layer's b, ~0.02 at most, parts from one process's by ~1e-3 relative under the
    /// portable kernels, where a pre-activation near 0 turns ReLU the other way.)
    /// </summary>
    [Theory]
    [InlineData(2, "--layer-sizes", "2;64;1024;2")]
    [InlineData(3, "--layer-sizes", "2;64;1024;2")]
    [InlineData(2, "--layers", "ReLU;BatchNormalization;ReLU;Linear")]
    [InlineData(3, "--layers", "ReLU;BatchNormalization;ReLU;Linear")]
    public void MPICH_ranks_train_the_weights_of_one_process(int P, string option, string value)
    {
        string[] run = Replaced(Base, option, value);
        string one = Path.Combine(Folder, "one.npz"), mpich = Path.Combine(Folder, "mpich.npz"), openMpi = Path.Combine(Folder, "openmpi.npz");
        var (code, _, error) = Run([.. run, "--save-weights", one]);
        Assert.True(code == 0, error);
        var (mpiCode, output, mpiError, _) = FinishWith(Mpich, Ranks(P, [.. run, "--verbose", "--save-weights", mpich]));
        Assert.True(mpiCode == 0, $"MPICH, {P} ranks: {mpiError}");
        Assert.Contains($"{P} ranks over MPICH", output, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(output, "=== Nerva.NET model ==="));
        AssertClose(one, mpich, $"MPICH, {P} ranks");
        if (P != 2) return;
        Assert.Equal(0, MpiRun(P, [.. run, "--save-weights", openMpi]).Code);
        Assert.Equal(File.ReadAllBytes(openMpi), File.ReadAllBytes(mpich));
    }

    [Fact]
    public void Replicas_that_differ_stop_the_run_with_one_line()
    {
        // two ranks given different learning rates (mpirun's MPMD form): their weights part after the first epoch
        var (code, output, error, _) = Finish([.. Ranks(1, Base), ":", .. Ranks(1, Replaced(Base, "--learning-rate", "0.02"))]);
        Assert.NotEqual(0, code);
        Assert.Contains("error: the replicas of ranks 0 and 1 differ after epoch 1", error);
        Assert.Single(error.Split('\n'), line => line.StartsWith("error: ", StringComparison.Ordinal));
        Assert.DoesNotContain("epoch   2", output);
    }

    [Fact]
    public void Bad_input_is_one_line_from_rank_0_and_every_rank_ends()
    {
        var (code, _, error, time) = MpiRun(3, Replaced(Base, "--layer-sizes", "2;64;64;3"));
        Assert.Equal(1, code);
        Assert.Equal(["error: the targets have 2 classes but the network's last layer gives 3 outputs"], error.Split('\n').Where(line => line.StartsWith("error", StringComparison.Ordinal)));
        Assert.True(time < TimeSpan.FromSeconds(30), $"{time}");
    }

    /// <summary>
    /// A rank killed with SIGKILL mid-epoch ends the job within 10 s with a non-zero exit; resuming on 2 ranks from the
    /// checkpoint ends with the weights of the uninterrupted 2-rank run, bit for bit.
    /// </summary>
    [Fact]
    public void A_killed_rank_ends_the_job_and_the_run_resumes_on_as_many_ranks()
    {
        string whole = Path.Combine(Folder, "whole.npz"), resumed = Path.Combine(Folder, "resumed.npz"), checkpoints = Path.Combine(Folder, "ck");
        string[] run = [.. Replaced(Base, "--dataset-size", "40000", "--epochs", "12", "--batch-size", "16"), "--no-statistics"];
        var (code, _, error, _) = MpiRun(2, [.. run, "--save-weights", whole]);
        Assert.True(code == 0, error);

        var (mpirun, _, _) = Start(Ranks(2, [.. run, "--checkpoint", checkpoints]));
        using (mpirun)
        {
            var watch = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(checkpoints, "checkpoint.npz")) && watch.Elapsed < TimeSpan.FromSeconds(90) && !mpirun.HasExited) Thread.Sleep(20);
            Thread.Sleep(100);   // into the next epoch
            Assert.False(mpirun.HasExited, "the run ended before a rank could be killed: give it more epochs");
            int rank = RankProcesses(mpirun.Id).Last();
            Process.GetProcessById(rank).Kill();
            watch.Restart();
            bool ended = mpirun.WaitForExit(10_000);
            if (!ended) mpirun.Kill(entireProcessTree: true);
            Assert.True(ended, "the job did not end within 10 s of a rank's death");
            Assert.NotEqual(0, mpirun.ExitCode);
        }
        (code, _, error, _) = MpiRun(2, [.. run, "--resume", checkpoints, "--save-weights", resumed]);
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(resumed));
    }

    /// <summary>The rank processes mpirun started (its children running dotnet), by process id.</summary>
    private static List<int> RankProcesses(int mpirun)
    {
        var ranks = new List<int>();
        var watch = Stopwatch.StartNew();
        while (ranks.Count < 2 && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            ranks.Clear();
            foreach (string task in Directory.GetDirectories($"/proc/{mpirun}/task"))
                foreach (string child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    if (File.ReadAllText($"/proc/{child}/cmdline").Contains("mlp.dll", StringComparison.Ordinal)) ranks.Add(int.Parse(child, System.Globalization.CultureInfo.InvariantCulture));
            if (ranks.Count < 2) Thread.Sleep(50);
        }
        Assert.Equal(2, ranks.Count);
        return ranks;
    }
}
