using System.Diagnostics;
using Nerva;
using Nerva.Data;

namespace Nerva.Tests;

/// <summary>Our .npy/.npz reader and writer against files NumPy wrote, and NumPy reading ours.</summary>
public sealed class NpyTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    // The array make_fixtures.py writes: arange(12).reshape(3, 4)/8 − 0.5.
    private static readonly double[] A = [.. Enumerable.Range(0, 12).Select(k => k / 8.0 - 0.5)];

    [Theory]
    [InlineData("numpy_arrays.npz")]
    [InlineData("numpy_arrays_compressed.npz")]
    public void Reads_every_dtype_and_order_NumPy_writes(string file)
    {
        var arrays = Npz.Read(Fixture(file));
        foreach (string key in new[] { "f4", "f8", "f8_big", "f4_fortran" })
        {
            Assert.Equal([3, 4], arrays[key].Shape);
            Assert.Equal(A, arrays[key].ToDoubles());
        }
        Assert.True(arrays["f8_big"].BigEndian);
        Assert.True(arrays["f4_fortran"].FortranOrder);
        Assert.Equal([0.0, 1, 255, 7, 8, 9], arrays["u1"].ToDoubles());
        Assert.Equal([-128L, -1, 0, 127], arrays["i1"].ToInt64());
        Assert.Equal([-5L, 0, 2147483647], arrays["i4"].ToInt64());
        Assert.Equal([-9000000000L, 1, 2, 3], arrays["i8"].ToInt64());
        Assert.Equal([2], arrays["vector"].Shape);
        var M = arrays["f4_fortran"].ToMatrix<float>();
        Assert.Equal(A[4 + 2], M[1, 2]);
    }

    [Theory]
    [InlineData("numpy_v1.npy")]
    [InlineData("numpy_v2.npy")]
    [InlineData("numpy_v3.npy")]
    public void Reads_format_versions_1_to_3(string file)
    {
        using var stream = File.OpenRead(Fixture(file));
        var array = NpyArray.Read(stream);
        Assert.Equal(A.Select(a => (double)(float)a), array.ToDoubles());
    }

    [Fact]
    public void Refuses_pickled_objects()
    {
        using var stream = File.OpenRead(Fixture("numpy_object.npy"));
        var error = Assert.Throws<DataFormatException>(() => NpyArray.Read(stream));
        Assert.Contains("pickled", error.Message);
        Assert.Contains("f4, f8, u1, i1, i4, i8", error.Message);
    }

    [Fact]
    public void Round_trips_through_our_writer()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nerva-{Guid.NewGuid():N}.npz");
        try
        {
            Npz.Write(path,
            [
                new("f", NpyArray.FromFloats([1.5f, -2, float.MaxValue, float.Epsilon], 2, 2)),
                new("d", NpyArray.FromDoubles([Math.PI], 1)),
                new("i", NpyArray.FromInt64([long.MinValue, 3], 2)),
                new("u", NpyArray.FromBytes([0, 200], 1, 2)),
            ]);
            var arrays = Npz.Read(path);
            Assert.Equal([1.5f, -2, float.MaxValue, float.Epsilon], arrays["f"].ToFloats());
            Assert.Equal([Math.PI], arrays["d"].ToDoubles());
            Assert.Equal([long.MinValue, 3], arrays["i"].ToInt64());
            Assert.Equal([1, 2], arrays["u"].Shape);
            Assert.Equal("<f4", arrays["f"].Descr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_same_arrays_give_the_same_file_whenever_they_are_saved()
    {
        // a zip member carries a time stamp; ours is fixed, so that a model saved twice (or on two machines) hashes the same
        string first = Path.Combine(Path.GetTempPath(), $"nerva-{Guid.NewGuid():N}.npz"), second = first + ".again.npz";
        try
        {
            KeyValuePair<string, NpyArray>[] arrays = [new("W1", NpyArray.FromFloats([1, 2, 3, 4, 5, 6], 2, 3)), new("b1", NpyArray.FromFloats([7, 8], 2))];
            Npz.Write(first, arrays);
            Npz.Write(second, arrays);
            Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
            using var zip = System.IO.Compression.ZipFile.OpenRead(first);
            Assert.All(zip.Entries, entry => Assert.Equal(Npz.MemberTime.DateTime, entry.LastWriteTime.DateTime));
        }
        finally
        {
            File.Delete(first);
            File.Delete(second);
        }
    }

    [Fact]
    public void NumPy_reads_what_we_write()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nerva-{Guid.NewGuid():N}.npz");
        try
        {
            var W = new float[] { 1, 2, 3, 4, 5, 6 }; // (2, 3): non-square, to catch a layout mix-up
            Npz.Write(path, [new("W1", NpyArray.FromFloats(W, 2, 3)), new("labels", NpyArray.FromInt64([7, -1], 2))]);
            string script = $"import numpy as np; d = np.load('{path}'); w = d['W1']; " +
                            "print(w.shape, w.dtype, w[1, 0], w[0, 2], w.flags['C_CONTIGUOUS'], d['labels'].tolist())";
            Assert.Equal("(2, 3) float32 4.0 3.0 True [7, -1]", RunNumPy(script));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Truncated_and_corrupt_files_are_named()
    {
        byte[] good = File.ReadAllBytes(Fixture("numpy_v1.npy"));
        var truncated = Assert.Throws<DataFormatException>(() => NpyArray.Read(new MemoryStream(good[..150]), "x.npy"));
        Assert.Contains("truncated data", truncated.Message);
        Assert.Contains("x.npy", truncated.Message);
        var magic = Assert.Throws<DataFormatException>(() => NpyArray.Read(new MemoryStream([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), "y.npy"));
        Assert.Contains("magic", magic.Message);
        string path = Path.Combine(Path.GetTempPath(), $"nerva-{Guid.NewGuid():N}.npz");
        try
        {
            byte[] zip = File.ReadAllBytes(Fixture("numpy_arrays_compressed.npz"));
            File.WriteAllBytes(path, zip[..(zip.Length / 2)]);
            Assert.Throws<DataFormatException>(() => Npz.Read(path));
            File.WriteAllText(path, "not a zip file at all");
            Assert.Contains("not a valid .npz", Assert.Throws<DataFormatException>(() => Npz.Read(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
        Assert.Contains("file not found", Assert.Throws<DataFormatException>(() => Npz.Read("/nonexistent/file.npz")).Message);
    }

    [Fact]
    public void Dataset_files_load_and_round_trip()
    {
        var data = Dataset.Load(Fixture("numpy_dataset.npz"));
        Assert.Equal((6, 3, 3), (data.Xtrain.Rows, data.Features, data.Classes));
        Assert.Equal([0L, 1, 2, 1, 0, 2], Dataset.Labels(data.Ttrain));
        string path = Path.Combine(Path.GetTempPath(), $"nerva-{Guid.NewGuid():N}.npz");
        try
        {
            data.Save(path);
            var again = Dataset.Load(path);
            Assert.Equal(data.Xtest.AsSpan().ToArray(), again.Xtest.AsSpan().ToArray());
            Assert.Equal(Dataset.Labels(data.Ttest), Dataset.Labels(again.Ttest));
            Assert.Equal("[6, 3] [2, 0]", RunNumPy($"import numpy as np; d = np.load('{path}'); print(list(d['Xtrain'].shape), d['Ttest'].tolist())"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Runs Debian's Python with NumPy and SciPy (python3-numpy and python3-scipy, which scripts/test.sh installs).</summary>
    internal static string RunNumPy(string script)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start /usr/bin/python3");
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"python3 with numpy/scipy failed (install python3-numpy python3-scipy): {stderr}");
        return stdout.Trim();
    }
}
