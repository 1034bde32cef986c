using System.Diagnostics;
using System.IO.Compression;
using Nerva.Cli;
using Nerva.Data;

namespace Nerva.Tests;

/// <summary>
/// The readers under a 512 MB GC heap limit (DOTNET_GCHeapHardLimit, as in a small container), on the malicious files
/// of issue 13: headers that claim gigabytes, members that decompress to more than the limit. Each run of the mlp tool
/// ends with one line and exit code 1 (or trains, where the file is valid), never an OutOfMemoryException's stack trace.
/// </summary>
public sealed class HeapLimitTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nerva-heap-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private const long Limit = 512L << 20;

    /// <summary>600 MB of zeros: more than the limit, under 1 MB compressed.</summary>
    private const int Bomb = 600 << 20;

    private static (int Code, string Output, string Error) Mlp(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(typeof(Mlp).Assembly.Location);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_GCHeapHardLimit"] = $"0x{Limit:X}";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error);
    }

    private static void AssertOneLine(int code, string error, string expected)
    {
        Assert.True(code == 1, error);
        Assert.StartsWith("error: ", error);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains(expected, error);
        Assert.DoesNotContain("OutOfMemory", error);
    }

    private static void WriteZeros(Stream stream, long count)
    {
        var zeros = new byte[1 << 20];
        for (long written = 0; written < count; written += zeros.Length) stream.Write(zeros, 0, (int)Math.Min(zeros.Length, count - written));
    }

    private static byte[] Npy(NpyArray array)
    {
        var stream = new MemoryStream();
        array.Write(stream);
        return stream.ToArray();
    }

    private static readonly string[] Network = ["--layers", "ReLU;Linear", "--layer-sizes", "2;4;2", "--epochs", "0", "--threads", "1"];

    /// <summary>A network for 28×28 images: the idx files below reach the reader (a network of other inputs is refused from the images' header).</summary>
    private static readonly string[] ImageNetwork = ["--layers", "ReLU;Linear", "--layer-sizes", "784;4;2", "--epochs", "0", "--threads", "1"];

    private string Dataset(string name, Action<ZipArchive>? extra = null, byte[]? Xtrain = null)
    {
        string path = Path.Combine(_directory, name);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        var X = Npy(NpyArray.FromFloats([0, 1, 1, 0, 0.5f, 0.5f], 3, 2));
        foreach (var (key, bytes) in new[] { ("Xtrain", Xtrain ?? X), ("Ttrain", Npy(NpyArray.FromInt64([0, 1, 1], 3))), ("Xtest", X), ("Ttest", Npy(NpyArray.FromInt64([1, 0, 1], 3))) })
        {
            using var entry = zip.CreateEntry(key + ".npy").Open();
            entry.Write(bytes);
        }
        extra?.Invoke(zip);
        return path;
    }

    [Fact]
    public void A_header_that_claims_gigabytes_is_refused_within_the_limit()
    {
        // an npz member of a few hundred bytes that claims 536 870 000 floats (2.1 GB)
        var claim = Npy(NpyArray.FromFloats([1, 2, 3, 4], 4));
        claim = System.Text.Encoding.Latin1.GetBytes(System.Text.Encoding.Latin1.GetString(claim).Replace("(4,)", "(536870000,)", StringComparison.Ordinal));
        var (code, _, error) = Mlp([.. Network, "--load-dataset", Dataset("claim.npz", Xtrain: claim)]);
        AssertOneLine(code, error, "Xtrain: truncated data: expected 2147480000 bytes");

        // a 16-byte idx header of 1×46340×46340 images (2.1 GB)
        string idx = Directory.CreateDirectory(Path.Combine(_directory, "idx")).FullName;
        byte[] Header(int magic, params int[] sizes) => [.. new[] { magic }.Concat(sizes).SelectMany(v => new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v })];
        File.WriteAllBytes(Path.Combine(idx, "train-images-idx3-ubyte"), Header(0x803, 1, 46340, 46340));
        File.WriteAllBytes(Path.Combine(idx, "train-labels-idx1-ubyte"), [.. Header(0x801, 1), 3]);
        File.WriteAllBytes(Path.Combine(idx, "t10k-images-idx3-ubyte"), Header(0x803, 1, 46340, 46340));
        File.WriteAllBytes(Path.Combine(idx, "t10k-labels-idx1-ubyte"), [.. Header(0x801, 1), 3]);
        (code, _, error) = Mlp([.. ImageNetwork, "--idx", idx]);
        AssertOneLine(code, error, "the images have 2147395600 pixels but the network's first layer takes 784");   // from the header alone

        // a 600 KB .gz whose images do not match the labels: refused from the headers, before a byte is decompressed
        using (var gz = new GZipStream(File.Create(Path.Combine(idx, "train-images-idx3-ubyte.gz")), CompressionLevel.SmallestSize))
        {
            gz.Write(Header(0x803, Bomb / 784, 28, 28));
            WriteZeros(gz, Bomb / 784 * 784L);
        }
        File.Delete(Path.Combine(idx, "train-images-idx3-ubyte"));
        File.WriteAllBytes(Path.Combine(idx, "t10k-images-idx3-ubyte"), [.. Header(0x803, 1, 28, 28), .. new byte[784]]);   // test images of the same size
        (code, _, error) = Mlp([.. ImageNetwork, "--idx", idx]);
        AssertOneLine(code, error, $"{Bomb / 784} training images but 1 labels");

        // the same images with as many labels: a valid dataset larger than the limit, named as such
        using (var gz = new GZipStream(File.Create(Path.Combine(idx, "train-labels-idx1-ubyte.gz")), CompressionLevel.SmallestSize))
        {
            gz.Write(Header(0x801, Bomb / 784));
            WriteZeros(gz, Bomb / 784);
        }
        File.Delete(Path.Combine(idx, "train-labels-idx1-ubyte"));
        (code, _, error) = Mlp([.. ImageNetwork, "--idx", idx]);
        AssertOneLine(code, error, "error: out of memory: the data or the network needs more than the 512 MB this process may use");
    }

    [Fact]
    public void A_network_that_trains_within_the_limit_is_also_saved_within_it()
    {
        // 2-6000-6000-2: 144 MB of W2 and as much DW. The writers copied every array twice before writing, so this run
        // trained and then lost its weights to "out of memory"; they now write from the network's own memory
        string weights = Path.Combine(_directory, "w.npz"), model = Path.Combine(_directory, "m.npz"), checkpoints = Path.Combine(_directory, "ck");
        var (code, output, error) = Mlp("--generate-dataset", "checkerboard", "--dataset-size", "200", "--layers", "ReLU;ReLU;Linear", "--layer-sizes", "2;6000;6000;2",
            "--epochs", "1", "--batch-size", "50", "--threads", "1", "--save-weights", weights, "--save-model", model, "--checkpoint", checkpoints);
        Assert.True(code == 0, error);
        Assert.Contains($"wrote the model to {model}", output);
        Assert.Equal(6000L * 6000, Npz.Read(weights)["W2"].Count);
        Assert.True(File.Exists(Path.Combine(checkpoints, "checkpoint.npz")));
    }

    [Fact]
    public void A_member_nobody_asked_for_is_never_decompressed()
    {
        // a valid dataset beside a 600 MB member of zeros: it trains (zero epochs) within the limit
        string path = Dataset("bomb.npz", zip =>
        {
            using var entry = zip.CreateEntry("unused.npy", CompressionLevel.SmallestSize).Open();
            WriteZeros(entry, Bomb);
        });
        Assert.True(new FileInfo(path).Length < 4 << 20, $"{new FileInfo(path).Length} bytes");
        var (code, output, error) = Mlp([.. Network, "--load-dataset", path]);
        Assert.True(code == 0, error);
        Assert.Contains("epoch   0", output);
    }
}
