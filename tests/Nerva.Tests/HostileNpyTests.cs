using System.IO.Compression;
using System.Text;
using Nerva.Data;

namespace Nerva.Tests;

/// <summary>.npy headers that lie (issue 13): every one is one DataFormatException, never another exception or a large allocation.</summary>
public sealed class HostileNpyTests
{
    /// <summary>A version-1.0 .npy (version 3.0, UTF-8, when asked): magic, header padded to 64 bytes, then the data bytes.</summary>
    private static byte[] Npy(string dict, int dataBytes, bool utf8 = false)
    {
        var header = utf8 ? Encoding.UTF8.GetBytes(dict) : Encoding.Latin1.GetBytes(dict);
        int preamble = utf8 ? 12 : 10, padded = (preamble + header.Length + 1 + 63) / 64 * 64, length = padded - preamble;
        var bytes = new List<byte> { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)(utf8 ? 3 : 1), 0, (byte)length, (byte)(length >> 8) };
        if (utf8) bytes.AddRange([0, 0]);
        bytes.AddRange(header);
        while (bytes.Count < padded - 1) bytes.Add((byte)' ');
        bytes.Add((byte)'\n');
        bytes.AddRange(new byte[dataBytes]);
        return [.. bytes];
    }

    private static (DataFormatException Error, long Allocated) Refused(Func<object> read)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DataFormatException>(read);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.DoesNotContain('\n', error.Message);
        return (error, allocated);
    }

    [Theory]
    [InlineData("<f99999999999999999999", "is not supported")]  // int.Parse overflowed
    [InlineData("<f\uFF14", "is not supported")]                  // a fullwidth 4, which \d matched
    public void A_dtype_size_must_be_one_or_two_ascii_digits(string descr, string message)
    {
        var bytes = Npy($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}", 8, utf8: true);
        Assert.Contains(message, Refused(() => NpyArray.Read(new MemoryStream(bytes), "x.npy")).Error.Message);
    }

    [Fact]
    public void A_shape_whose_size_overflows_is_refused_not_read_as_empty()
    {
        var bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (65536, 65536, 65536, 65536), }", 0);
        Assert.Contains("overflows a 64-bit size", Refused(() => NpyArray.Read(new MemoryStream(bytes), "x.npy")).Error.Message);
    }

    [Fact]
    public void A_shape_larger_than_the_file_is_refused_before_allocating()
    {
        // 536 870 000 floats (2.1 GB) claimed by a file of 80 bytes
        var bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (536870000,), }", 16);
        var (error, allocated) = Refused(() => NpyArray.Read(new MemoryStream(bytes), "x.npy"));
        Assert.Contains("truncated data: expected 2147480000 bytes", error.Message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");

        // the same member inside an .npz: bounded by the member's size
        string path = Path.Combine(Path.GetTempPath(), $"nerva-hostile-{Environment.ProcessId}.npz");
        try
        {
            using (var archive = ZipFile.Open(path, ZipArchiveMode.Create))
            using (var entry = archive.CreateEntry("W1.npy").Open()) entry.Write(bytes);
            (error, allocated) = Refused(() => Npz.Read(path));
            Assert.Contains("W1: truncated data", error.Message);
            Assert.True(allocated < 4 << 20, $"allocated {allocated} bytes");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_stream_without_a_length_costs_what_it_delivers_not_what_the_header_claims()
    {
        // 400 MB claimed, 1 KB delivered, through a stream that cannot say its length
        var bytes = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000,), }", 1024);
        var (error, allocated) = Refused(() => NpyArray.Read(new BufferedStream(new NonSeekable(bytes)), "pipe"));
        Assert.Contains("found 1024", error.Message);
        Assert.True(allocated < 40L << 20, $"allocated {allocated >> 20} MB");
    }

    /// <summary>An .npz whose members are given as (name, .npy bytes), duplicates and odd names allowed.</summary>
    private static string Archive(params (string Name, byte[] Bytes)[] members)
    {
        string path = Path.Combine(Path.GetTempPath(), $"nerva-hostile-{Environment.ProcessId}-{Guid.NewGuid():N}.npz");
        using var archive = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var (name, bytes) in members)
        {
            using var entry = archive.CreateEntry(name).Open();
            entry.Write(bytes);
        }
        return path;
    }

    /// <summary>The members of a dataset .npz of three training samples and one test sample, with the given Ttrain member.</summary>
    private static (string Name, byte[] Bytes)[] Dataset(byte[] ttrain) =>
    [
        ("Xtrain.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1), }", 12)),
        ("Ttrain.npy", ttrain),
        ("Xtest.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", 4)),
        ("Ttest.npy", Npy("{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", 8)),
    ];

    private static byte[] Floats(int count) => Npy($"{{'descr': '<f4', 'fortran_order': False, 'shape': ({count},), }}", 4 * count);

    [Fact]
    public void A_duplicated_member_is_refused_instead_of_silently_taking_the_last()
    {
        string path = Archive(("W1.npy", Floats(2)), ("W1.npy", Floats(3)));
        try
        {
            Assert.Contains("holds 'W1' twice", Refused(() => Npz.Read(path)).Error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Member_names_and_dtypes_from_the_file_are_printed_on_one_short_line()
    {
        string path = Archive(("evil\nname" + new string('x', 60000) + ".npy", Npy("{'descr': '<f\n4', 'fortran_order': False, 'shape': (1,), }", 4)));
        try
        {
            var error = Refused(() => Npz.Read(path)).Error;
            Assert.Contains("evil?name", error.Message);
            Assert.True(error.Message.Length < 400, $"{error.Message.Length} characters");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Labels_name_at_most_65536_classes()
    {
        // label 10⁸ in a small file made a 3 × 100 000 001 target matrix
        string path = Archive(Dataset(Npy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", 0)
            .Concat(BitConverter.GetBytes(0L)).Concat(BitConverter.GetBytes(100_000_000L)).Concat(BitConverter.GetBytes(1L)).ToArray()));
        try
        {
            var (error, allocated) = Refused(() => Data.Dataset.Load(path));
            Assert.Contains("training label 100000000 at index 1 is out of range: labels name at most 65536 classes", error.Message);
            Assert.True(allocated < 4 << 20, $"allocated {allocated >> 20} MB");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_member_nobody_asked_for_is_never_decompressed()
    {
        // a dataset with a 64 MB member of zeros beside it (a few tens of KB compressed)
        var junk = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (16777216,), }", 64 << 20);
        string path = Archive([.. Dataset(Npy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", 24)), ("junk.npy", junk)]);
        try
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var data = Data.Dataset.Load(path);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(3, data.Xtrain.Rows);
            Assert.True(allocated < 16 << 20, $"allocated {allocated >> 20} MB");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_flipped_byte_is_caught_by_the_members_CRC()
    {
        // a stored (uncompressed) member, so that the flipped byte still parses: only the checksum can tell
        string path = Path.Combine(Path.GetTempPath(), $"nerva-crc-{Environment.ProcessId}.npz");
        try
        {
            var member = Floats(16);
            using (var archive = ZipFile.Open(path, ZipArchiveMode.Create))
            using (var entry = archive.CreateEntry("W1.npy", CompressionLevel.NoCompression).Open()) entry.Write(member);
            Assert.Equal(16, Npz.Read(path)["W1"].Count);   // intact, it reads
            var bytes = File.ReadAllBytes(path);
            int data = bytes.AsSpan().IndexOf(member.AsSpan(0, 64)) + member.Length - 8;   // a byte of the last float
            bytes[data] ^= 0x40;
            File.WriteAllBytes(path, bytes);
            Assert.Contains("'W1' is corrupt: its CRC-32 is", Refused(() => Npz.Read(path)).Error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class NonSeekable(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
