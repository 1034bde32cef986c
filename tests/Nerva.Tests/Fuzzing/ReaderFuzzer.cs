using System.Diagnostics;
using System.Text;
using Nerva.Data;
using Nerva.Optimizers;
using Nerva.Specs;

namespace Nerva.Tests.Fuzzing;

/// <summary>
/// Mutation fuzzing of every file reader (issue 13): valid small files of each format are mutated (<see cref="Mutations"/>)
/// and read. An input must be accepted or refused with one <see cref="DataFormatException"/> of one line; any other
/// exception is a defect, and so is an allocation above 64 MB plus 16 bytes for every byte the input could decompress
/// to (1032 per compressed byte, deflate's limit). The suite runs a few thousand inputs per reader; <c>bench fuzz</c>
/// runs the long campaign whose table is in <c>bench/results/fuzz.md</c>.
/// </summary>
internal sealed class ReaderFuzzer : IDisposable
{
    /// <summary>The readers, by the name the tables use.</summary>
    public static readonly string[] Readers = ["npy", "weights npz", "model npz", "checkpoint npz", "dataset npz", "mnist.npz", "idx", "idx.gz", "cifar-10", "csv", "csv.gz"];

    /// <summary>What one reader did with its inputs.</summary>
    public sealed record Result(string Reader, int Inputs, int Accepted, int Rejected, List<string> Uncaught, List<string> BadMessages, int OverLimit, long PeakAllocated, double SlowestSeconds);

    private readonly string _directory = Directory.CreateTempSubdirectory("nerva-fuzz-").FullName;

    private readonly MultilayerPerceptron<float> _network = NetworkBuilder.Build(
        ["ReLU", "BatchNormalization", "ReLU", "Linear"], [12, 8, 6, 3], [0], [WeightInitializer.Xavier], [new Momentum(0.9)], new Rng(5), [0.3, 1, 1]);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Reads <paramref name="inputs"/> mutations of the reader's seed files, with the mutation generator seeded by <paramref name="seed"/>.</summary>
    public Result Run(string reader, int inputs, ulong seed)
    {
        var mutations = new Mutations(seed);
        var (seeds, read) = Target(reader);
        string directory = Directory.CreateDirectory(Path.Combine(_directory, reader.Replace(' ', '-'))).FullName;
        int accepted = 0, rejected = 0, overLimit = 0;
        long peak = 0;
        double slowest = 0;
        List<string> uncaught = [], badMessages = [];
        for (int n = 0; n < inputs; n++)
        {
            // one file of the set mutated, the others as they are
            var files = seeds[mutations.Next(seeds.Length)];
            int k = mutations.Next(files.Length);
            var (name, bytes) = files[k];
            var mutated = name.EndsWith(".npz", StringComparison.Ordinal) ? mutations.MutateZip(bytes)
                : name.EndsWith(".gz", StringComparison.Ordinal) ? mutations.MutateGzip(bytes)
                : mutations.Mutate(bytes);
            bool compressed = name.EndsWith(".npz", StringComparison.Ordinal) || name.EndsWith(".gz", StringComparison.Ordinal);
            for (int f = 0; f < files.Length; f++) File.WriteAllBytes(Path.Combine(directory, files[f].Name), f == k ? mutated : files[f].Bytes);

            long before = GC.GetTotalAllocatedBytes(precise: true), start = Stopwatch.GetTimestamp();
            try
            {
                read(directory, mutated);
                accepted++;
            }
            catch (DataFormatException e)
            {
                rejected++;
                if (e.Message.Contains('\n') || e.Message.Contains('\r') || e.Message.Length > 400) Keep(badMessages, $"{name}: {Escape(e.Message)}");
            }
            catch (Exception e)
            {
                Keep(uncaught, $"{name} (input {n}): {e.GetType().Name}: {Escape(e.Message)}");
            }
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            slowest = Math.Max(slowest, Stopwatch.GetElapsedTime(start).TotalSeconds);
            peak = Math.Max(peak, allocated);
            if (allocated > (64L << 20) + 16L * mutated.Length * (compressed ? 1032 : 1)) overLimit++;
        }
        return new Result(reader, inputs, accepted, rejected, uncaught, badMessages, overLimit, peak, slowest);
    }

    private static void Keep(List<string> list, string text)
    {
        if (list.Count < 20) list.Add(text);
    }

