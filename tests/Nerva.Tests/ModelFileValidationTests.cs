using System.Globalization;
using System.IO.Compression;
using System.Text;
using Nerva.Cli;
using Nerva.Data;

namespace Nerva.Tests;

/// <summary>
/// Model and weights files are validated against the architecture and for finite values before use: non-finite weights, a
/// negative running variance, an activation parameter no float holds, a missing member, optimizer parameters outside
/// their range, and arrays larger than the network can use (refused from their header, before they are decompressed).
/// </summary>
[Collection(ThreadCountCollection.Name)]
public sealed class ModelFileValidationTests : ToolTest
{
    /// <summary>A saved model with batch normalization, its arrays as read back.</summary>
    private (string Path, Dictionary<string, NpyArray> Arrays) Saved()
    {
        var model = new Model(Model.Create("4-8-3", layers: "ReLU;BatchNormalization;Linear", optimizer: "Adam", seed: 1).Network, loss: "SquaredError");
        string path = Path.Combine(Folder, "m.npz");
        model.Save(path);
        return (path, Npz.Read(path));
    }

    private static void Write(string path, Dictionary<string, NpyArray> arrays) => Npz.Write(path, arrays.ToList());

    private static string Description(Dictionary<string, NpyArray> arrays) => Encoding.UTF8.GetString(arrays["model"].Data);

    private static void SetDescription(Dictionary<string, NpyArray> arrays, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        arrays["model"] = NpyArray.FromBytes(bytes, bytes.Length);
    }

    private static string Refused(string path) => Assert.Throws<DataFormatException>(() => Model.Load(path)).Message;

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Non_finite_weights_are_refused(float bad)
    {
        var (path, arrays) = Saved();
        var W = arrays["W2"].ToFloats();
        W[5] = bad;
        arrays["W2"] = NpyArray.FromFloats(W, arrays["W2"].Shape);
        Write(path, arrays);
        Assert.Contains("W of layer 3 holds values that are not finite", Refused(path));
        // the same file as weights of a built network
        var network = Model.Create("4-8-3", layers: "ReLU;BatchNormalization;Linear", seed: 2).Network;
        Assert.Contains("not finite", Assert.Throws<DataFormatException>(() => WeightsFile.Load(network, path)).Message);
    }

    [Fact]
    public void A_negative_running_variance_is_refused()
    {
        var (path, arrays) = Saved();
        arrays["running_var1"] = NpyArray.FromFloats([1, 1, -0.5f, 1, 1, 1, 1, 1], 8);
        Write(path, arrays);
        Assert.Contains("'running_var1' holds -0.5 at 2; a variance is at least 0", Refused(path));
    }

    [Fact]
    public void A_missing_running_variance_is_refused_in_a_model_file()
    {
        var (path, arrays) = Saved();
        arrays.Remove("running_var1");
        Write(path, arrays);
        Assert.Contains("no array 'running_var1'", Refused(path));
    }

