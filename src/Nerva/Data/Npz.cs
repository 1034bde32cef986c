using System.IO.Compression;
using System.IO.Hashing;

namespace Nerva.Data;

/// <summary>NumPy <c>.npz</c> archives: a zip of <c>.npy</c> arrays, one per key.</summary>
public static class Npz
{
    /// <summary>
    /// Reads the arrays of the archive by key (the entry name without ".npy"): all of them, or only those in
    /// <paramref name="wanted"/> (a member nobody asked for is never decompressed, however large it claims to be).
    /// Every member read is checked against its CRC-32; duplicated names are refused.
    /// </summary>
    public static Dictionary<string, NpyArray> Read(string path, IReadOnlySet<string>? wanted = null)
        => Read(path, key => wanted is null || wanted.Contains(key) ? long.MaxValue : null);

    /// <summary>
    /// Reads the members named in <paramref name="limits"/>, each refused (with its name, before its data is decompressed)
    /// when its header claims more elements than its limit: a reader that knows the shapes it can use allocates no more.
    /// </summary>
    internal static Dictionary<string, NpyArray> Read(string path, IReadOnlyDictionary<string, long> limits)
        => Read(path, key => limits.TryGetValue(key, out long limit) ? limit : null);

    /// <summary>The archive's members for which <paramref name="limit"/> gives a count (the most elements each may hold); null: not read.</summary>
    internal static Dictionary<string, NpyArray> Read(string path, Func<string, long?> limit)
    {
        FileKind.CheckInput(path, " (an .npz archive)");
        try
        {
            using var archive = ZipFile.OpenRead(path);
            var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
            var rest = new byte[4096];
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in archive.Entries)
            {
                string key = entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;
                if (!names.Add(key)) throw new DataFormatException($"{path}: the archive holds '{Printable(key)}' twice");
                if (limit(key) is not long most) continue;
                if (entry.IsEncrypted) throw new DataFormatException($"{path}: '{Printable(key)}' is encrypted (NumPy archives are not)");
                using var stream = new Checksummed(entry.Open());
                result[key] = NpyArray.Read(stream, $"{path}: {Printable(key)}", entry.Length, most);
                // the member's CRC-32 over all its bytes (a few trailing ones allowed, as NumPy ignores them)
                for (int n = 0, trailing = 0; (n = stream.Read(rest)) > 0;)
                    if ((trailing += n) > 1 << 16) throw new DataFormatException($"{path}: '{Printable(key)}' has more data after its array than an .npy member may");
                if (stream.Crc32 != entry.Crc32)
                    throw new DataFormatException($"{path}: '{Printable(key)}' is corrupt: its CRC-32 is {stream.Crc32:X8}, the archive says {entry.Crc32:X8}");
            }
            return result;
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"{path}: not a valid .npz (zip) archive: {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new DataFormatException($"{path}: truncated .npz archive", e);
        }
    }

    /// <summary>
    /// The time stamp of every member written: the zip format's first date, so that the same arrays give the same
    /// file, byte for byte, whenever they are saved (a member would otherwise carry the clock's time).
    /// </summary>
    internal static readonly DateTimeOffset MemberTime = new(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Writes the arrays as a compressed archive, atomically; the same arrays give the same bytes (see <see cref="MemberTime"/>).</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, NpyArray>> arrays)
    {
        AtomicFile.Write(path, stream =>
        {
            using var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (key, array) in arrays)
            {
                var entry = archive.CreateEntry(key + ".npy", CompressionLevel.Fastest);
                entry.LastWriteTime = MemberTime;
                using var entryStream = entry.Open();
                array.Write(entryStream);
            }
        });
    }

    /// <summary>A name from a file as it may appear in a one-line message: control characters as '?', at most <paramref name="length"/> characters.</summary>
    internal static string Printable(string name, int length = 80)
    {
        var text = new string([.. name.Select(c => char.IsControl(c) ? '?' : c)]);
        return text.Length <= length ? text : text[..(length - 3)] + "...";
    }

    /// <summary>The array under <paramref name="key"/>, or an error that lists the keys there are.</summary>
    public static NpyArray Get(this Dictionary<string, NpyArray> arrays, string key, string path)
    {
        if (arrays.TryGetValue(key, out var array)) return array;
        throw new DataFormatException($"{path}: no array '{key}' (the file has: {Keys(arrays)})");
    }

    /// <summary>The archive's keys for a message: sorted, printable, at most 12 of them (then how many more).</summary>
    internal static string Keys(Dictionary<string, NpyArray> arrays)
    {
        var keys = arrays.Keys.Order(StringComparer.Ordinal).Select(name => Printable(name, 40)).ToList();
        return keys.Count <= 12 ? string.Join(", ", keys) : $"{string.Join(", ", keys.Take(12))} and {keys.Count - 12} more";
    }

    /// <summary>A read-only stream that computes the CRC-32 (zip's checksum) of everything read through it.</summary>
    private sealed class Checksummed(Stream inner) : Stream
    {
        private readonly Crc32 _crc = new();

        public uint Crc32 => _crc.GetCurrentHashAsUInt32();

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            _crc.Append(buffer[..n]);
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
