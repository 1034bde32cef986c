using System.Buffers.Binary;
using System.IO.Compression;
using Nerva;
using Nerva.Data;

namespace Nerva.Tests;

/// <summary>The idx and CIFAR-10 readers and the generated sets on small files made here: valid, truncated, corrupt.</summary>
public sealed class DatasetReaderTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nerva-data-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static byte[] Idx(int magic, int[] dimensions, byte[] data)
    {
        var bytes = new byte[4 + 4 * dimensions.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int d = 0; d < dimensions.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dimensions[d]);
        data.CopyTo(bytes, 4 + 4 * dimensions.Length);
        return bytes;
    }

    private void Write(string name, byte[] bytes, bool gzip)
    {
        if (!gzip)
        {
            File.WriteAllBytes(Path.Combine(_directory, name), bytes);
            return;
        }
        using var file = File.Create(Path.Combine(_directory, name + ".gz"));
        using var zip = new GZipStream(file, CompressionLevel.Fastest);
        zip.Write(bytes);
    }

    /// <summary>3 training and 2 test images of 2×2 pixels.</summary>
    private void WriteIdxSet(bool gzip, byte label = 9, int magic = 0x803, int trainImages = 3)
    {
        Write("train-images-idx3-ubyte", Idx(magic, [trainImages, 2, 2], [.. Enumerable.Range(0, 12).Select(i => (byte)(i * 20))]), gzip);
        Write("train-labels-idx1-ubyte", Idx(0x801, [3], [0, label, 4]), gzip);
        Write("t10k-images-idx3-ubyte", Idx(0x803, [2, 2, 2], [0, 255, 0, 255, 1, 2, 3, 4]), gzip);
        Write("t10k-labels-idx1-ubyte", Idx(0x801, [2], [1, 2]), gzip);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_idx_files_raw_or_gzipped(bool gzip)
    {
        WriteIdxSet(gzip);
        var data = ImageDatasets.LoadIdxDirectory(_directory);
        Assert.Equal((3, 4, 10), (data.Xtrain.Rows, data.Features, data.Classes));
        Assert.Equal([0L, 9, 4], Dataset.Labels(data.Ttrain));
        Assert.Equal(-1f, data.Xtrain[0, 0]);                  // 0 → −1
        Assert.Equal(2 * (20f / 255 - 0.5f), data.Xtrain[0, 1]); // 2(v/255 − 0.5)
        Assert.Equal(1f, data.Xtest[0, 1]);                     // 255 → 1
    }

    [Fact]
    public void Idx_errors_name_the_problem()
    {
        WriteIdxSet(gzip: true, magic: 0x801);
        Assert.Contains("wrong magic number 0x00000801, expected 0x00000803", Assert.Throws<DataFormatException>(() => ImageDatasets.LoadIdxDirectory(_directory)).Message);
        WriteIdxSet(gzip: true, trainImages: 30);
        Assert.Contains("30 training images but 3 labels", Assert.Throws<DataFormatException>(() => ImageDatasets.LoadIdxDirectory(_directory)).Message);
        Write("train-labels-idx1-ubyte", Idx(0x801, [30], new byte[30]), gzip: true);
        Assert.Contains("truncated: 30 items of 4 bytes", Assert.Throws<DataFormatException>(() => ImageDatasets.LoadIdxDirectory(_directory)).Message);
        WriteIdxSet(gzip: true, label: 10);
        Assert.Contains("label 10 at index 1 is out of range: valid labels are 0..9", Assert.Throws<DataFormatException>(() => ImageDatasets.LoadIdxDirectory(_directory)).Message);
        WriteIdxSet(gzip: true);
        string gz = Path.Combine(_directory, "t10k-images-idx3-ubyte.gz");
        var bytes = File.ReadAllBytes(gz);
        File.WriteAllBytes(gz, bytes[..(bytes.Length / 2)]);
        var error = Assert.Throws<DataFormatException>(() => ImageDatasets.LoadIdxDirectory(_directory));
        Assert.Contains("t10k-images-idx3-ubyte.gz", error.Message);
        File.Delete(gz);
        Assert.Contains("t10k-images-idx3-ubyte (or t10k-images-idx3-ubyte.gz) not found", Assert.Throws<DataFormatException>(() => ImageDatasets.LoadIdxDirectory(_directory)).Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Idx_headers_that_lie_are_refused_before_anything_large_is_allocated(bool gzip)
    {
        (string Header, string Message)[] cases =
        [
            ("00000803 000000E4 2ECA7573 5B7EF88B", "their product overflows"),            // the size arithmetic wrapped
            ("00000803 00000000 00010000 0000C000", "items of 3221225472 bytes are too many"), // (int)size truncated to −2³⁰
            ("00000803 00000001 0000B504 0000B504", "truncated"),                             // 1×46340×46340: 2.1 GB claimed, 16 bytes given
        ];
        foreach (var (header, message) in cases)
        {
            WriteIdxSet(gzip);
            var bytes = Convert.FromHexString(header.Replace(" ", "", StringComparison.Ordinal));
            Write("train-images-idx3-ubyte", bytes, gzip);
            Write("t10k-images-idx3-ubyte", bytes, gzip);   // the same image size, so that the sizes' comparison passes
            int count = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
            Write("train-labels-idx1-ubyte", Idx(0x801, [count], new byte[count]), gzip);   // as many labels, so that the images' own header is what fails
            long before = GC.GetAllocatedBytesForCurrentThread();
            var error = Assert.Throws<DataFormatException>(() => ImageDatasets.LoadIdxDirectory(_directory));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Contains(message, error.Message);
            Assert.True(allocated < 40 << 20, $"{header}: allocated {allocated >> 20} MB");
        }
    }

    [Fact]
    public void Test_images_of_another_size_are_refused_from_their_header()
    {
        // 2×2 training images; a gzipped test set of 20 000 images of 29×29 (17 MB inflated, a few KB on disk)
        WriteIdxSet(gzip: true);
        Write("t10k-images-idx3-ubyte", Idx(0x803, [20_000, 29, 29], new byte[20_000 * 29 * 29]), gzip: true);
        Write("t10k-labels-idx1-ubyte", Idx(0x801, [20_000], new byte[20_000]), gzip: true);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DataFormatException>(() => ImageDatasets.LoadIdxDirectory(_directory)).Message;
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("the training images have 4 pixels, the test images 841", error);
    }

    [Fact]
    public void Image_and_label_counts_are_checked_before_the_pixels_are_converted()
    {
        WriteIdxSet(gzip: true, trainImages: 3);
        Write("train-labels-idx1-ubyte", Idx(0x801, [2], [0, 1]), gzip: true);
        Assert.Contains("3 training images but 2 labels", Assert.Throws<DataFormatException>(() => ImageDatasets.LoadIdxDirectory(_directory)).Message);
    }

    [Fact]
    public void Reads_cifar10_batches_in_HWC_order()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_directory, "cifar-10-batches-bin")).FullName;
        const int records = 2;
        foreach (string name in new[] { "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch" })
        {
            var bytes = new byte[records * 3073];
            for (int r = 0; r < records; r++)
            {
                bytes[r * 3073] = (byte)(r + 3);
                bytes[r * 3073 + 1] = 255;           // red of pixel 0
                bytes[r * 3073 + 1 + 1024] = 0;      // green of pixel 0
                bytes[r * 3073 + 1 + 2048 + 1] = 255; // blue of pixel 1
            }
            File.WriteAllBytes(Path.Combine(folder, name + ".bin"), bytes);
        }
        var data = ImageDatasets.LoadCifar10(_directory, records);
        Assert.Equal((10, 3072), (data.Xtrain.Rows, data.Features));
        Assert.Equal([3L, 4], Dataset.Labels(data.Ttest));
        Assert.Equal(1f, data.Xtrain[0, 0]);   // R1
        Assert.Equal(-1f, data.Xtrain[0, 1]);  // G1
        Assert.Equal(1f, data.Xtrain[0, 5]);   // B2 = 3·1 + 2
        File.WriteAllBytes(Path.Combine(folder, "test_batch.bin"), new byte[100]);
        Assert.Contains("expected 6146 bytes", Assert.Throws<DataFormatException>(() => ImageDatasets.LoadCifar10(_directory, records)).Message);
    }

    [Fact]
    public void Generated_sets_have_a_fresh_test_set()
    {
        var data = GeneratedDatasets.Generate("checkerboard", 500, new Rng(1));
        Assert.Equal((500, 100, 2, 2), (data.Xtrain.Rows, data.Xtest.Rows, data.Features, data.Classes));
        Assert.NotEqual(data.Xtrain.Row(0).ToArray(), data.Xtest.Row(0).ToArray());
        for (int i = 0; i < 500; i++)
        {
            double x = (data.Xtrain[i, 0] + 1) / 2, y = (data.Xtrain[i, 1] + 1) / 2;
            bool dark = ((int)Math.Floor(8 * x) + (int)Math.Floor(8 * y)) % 2 == 0;
            Assert.Equal(dark ? 0L : 1L, Dataset.Labels(data.Ttrain)[i]);
        }
        var mini = GeneratedDatasets.Generate("mini", 50, new Rng(2));
        Assert.All(mini.Xtrain.AsSpan().ToArray(), v => Assert.InRange(v, 0, 10));
        Assert.Contains("valid: checkerboard, mini", Assert.Throws<ArgumentException>(() => GeneratedDatasets.Generate("spiral", 5, new Rng(1))).Message);
    }

    [Fact]
    public void Normalize_standardises_with_the_training_statistics()
    {
        var rng = new Rng(4);
        var Xtrain = TestData.Random(200, 3, rng, 2, 6).Convert<float>();
        for (int i = 0; i < 200; i++) Xtrain[i, 2] = 7; // a constant feature keeps scale 1
        var Xtest = Matrix<float>.FromRows([4.0, 4.0, 7.0]);
        double mean0 = Enumerable.Range(0, 200).Average(i => (double)Xtrain[i, 0]);
        double sd0 = Math.Sqrt(Enumerable.Range(0, 200).Average(i => Math.Pow(Xtrain[i, 0] - mean0, 2)));
        var data = new Dataset(Xtrain, new Matrix<float>(200, 2), Xtest, new Matrix<float>(1, 2));
        data.Normalize();
        for (int j = 0; j < 2; j++)
        {
            var column = Enumerable.Range(0, 200).Select(i => (double)data.Xtrain[i, j]).ToArray();
            Assert.Equal(0, column.Average(), 1e-5);
            Assert.Equal(1, Math.Sqrt(column.Average(x => x * x)), 1e-5);
        }
        Assert.All(Enumerable.Range(0, 200), i => Assert.Equal(0f, data.Xtrain[i, 2]));
        Assert.Equal((4 - mean0) / sd0, data.Xtest[0, 0], 1e-5);
        Assert.Equal(0f, data.Xtest[0, 2]);
    }

    [Fact]
    public void NaN_in_the_data_is_refused()
    {
        var X = new Matrix<float>(2, 2);
        X[1, 0] = float.NaN;
        var error = Assert.Throws<DataFormatException>(() => new Dataset(X, new Matrix<float>(2, 2), new Matrix<float>(1, 2), new Matrix<float>(1, 2)));
        Assert.Contains("Xtrain contains NaN at row 1, column 0", error.Message);
    }

    [Fact]
    public void Writes_are_atomic_and_unwritable_paths_are_named()
    {
        string path = Path.Combine(_directory, "out.npz");
        File.WriteAllText(path, "old");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, stream =>
        {
            stream.WriteByte(1);
            throw new InvalidOperationException("interrupted");
        }));
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(_directory));
        var error = Assert.Throws<IOException>(() => AtomicFile.Write("/nonexistent/dir/out.npz", _ => { }));
        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public void Writes_respect_their_target_links_permissions_and_directories()
    {
        // through a symbolic link to the file it names; the link stays a link
        string target = Path.Combine(_directory, "target.bin"), link = Path.Combine(_directory, "link.bin");
        File.WriteAllText(target, "old");
        File.CreateSymbolicLink(link, target);
        AtomicFile.Write(link, stream => stream.Write("new"u8));
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal("new", File.ReadAllText(target));
        // an existing file keeps its permissions
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            AtomicFile.Write(target, stream => stream.Write("newer"u8));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(target));
        }
        // a directory or an empty path is one line, not a replaced directory or a .NET message
        Assert.Contains("is a directory", Assert.Throws<IOException>(() => AtomicFile.Write(_directory, _ => { })).Message);
        Assert.Contains("empty path", Assert.Throws<IOException>(() => AtomicFile.Write("", _ => { })).Message);
        // a temporary left by a killed process (a pid that cannot run) is removed by the next write of the same target
        string stale = Path.Combine(_directory, $".target.bin.{int.MaxValue - 1}.0123456789abcdef.tmp");
        File.WriteAllText(stale, "partial");
        AtomicFile.Write(target, stream => stream.Write("newest"u8));
        Assert.False(File.Exists(stale));
        Assert.Equal("link.bin,target.bin", string.Join(",", Directory.GetFiles(_directory).Select(Path.GetFileName).Order()));
    }

    [Fact]
    public async Task Special_files_are_refused_as_data_and_as_write_targets()
    {
        if (OperatingSystem.IsWindows()) return;
        // a FIFO would block the reader forever (opening it waits for a writer), /dev/null would be replaced by a file
        string fifo = Path.Combine(_directory, "data.npz");
        System.Diagnostics.Process.Start("mkfifo", fifo)!.WaitForExit();
        var read = Task.Run(() => Assert.Throws<DataFormatException>(() => Dataset.Load(fifo)).Message);
        Assert.Equal($"{fifo}: is a FIFO (named pipe), expected a regular file (an .npz archive)", await read.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("is a character device, not a regular file", Assert.Throws<IOException>(() => AtomicFile.CheckWritable("/dev/null")).Message);
        Assert.Contains("is a FIFO (named pipe), not a regular file", Assert.Throws<IOException>(() => AtomicFile.Write(fifo, _ => { })).Message);
        // a directory where a file should be is named as one, not "file not found"
        Assert.Equal($"{_directory}: is a directory, expected a regular file (an .npz archive)", Assert.Throws<DataFormatException>(() => Npz.Read(_directory)).Message);
        Directory.CreateDirectory(Path.Combine(_directory, "train-labels-idx1-ubyte"));
        Assert.Contains("train-labels-idx1-ubyte: is a directory, expected a regular file (an idx file)", Assert.Throws<DataFormatException>(() => ImageDatasets.LoadIdxDirectory(_directory)).Message);
    }

    [Fact]
    public void A_gzip_file_is_read_to_its_end_so_that_its_checksum_is_verified()
    {
        WriteIdxSet(gzip: true);
        string path = Path.Combine(_directory, "t10k-labels-idx1-ubyte.gz");
        var bytes = File.ReadAllBytes(path);
        bytes[^6] ^= 1;   // the CRC-32 in the gzip trailer (the last 8 bytes: CRC-32, size)
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<DataFormatException>(() => ImageDatasets.LoadIdxDirectory(_directory)).Message;
        Assert.Equal($"{path}: corrupt gzip data (a damaged stream or a wrong CRC-32; 'gzip -t' tells more)", error);
        // more data than the header declares is refused past 64 KB, not decompressed without end
        Write("t10k-labels-idx1-ubyte", [.. Idx(0x801, [2], [1, 2]), .. new byte[1 << 20]], gzip: true);
        Assert.Contains("more data than its header declares", Assert.Throws<DataFormatException>(() => ImageDatasets.LoadIdxDirectory(_directory)).Message);
    }

    [Fact]
    public void A_cifar_file_of_the_wrong_size_is_named_before_it_is_read()
    {
        string folder = Directory.CreateDirectory(Path.Combine(_directory, "cifar-10-batches-bin")).FullName;
        string path = Path.Combine(folder, "data_batch_1.bin");
        using (var file = File.Create(path)) file.SetLength(3L << 30);   // 3 GB, sparse on disk: more than one array may hold
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DataFormatException>(() => ImageDatasets.LoadCifar10(_directory)).Message;
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Equal($"{path}: expected 30730000 bytes (10000 records of 3073), found 3221225472", error);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Float_targets_of_one_column_are_targets_and_integer_ones_are_labels(bool vector)
    {
        // (N,) or (N, 1) floats: one column of targets for a one-output network; the same shape in int64: class labels
        string path = Path.Combine(_directory, "d.npz");
        int[] shape(int n) => vector ? [n] : [n, 1];
        var X = NpyArray.FromFloats([0, 1, 2, 3, 4, 5], 3, 2);
        Npz.Write(path, [new("Xtrain", X), new("Ttrain", NpyArray.FromFloats([0, 1, 0.25f], shape(3))), new("Xtest", X), new("Ttest", NpyArray.FromFloats([1, 1, 0], shape(3)))]);
        var data = Dataset.Load(path);
        Assert.Equal(1, data.Classes);
        Assert.Equal([0f, 1, 0.25f], data.Ttrain.AsSpan().ToArray());
        // saved and loaded back as they were (not as labels of a one-hot matrix)
        data.Save(path);
        Assert.Equal([0f, 1, 0.25f], Dataset.Load(path).Ttrain.AsSpan().ToArray());
        Npz.Write(path, [new("Xtrain", X), new("Ttrain", NpyArray.FromInt64([0, 2, 1], shape(3))), new("Xtest", X), new("Ttest", NpyArray.FromInt64([1, 1, 0], shape(3)))]);
        data = Dataset.Load(path);
        Assert.Equal(3, data.Classes);
        Assert.Equal([0L, 2, 1], Dataset.Labels(data.Ttrain));
        // NaN in the targets is refused as in the inputs
        Npz.Write(path, [new("Xtrain", X), new("Ttrain", NpyArray.FromFloats([0, float.NaN, 1], shape(3))), new("Xtest", X), new("Ttest", NpyArray.FromFloats([1, 1, 0], shape(3)))]);
        Assert.Equal("Ttrain contains NaN at row 1, column 0", Assert.Throws<DataFormatException>(() => Dataset.Load(path)).Message);
    }

    [Fact]
    public void One_output_accuracy_compares_the_sides_of_one_half()
    {
        Assert.True(Dataset.SameClass([0.7f], [1f]));
        Assert.True(Dataset.SameClass([0.2f], [0f]));
        Assert.False(Dataset.SameClass([0.49f], [1f]));
        Assert.False(Dataset.SameClass([0.5f], [0f]));
        Assert.True(Dataset.SameClass([0.1f, 0.7f, 0.2f], [0f, 1f, 0f]));
    }
}
