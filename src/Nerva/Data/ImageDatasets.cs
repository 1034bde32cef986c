using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace Nerva.Data;

/// <summary>
/// The image datasets: MNIST-format idx files (MNIST, Fashion-MNIST; raw or .gz), <c>mnist.npz</c> and
/// CIFAR-10 binary batches. Pixels v ∈ 0..255 become 2(v/255 − 0.5) ∈ [−1, 1], as in the original.
/// </summary>
public static class ImageDatasets
{
    /// <summary>Where Debian's dataset-fashion-mnist package puts the files.</summary>
    public const string DebianFashionMnist = "/usr/share/datasets/fashion-mnist";

    /// <summary>Reads train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-… from a directory (each raw or .gz).</summary>
    public static Dataset LoadIdxDirectory(string directory)
    {
        if (!Directory.Exists(directory)) throw new DataFormatException($"{directory}: directory not found");
        var trainLabels = ReadIdx(Find(directory, "train-labels-idx1-ubyte"), 1);
        var testLabels = ReadIdx(Find(directory, "t10k-labels-idx1-ubyte"), 1);
        string trainPath = Find(directory, "train-images-idx3-ubyte"), testPath = Find(directory, "t10k-images-idx3-ubyte");
        // the two image sizes from the headers, before a pixel is decompressed: test images of another size are refused now
        long trainSize = IdxImageSize(trainPath), testSize = IdxImageSize(testPath);
        if (trainSize != testSize) throw new DataFormatException($"{directory}: the training images have {trainSize} pixels, the test images {testSize}");
        // Both image files at once; WhenAll waits for both before reporting a failure, so no read outlives the call. The
        // image counts are checked against the label counts from the headers, before any pixel is read.
        var images = Task.WhenAll(
            Task.Run(() => ReadIdx(trainPath, 3, (trainLabels.Count, $"{directory}: {{0}} training images but {trainLabels.Count} labels"))),
            Task.Run(() => ReadIdx(testPath, 3, (testLabels.Count, $"{directory}: {{0}} test images but {testLabels.Count} labels")))).GetAwaiter().GetResult();
        var Xtrain = Pixels(images[0]);
        var Xtest = Pixels(images[1]);
        return AsPixels(Dataset.FromLabels(Xtrain, Labels(trainLabels), Xtest, Labels(testLabels), classes: 10));
    }

    /// <summary>
    /// The images of one idx file (raw or .gz) as they are: one row of pixels 0..255 per image, unscaled, as a
    /// <see cref="Model"/> takes raw inputs (it applies its own preprocessing).
    /// </summary>
    public static Matrix<float> ReadIdxImages(string path)
    {
        FileKind.CheckInput(path, " (an idx file)");
        var images = ReadIdx(path, 3);
        var X = new Matrix<float>(images.Count, images.Size);
        var x = X.AsSpan();
        for (int k = 0; k < x.Length; k++) x[k] = images.Data[k];
        return X;
    }

    /// <summary>Reads <c>mnist.npz</c> with keys x_train, y_train, x_test, y_test (images are flattened).</summary>
    public static Dataset LoadMnistNpz(string path)
    {
        var arrays = Npz.Read(path, new HashSet<string>(["x_train", "y_train", "x_test", "y_test"]));
        var Xtrain = Scale(arrays.Get("x_train", path).ToMatrix<float>());
        var Xtest = Scale(arrays.Get("x_test", path).ToMatrix<float>());
        return AsPixels(Dataset.FromLabels(Xtrain, arrays.Get("y_train", path).ToInt64(), Xtest, arrays.Get("y_test", path).ToInt64(), classes: 10));
    }

    /// <summary>
    /// Reads CIFAR-10's binary version from <c>&lt;directory&gt;/cifar-10-batches-bin</c> (or the directory
    /// itself): data_batch_1..5.bin and test_batch.bin, 10000 records of 1 + 3072 bytes each. Pixels are
    /// interleaved to HWC order (R1 G1 B1 R2 …) as in the original.
    /// </summary>
    public static Dataset LoadCifar10(string directory) => LoadCifar10(directory, 10000);

    /// <summary>
    /// CIFAR-10 with the pixels channels-first, as the file stores them (R1 R2 … G1 … B1 …): the order convolution layers
    /// take (<c>--input-shape 3,32,32</c>).
    /// </summary>
    public static Dataset LoadCifar10ChannelsFirst(string directory) => LoadCifar10(directory, 10000, channelsFirst: true);

