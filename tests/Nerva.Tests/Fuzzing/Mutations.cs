using System.IO.Compression;
using System.Text;
using Nerva.Data;

namespace Nerva.Tests.Fuzzing;

/// <summary>
/// Byte-level mutations of a valid file, as a fuzzer makes them: bit flips, interesting bytes and 32-bit integers (both
/// byte orders), cuts, insertions, deletions, duplicated chunks, and digit runs of a text header replaced by huge or
/// non-ASCII numbers. Archives (zip, gzip) are mutated either as they are stored or inside, then stored again with
/// valid checksums, so that the mutation reaches the parser behind the container.
/// </summary>
internal sealed class Mutations(ulong seed)
{
    private readonly Rng _rng = new(seed);

    private static readonly byte[] InterestingBytes = [0, 1, 0x7F, 0x80, 0xFF, (byte)'9', (byte)'(', (byte)')', (byte)',', (byte)'\n', (byte)'-', (byte)'\'', (byte)'<', (byte)'>'];

    private static readonly int[] InterestingInts = [0, 1, -1, 2, 3, 0x7F, 0xFF, 0x100, 0xFFFF, 0x10000, 46340, 65536 * 3, int.MaxValue, int.MinValue, 0x7FFFFFF0, 60000, 0x0803, 0x0801];

    private static readonly string[] InterestingNumbers = ["0", "-1", "99999999999999999999", "2147483648", "536870000", "46340", "65536", "\uFF14", "1e9", "", "3,"];

    public int Next(int n) => (int)_rng.NextInt64(n);

    /// <summary>One to four mutations of a copy of <paramref name="bytes"/>.</summary>
    public byte[] Mutate(byte[] bytes)
    {
        var data = new List<byte>(bytes);
        for (int count = 1 + Next(4); count > 0; count--) MutateOnce(data);
        return [.. data];
    }

    /// <summary>A zip archive's stored bytes mutated, or one member's bytes mutated, renamed, duplicated or dropped and the archive rebuilt.</summary>
    public byte[] MutateZip(byte[] archive)
    {
        if (Next(3) == 0) return Mutate(archive);
        var members = ReadZip(archive);
        int k = Next(members.Count);
        switch (Next(8))
        {
            case 0: members.Add(members[k]); break;                                             // a duplicated name
            case 1: members.RemoveAt(k); break;                                                 // a missing member
            case 2: members[k] = (members[k].Name[..^4] + "\n" + new string('x', Next(2) * 60000) + ".npy", members[k].Bytes); break;
            default: members[k] = (members[k].Name, Mutate(members[k].Bytes)); break;
        }
        return WriteZip(members, stored: Next(4) == 0);
    }

    /// <summary>A gzip file's stored bytes mutated, or its content mutated and compressed again.</summary>
    public byte[] MutateGzip(byte[] gz) => Next(2) == 0 ? Mutate(gz) : Gzip(Mutate(Gunzip(gz)));

    public static List<(string Name, byte[] Bytes)> ReadZip(byte[] archive)
    {
        using var zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        return [.. zip.Entries.Select(e =>
        {
            using var stream = e.Open();
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            return (e.FullName, copy.ToArray());
        })];
    }

    public static byte[] WriteZip(IEnumerable<(string Name, byte[] Bytes)> members, bool stored = false)
    {
        var result = new MemoryStream();
        using (var zip = new ZipArchive(result, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in members)
            {
                var entry = zip.CreateEntry(name, stored ? CompressionLevel.NoCompression : CompressionLevel.Fastest);
                entry.LastWriteTime = Npz.MemberTime;   // not the clock's time: the same seed gives the same inputs
                using var stream = entry.Open();
                stream.Write(bytes);
            }
        return result.ToArray();
    }

    public static byte[] Gzip(byte[] bytes)
    {
        var result = new MemoryStream();
        using (var gz = new GZipStream(result, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(bytes);
        return result.ToArray();
    }

    private static byte[] Gunzip(byte[] gz)
    {
        using var stream = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        var result = new MemoryStream();
        stream.CopyTo(result);
        return result.ToArray();
    }

    private void MutateOnce(List<byte> data)
    {
        if (data.Count == 0)
        {
            data.Add((byte)Next(256));
            return;
        }
        int at = Next(data.Count);
        switch (Next(10))
        {
            case 0:
                data[at] ^= (byte)(1 << Next(8));
                break;
            case 1:
                data[at] = InterestingBytes[Next(InterestingBytes.Length)];
                break;
            case 2:
                var value = BitConverter.GetBytes(InterestingInts[Next(InterestingInts.Length)]);
                if (Next(2) == 0) Array.Reverse(value);   // big-endian, as idx headers are
                for (int i = 0; i < 4 && at + i < data.Count; i++) data[at + i] = value[i];
                break;
            case 3:
                data.RemoveRange(at, data.Count - at);   // truncated
                break;
            case 4:
                data.InsertRange(at, Enumerable.Range(0, 1 + Next(16)).Select(_ => (byte)Next(256)));
                break;
            case 5:
                data.RemoveRange(at, Math.Min(1 + Next(16), data.Count - at));
                break;
            case 6:
                int length = Math.Min(1 + Next(64), data.Count - at);
                data.InsertRange(Next(data.Count), data.GetRange(at, length));
                break;
            case 7:
                data.AddRange(Enumerable.Range(0, 1 + Next(64)).Select(_ => (byte)Next(256)));
                break;
            default:
                ReplaceDigits(data);
                break;
        }
    }

    /// <summary>A run of ASCII digits (a shape, a dtype size, a header length) replaced by an interesting number.</summary>
    private void ReplaceDigits(List<byte> data)
    {
        var runs = new List<(int Start, int Length)>();
        for (int i = 0; i < Math.Min(data.Count, 4096); i++)
            if (char.IsAsciiDigit((char)data[i]))
            {
                int start = i;
                while (i < data.Count && char.IsAsciiDigit((char)data[i])) i++;
                runs.Add((start, i - start));
            }
        if (runs.Count == 0)
        {
            data[Next(data.Count)] ^= 0xFF;
            return;
        }
        var (s, n) = runs[Next(runs.Count)];
        data.RemoveRange(s, n);
        data.InsertRange(s, Encoding.UTF8.GetBytes(InterestingNumbers[Next(InterestingNumbers.Length)]));
    }
}