    [Theory]
    [InlineData("\"ReLU\"", "\"LeakyReLU(1e39)\"", "'alpha' must be a number a float can hold")]
    [InlineData("\"Adam(beta1=0.9, beta2=0.999, epsilon=1E-08)\"", "\"Adam(beta1=2, beta2=0.999, epsilon=1E-08)\"", "beta1 must be in [0, 1), got 2")]
    [InlineData("\"Adam(beta1=0.9, beta2=0.999, epsilon=1E-08)\"", "\"Adam(beta1=-0.5, beta2=0.999, epsilon=1E-08)\"", "beta1 must be in [0, 1), got -0.5")]
    [InlineData("\"Adam(beta1=0.9, beta2=0.999, epsilon=1E-08)\"", "\"Adam(beta1=0.9, beta2=0.999, epsilon=-1)\"", "epsilon must be a positive number, got -1")]
    [InlineData("\"loss\": \"SquaredError\"", "\"loss\": \"Hinge\"", "unknown loss 'Hinge'")]
    public void Parameters_outside_their_range_are_refused(string valid, string bad, string message)
    {
        var (path, arrays) = Saved();
        string json = Description(arrays);
        Assert.Contains(valid, json);
        SetDescription(arrays, json.Replace(valid, bad, StringComparison.Ordinal));
        Write(path, arrays);
        var error = Refused(path);
        Assert.Contains(message, error);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void The_model_file_keeps_its_loss_and_the_tool_evaluates_with_it()
    {
        var data = GeneratedDatasets.Generate("checkerboard", 200, new Rng(1));
        var model = Model.Create("2-8-2", seed: 1);
        model.Train(data, loss: "SoftmaxCrossEntropy", epochs: 1, batchSize: 20);
        string path = Path.Combine(Folder, "ce.npz");
        model.Save(path);
        Assert.Equal("SoftmaxCrossEntropy", Model.Load(path).Loss);
        var (code, output, error) = Run("--generate-dataset", "checkerboard", "--dataset-size", "200", "--load-model", path, "--epochs", "0", "--threads", "1");
        Assert.True(code == 0, error);
        Assert.Contains("loss = SoftmaxCrossEntropyLoss()", output);
        // the loss of a model without one (an earlier file) is the tool's default, as before
        Assert.Null(new Model(model.Network).Loss);
    }

    [Fact]
    public void A_version_1_file_keeps_its_AllReLU_alpha_as_written()
    {
        var model = Model.Create("4-8-8-3", activation: "AllReLU(0.3)", seed: 1);
        string path = Path.Combine(Folder, "v1.npz");
        model.Save(path);
        var arrays = Npz.Read(path);
        string json = Description(arrays);
        Assert.Contains("\"AllReLU(alpha=-0.3, alternate=false)\"", json);
        Assert.Contains("\"AllReLU(alpha=0.3, alternate=false)\"", json);
        // as version 1 wrote it: AllReLU(0.3) on both layers, both built with +0.3 then
        SetDescription(arrays, json.Replace("\"version\": 2", "\"version\": 1", StringComparison.Ordinal).Replace("alpha=-0.3, alternate=false", "0.3", StringComparison.Ordinal)
            .Replace("alpha=0.3, alternate=false", "0.3", StringComparison.Ordinal));
        Write(path, arrays);
        var alphas = Model.Load(path).Network.Layers.OfType<Layers.ActivationLayer<float, Activations.AllReLU<float>>>().Select(l => l.Activation.Alpha);
        Assert.Equal([0.3f, 0.3f], alphas);
    }

    /// <summary>
    /// Every value of the description replaced by hostile ones (negative, zero, huge, wrong types, null, empty): each file is
    /// loaded or refused with one line, and none allocates more than 64 MB.
    /// </summary>
    [Fact]
    public void Every_field_of_the_description_mutated_is_loaded_or_refused_with_one_line()
    {
        var (path, arrays) = Saved();
        string json = Description(arrays);
        var values = System.Text.RegularExpressions.Regex.Matches(json, @"(?<=: |\[|, |\n\s+)(-?[0-9][0-9.eE+-]*|""[^""]*""|true|false|null)(?=[,\]\n])");
        Assert.True(values.Count > 15, json);
        string[] hostile = ["-1", "0", "1e300", "2147483648", "100000000", "\"x\"", "null", "[]", "{}", "\"NaN\"", "\"AllReLU(1e39)\"", "\"Conv(out=100000000, kernel=3)\""];
        int loaded = 0, refused = 0;
        foreach (System.Text.RegularExpressions.Match value in values)
            foreach (string replacement in hostile)
            {
                var copy = new Dictionary<string, NpyArray>(arrays);
                SetDescription(copy, json[..value.Index] + replacement + json[(value.Index + value.Length)..]);
                Write(path, copy);
                long before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    Model.Load(path);
                    loaded++;
                }
                catch (DataFormatException e)
                {
                    refused++;
                    Assert.DoesNotContain('\n', e.Message);
                    Assert.True(e.Message.Length < 400, e.Message);
                }
                Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 << 20, $"{value.Value} → {replacement}");
            }
        Assert.True(refused > loaded, $"{loaded} loaded, {refused} refused");
    }

    [Fact]
    public void A_kilobyte_that_claims_a_sparse_layer_of_two_billion_inputs_is_refused_before_it_is_built()
    {
        // consistent arrays (one stored weight, the CSR shape [2, 2·10⁹]): building the layer allocated 24 GB (the column
        // index of D + 1 offsets and more) before this check; no array of the file confirms D
        string json = """{"format":"Nerva.NET model","version":2,"layers":["Linear"],"sizes":[2000000000,2],"dropouts":[0],"densities":[1e-9],"optimizers":["GradientDescent"],"scale_pixels":false}""";
        var bytes = Encoding.UTF8.GetBytes(json);
        string path = Path.Combine(Folder, "bomb.npz");
        Npz.Write(path, new Dictionary<string, NpyArray>
        {
            ["model"] = NpyArray.FromBytes(bytes, bytes.Length), ["W1_data"] = NpyArray.FromFloats([1], 1), ["W1_indices"] = NpyArray.FromInt32([0], 1),
            ["W1_indptr"] = NpyArray.FromInt32([0, 1, 1], 3), ["W1_shape"] = NpyArray.FromInt64([2, 2_000_000_000], 2), ["b1"] = NpyArray.FromFloats([0, 0], 2),
        }.ToList());
        Assert.True(new FileInfo(path).Length < 2048);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.Contains("layer 1 is sparse with 2000000000 inputs, more than the 9 values the file holds", Refused(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20);
    }

    [Fact]
    public void A_weights_file_of_a_huge_sparse_layer_is_refused_from_its_header()
    {
        // W1 as CSR arrays claiming 10⁸ rows (compressed zeros: a few hundred KB that inflate to 400 MB) for a layer of 8
        var network = Model.Create("4-8-3", density: 0.5, seed: 1).Network;
        string path = Path.Combine(Folder, "huge.npz");
        WeightsFile.Save(network, path);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            zip.GetEntry("W1_indptr.npy")!.Delete();
            using var entry = zip.CreateEntry("W1_indptr.npy", CompressionLevel.SmallestSize).Open();
            string header = "{'descr': '<i4', 'fortran_order': False, 'shape': (100000001,), }";
            header += new string(' ', 64 - (10 + header.Length + 1) % 64) + "\n";
            entry.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0]);
            entry.Write(Encoding.ASCII.GetBytes(header));
            var zeros = new byte[1 << 20];
            for (long written = 0; written < 400_000_004L; written += zeros.Length) entry.Write(zeros, 0, (int)Math.Min(zeros.Length, 400_000_004L - written));
        }
        Assert.True(new FileInfo(path).Length < 1 << 20);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DataFormatException>(() => WeightsFile.Load(network, path)).Message;
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("W1_indptr: shape (100000001) holds 100000001 elements; at most 9 are expected here", error);
        Assert.True(allocated < 8 << 20, $"allocated {allocated >> 20} MB");
    }
}