    /// <summary>CIFAR-10 with <paramref name="records"/> records per batch file (10000; tests use fewer).</summary>
    internal static Dataset LoadCifar10(string directory, int records, bool channelsFirst = false)
    {
        string folder = Directory.Exists(Path.Combine(directory, "cifar-10-batches-bin")) ? Path.Combine(directory, "cifar-10-batches-bin") : directory;
        var train = Enumerable.Range(1, 5).Select(i => ReadCifarBatch(Path.Combine(folder, $"data_batch_{i}.bin"), records, channelsFirst)).ToArray();
        var test = ReadCifarBatch(Path.Combine(folder, "test_batch.bin"), records, channelsFirst);
        var Xtrain = new Matrix<float>(5 * records, 3072);
        var labels = new long[5 * records];
        for (int b = 0; b < 5; b++)
        {
            train[b].X.AsSpan().CopyTo(Xtrain.AsSpan()[(b * records * 3072)..]);
            train[b].Labels.CopyTo(labels, b * records);
        }
        return AsPixels(Dataset.FromLabels(Xtrain, labels, test.X, test.Labels, classes: 10));
    }

    private static (Matrix<float> X, long[] Labels) ReadCifarBatch(string path, int records, bool channelsFirst)
    {
        FileKind.CheckInput(path, " (the CIFAR-10 binary version)");
        // the size before the bytes are read: a 3 GB file is refused by its length, not by a failed read
        long length = new FileInfo(path).Length;
        if (length != records * 3073L) throw new DataFormatException($"{path}: expected {records * 3073} bytes ({records} records of 3073), found {length}");
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length != records * 3073) throw new DataFormatException($"{path}: expected {records * 3073} bytes ({records} records of 3073), found {bytes.Length} (the file changed while it was read)");
        var X = new Matrix<float>(records, 3072);
        var labels = new long[records];
        for (int i = 0; i < records; i++)
        {
            int offset = i * 3073;
            labels[i] = bytes[offset];
            if (labels[i] > 9) throw new DataFormatException($"{path}: label {labels[i]} of record {i} is out of range: valid labels are 0..9");
            var row = X.Row(i);
            for (int j = 0; j < 3072; j++) row[channelsFirst ? j : 3 * (j % 1024) + j / 1024] = ToUnit(bytes[offset + 1 + j]);
        }
        return (X, labels);
    }

    private static string Find(string directory, string name)
    {
        foreach (string candidate in new[] { name, name + ".gz", name.Replace("-idx", ".idx", StringComparison.Ordinal), name.Replace("-idx", ".idx", StringComparison.Ordinal) + ".gz" })
        {
            string path = Path.Combine(directory, candidate);
            if (File.Exists(path) || FileKind.NonRegular(path) is not null)
            {
                FileKind.CheckInput(path, " (an idx file)");
                return path;
            }
        }
        throw new DataFormatException($"{directory}: {name} (or {name}.gz) not found");
    }

    private sealed record Idx(int Count, int Size, byte[] Data);

    /// <summary>The pixels per image that the training images of an idx <paramref name="directory"/> announce, from their header alone (nothing else is read).</summary>
    internal static long IdxFeatures(string directory) => IdxImageSize(Find(directory, "train-images-idx3-ubyte"));

    /// <summary>Rows × columns from an idx3 header (raw or .gz); the header is checked as <see cref="ReadIdx"/> checks it when the file is read.</summary>
    private static long IdxImageSize(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
            return ReadIdxHeader(stream, path, 3).Size;
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"{path}: corrupt gzip data (a damaged stream or a wrong CRC-32; 'gzip -t' tells more)", e);
        }
    }

    /// <summary>
    /// Reads an idx file of unsigned bytes with the given number of dimensions, decompressing straight into
    /// an array of the size the header announces (no intermediate buffers to grow and copy). With
    /// <paramref name="counted"/>, the item count must equal the labels' (else its message, with {0} for the count).
    /// </summary>
    private static Idx ReadIdx(string path, int dimensions, (int Count, string Message)? counted = null)
    {
        try
        {
            using var file = File.OpenRead(path);
            using Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
            var (sizes, size, needed) = ReadIdxHeader(stream, path, dimensions);
            int headerLength = 4 + 4 * dimensions;
            // a raw file must hold them; a .gz is read only as far as it really decompresses
            if (stream == file && needed > file.Length - headerLength)
                throw new DataFormatException($"{path}: truncated: {sizes[0]} items of {size} bytes need {needed + headerLength} bytes, the file has {file.Length}");
            // the count against the labels' before a byte of data is read (or decompressed)
            if (counted is { } labels && sizes[0] != labels.Count) throw new DataFormatException(string.Format(CultureInfo.InvariantCulture, labels.Message, sizes[0]));
            var data = StreamReading.ReadUpTo(stream, (int)needed, out int got);
            if (got < needed)
                throw new DataFormatException($"{path}: truncated: {sizes[0]} items of {size} bytes need {needed + headerLength} bytes, the file has {got + headerLength}");
            // a .gz to its end, so that its CRC-32 is checked, but no further than 64 KB past what the header declared
            var rest = new byte[4096];
            if (stream != file)
                for (int n, trailing = 0; (n = stream.Read(rest)) > 0;)
                    if ((trailing += n) > 1 << 16) throw new DataFormatException($"{path}: more data than its header declares ({sizes[0]} items of {size} bytes)");
            return new Idx(sizes[0], (int)size, data);
        }
        catch (InvalidDataException e)
        {
            // .NET gives one message ("unsupported compression method") for a damaged stream and a bad checksum alike
            throw new DataFormatException($"{path}: corrupt gzip data (a damaged stream or a wrong CRC-32; 'gzip -t' tells more)", e);
        }
        catch (EndOfStreamException e)
        {
            throw new DataFormatException($"{path}: truncated gzip data", e);
        }
    }

    /// <summary>An idx header of unsigned bytes with <paramref name="dimensions"/> dimensions: the sizes, the bytes per item and in all, every one checked.</summary>
    private static (int[] Sizes, long Size, long Needed) ReadIdxHeader(Stream stream, string path, int dimensions)
    {
        var header = new byte[4 + 4 * dimensions];
        int got = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (got < header.Length) throw new DataFormatException($"{path}: truncated idx header ({got} bytes)");
        int magic = BinaryPrimitives.ReadInt32BigEndian(header);
        int expected = 0x0800 | dimensions;
        if (magic != expected) throw new DataFormatException($"{path}: wrong magic number 0x{magic:X8}, expected 0x{expected:X8} (unsigned bytes, {dimensions} dimensions)");
        var sizes = Enumerable.Range(0, dimensions).Select(d => BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4 + 4 * d))).ToArray();
        if (sizes.Any(x => x < 0)) throw new DataFormatException($"{path}: corrupt dimensions {string.Join('×', sizes)}");
        // sizes in checked 64-bit arithmetic (three dimensions of up to 2³¹ overflow it), then bounded by one array
        long size, needed;
        try
        {
            size = sizes.Skip(1).Aggregate(1L, (a, b) => checked(a * b));
            needed = checked(sizes[0] * size);
        }
        catch (OverflowException)
        {
            throw new DataFormatException($"{path}: corrupt dimensions {string.Join('×', sizes)} (their product overflows)");
        }
        if (needed > Array.MaxLength || size > Array.MaxLength)
            throw new DataFormatException($"{path}: {sizes[0]} items of {size} bytes are too many for one array");
        return (sizes, size, needed);
    }

    private static Matrix<float> Pixels(Idx images)
    {
        var X = new Matrix<float>(images.Count, images.Size);
        // In row blocks on all cores: the cost is mostly touching the fresh pages of X.
        Parallel.For(0, (images.Count + 1023) / 1024, block =>
        {
            int start = block * 1024 * images.Size, end = Math.Min(images.Count, (block + 1) * 1024) * images.Size;
            var x = X.AsSpan();
            for (int k = start; k < end; k++) x[k] = ToUnit(images.Data[k]);
        });
        return X;
    }

    /// <summary>Records the pixel scaling in the dataset, for a model trained on it.</summary>
    private static Dataset AsPixels(Dataset data)
    {
        data.Preprocessing = new InputPreprocessing(scalePixels: true);
        return data;
    }

    private static long[] Labels(Idx labels) => [.. labels.Data.Select(b => (long)b)];

    private static Matrix<float> Scale(Matrix<float> X)
    {
        var x = X.AsSpan();
        for (int k = 0; k < x.Length; k++) x[k] = ToUnit(x[k]);
        return X;
    }

    /// <summary>A pixel v ∈ 0..255 as 2(v/255 − 0.5) ∈ [−1, 1].</summary>
    internal static float ToUnit(float v) => 2 * (v / 255f - 0.5f);
}