    private static string Escape(string text) => (text.Length > 300 ? text[..300] + "…" : text).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal);

    /// <summary>The seed file sets of a reader (each a list of file names and bytes) and how it reads them.</summary>
    private ((string Name, byte[] Bytes)[][] Seeds, Action<string, byte[]> Read) Target(string reader) => reader switch
    {
        "npy" => (NpySeeds().Select(bytes => new[] { ("x.npy", bytes) }).ToArray(), (_, bytes) =>
        {
            var array = NpyArray.Read(new MemoryStream(bytes), "x.npy");
            if (array.Shape.Length > 0) array.ToMatrix<float>();
        }),
        "weights npz" => ([[("w.npz", WeightsBytes())]], (directory, _) => WeightsFile.Load(_network, Path.Combine(directory, "w.npz"))),
        "model npz" => (ModelSeeds().Select(bytes => new[] { ("m.npz", bytes) }).ToArray(), (directory, _) => Model.Load(Path.Combine(directory, "m.npz"))),
        "checkpoint npz" => ([[("checkpoint.npz", CheckpointBytes())]], (directory, _) => Training.Checkpoint.Load(Path.Combine(directory, "checkpoint.npz"), Trainer())),
        "dataset npz" => (DatasetSeeds().Select(bytes => new[] { ("d.npz", bytes) }).ToArray(), (directory, _) => Dataset.Load(Path.Combine(directory, "d.npz"))),
        "mnist.npz" => ([[("mnist.npz", MnistNpz())]], (directory, _) => ImageDatasets.LoadMnistNpz(Path.Combine(directory, "mnist.npz"))),
        "idx" => ([IdxSet(gzip: false)], (directory, _) => ImageDatasets.LoadIdxDirectory(directory)),
        "idx.gz" => ([IdxSet(gzip: true)], (directory, _) => ImageDatasets.LoadIdxDirectory(directory)),
        "cifar-10" => ([CifarSet()], (directory, _) => ImageDatasets.LoadCifar10(directory, 2)),
        "csv" => (CsvSeeds().Select(text => new[] { ("t.csv", text) }).ToArray(), (directory, _) => ReadCsv(Path.Combine(directory, "t.csv"))),
        "csv.gz" => (CsvSeeds().Select(text => new[] { ("t.csv.gz", Mutations.Gzip(text)) }).ToArray(), (directory, _) => ReadCsv(Path.Combine(directory, "t.csv.gz"))),
        _ => throw new ArgumentException($"unknown reader '{reader}' (valid: {string.Join(", ", Readers)})", nameof(reader)),
    };

    /// <summary>A table as the tool reads it: the label column "y" as classes or values, one dataset.</summary>
    private static void ReadCsv(string path) => Dataset.FromCsv(CsvTable.Read(path, new CsvOptions { LabelColumn = "y" }));

    /// <summary>Small tables: names as classes (quoted, with the separator inside), numbers as values, TSV with CRLF and a BOM.</summary>
    private static IEnumerable<byte[]> CsvSeeds()
    {
        yield return Encoding.UTF8.GetBytes("a,b,c,y\n5.1,3.5,1.4,setosa\n4.9,3,1.4,\"vir,ginica\"\n-1e-3,2E+2,.5,setosa\n");
        yield return Encoding.UTF8.GetBytes("x;y;z\n1.5;2.25;3\n4;-0.5;6\n");
        yield return [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("y\tu\tv\r\n1\t0.25\t8\r\n0\t7\t\"9\"\r\n")];
    }

    private static byte[] Npy(NpyArray array)
    {
        var stream = new MemoryStream();
        array.Write(stream);
        return stream.ToArray();
    }

    /// <summary>Arrays of every dtype the reader takes, C and Fortran order, little- and big-endian.</summary>
    private static IEnumerable<byte[]> NpySeeds()
    {
        var floats = Npy(NpyArray.FromFloats([.. Enumerable.Range(0, 12).Select(i => i * 0.5f)], 3, 4));
        yield return floats;
        yield return Npy(NpyArray.FromDoubles([1, 2, 3, 4, 5], 5));
        yield return Npy(NpyArray.FromInt64([0, 9, 3], 3));
        yield return Npy(NpyArray.FromInt32([1, 2, 3, 4], 2, 2));
        yield return Npy(NpyArray.FromBytes([0, 255, 7, 8, 9, 10, 11, 12], 2, 2, 2));
        yield return Patch(floats, "False", "True ");   // Fortran order
        yield return Patch(floats, "'<f4'", "'>f4'");   // big-endian
        yield return Patch(floats, "'<f4'", "'|b1'");   // booleans
    }

    private static byte[] Patch(byte[] npy, string from, string to)
    {
        var text = Encoding.Latin1.GetString(npy);
        return Encoding.Latin1.GetBytes(text.Replace(from, to, StringComparison.Ordinal));
    }

    private byte[] WeightsBytes()
    {
        string path = Path.Combine(_directory, "seed.npz");
        WeightsFile.Save(_network, path);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    /// <summary>A trainer of the fuzzer's network (Adam, so that the checkpoint holds moments and step counts).</summary>
    private Training.StochasticGradientDescent Trainer() => new(_network, new Losses.SoftmaxCrossEntropyLoss(), new Schedulers.ConstantScheduler(0.01),
        new Training.TrainingOptions { ValidationSplit = 0.5, EarlyStoppingPatience = 2 }, new Rng(1), TextWriter.Null);

    /// <summary>Models of the fuzzer's network: pixels scaled, and standardised with its statistics; one of the earlier format (version 1).</summary>
    private IEnumerable<byte[]> ModelSeeds()
    {
        string path = Path.Combine(_directory, "seed.npz");
        var standardised = new InputPreprocessing(true, [.. Enumerable.Range(0, 12).Select(i => i * 0.1)], [.. Enumerable.Range(0, 12).Select(i => 1 + i * 0.5)]);
        foreach (var preprocessing in new[] { new InputPreprocessing(scalePixels: true), standardised })
        {
            new Model(_network, preprocessing, "SoftmaxCrossEntropy").Save(path);
            yield return File.ReadAllBytes(path);
        }
        var arrays = Npz.Read(path);
        var json = Encoding.UTF8.GetString(arrays["model"].Data).Replace("\"version\": 2", "\"version\": 1", StringComparison.Ordinal);
        arrays["model"] = NpyArray.FromBytes(Encoding.UTF8.GetBytes(json), Encoding.UTF8.GetByteCount(json));
        Npz.Write(path, [.. arrays]);
        yield return File.ReadAllBytes(path);
        File.Delete(path);
    }

    /// <summary>A checkpoint with every kind of state: Adam's moments and steps, the generator, early stopping's best weights.</summary>
    private byte[] CheckpointBytes()
    {
        var network = NetworkBuilder.Build(["ReLU", "BatchNormalization", "ReLU", "Linear"], [12, 8, 6, 3], [0.2, 0, 0], [WeightInitializer.Xavier], [new Adam()], new Rng(5), [0.3, 1, 1]);
        var trainer = new Training.StochasticGradientDescent(network, new Losses.SoftmaxCrossEntropyLoss(), new Schedulers.ConstantScheduler(0.01),
            new Training.TrainingOptions { Epochs = 2, BatchSize = 2, ValidationSplit = 0.5, EarlyStoppingPatience = 2 }, new Rng(1), TextWriter.Null);
        var X = new Matrix<float>(8, 12);
        for (int k = 0; k < X.Length; k++) X.AsSpan()[k] = k % 5 * 0.1f;
        trainer.Train(Dataset.FromLabels(X, [0, 1, 2, 0, 1, 2, 0, 1]));
        string path = Path.Combine(_directory, "seed-checkpoint.npz");
        Training.Checkpoint.Save(path, trainer, 2);
        var bytes = File.ReadAllBytes(path);
        File.Delete(path);
        return bytes;
    }

    /// <summary>Integer labels, one-hot rows, and one column of float targets.</summary>
    private static IEnumerable<byte[]> DatasetSeeds()
    {
        var X = NpyArray.FromFloats([.. Enumerable.Range(0, 12).Select(i => i * 0.25f)], 4, 3);
        byte[] Set(NpyArray train, NpyArray test) => Mutations.WriteZip([("Xtrain.npy", Npy(X)), ("Ttrain.npy", Npy(train)), ("Xtest.npy", Npy(X)), ("Ttest.npy", Npy(test))]);
        yield return Set(NpyArray.FromInt64([0, 2, 1, 1], 4), NpyArray.FromInt64([1, 0, 2, 2], 4));
        yield return Set(NpyArray.FromFloats([1, 0, 0, 1, 0, 1, 1, 0], 4, 2), NpyArray.FromFloats([0, 1, 0, 1, 1, 0, 1, 0], 4, 2));
        yield return Set(NpyArray.FromFloats([0, 1, 0.5f, 1], 4, 1), NpyArray.FromFloats([1, 1, 0, 0], 4));
    }

    private static byte[] MnistNpz() => Mutations.WriteZip(
    [
        ("x_train.npy", Npy(NpyArray.FromBytes([.. Enumerable.Range(0, 48).Select(i => (byte)(i * 5))], 3, 4, 4))),
        ("y_train.npy", Npy(NpyArray.FromBytes([1, 9, 0], 3))),
        ("x_test.npy", Npy(NpyArray.FromBytes([.. Enumerable.Range(0, 32).Select(i => (byte)(255 - i))], 2, 4, 4))),
        ("y_test.npy", Npy(NpyArray.FromBytes([4, 5], 2))),
    ]);

    private static byte[] Idx(int magic, int[] dimensions, IEnumerable<byte> data)
    {
        var bytes = new List<byte>();
        foreach (int value in new[] { magic }.Concat(dimensions)) bytes.AddRange([(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value]);
        bytes.AddRange(data);
        return [.. bytes];
    }

    private static (string, byte[])[] IdxSet(bool gzip)
    {
        var files = new (string Name, byte[] Bytes)[]
        {
            ("train-images-idx3-ubyte", Idx(0x803, [3, 4, 4], Enumerable.Range(0, 48).Select(i => (byte)(i * 5)))),
            ("train-labels-idx1-ubyte", Idx(0x801, [3], [1, 9, 0])),
            ("t10k-images-idx3-ubyte", Idx(0x803, [2, 4, 4], Enumerable.Range(0, 32).Select(i => (byte)(255 - i)))),
            ("t10k-labels-idx1-ubyte", Idx(0x801, [2], [4, 5])),
        };
        return gzip ? [.. files.Select(f => (f.Name + ".gz", Mutations.Gzip(f.Bytes)))] : files;
    }

    private static (string, byte[])[] CifarSet() =>
    [
        .. new[] { "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch" }
            .Select((name, b) => (name + ".bin", Enumerable.Range(0, 2 * 3073).Select(i => i % 3073 == 0 ? (byte)((i / 3073 + b) % 10) : (byte)(i * 7)).ToArray())),
    ];
}
