using System.IO.Compression;

namespace Nerva.Data;

/// <summary>NumPy <c>.npz</c> archives: a zip of <c>.npy</c> arrays, one per key.</summary>
public static class Npz
{
    /// <summary>Reads every array of the archive, by key (the entry name without ".npy").</summary>
    public static Dictionary<string, NpyArray> Read(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException($"{path}: file not found");
        try
        {
            using var archive = ZipFile.OpenRead(path);
            var result = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
            foreach (var entry in archive.Entries)
            {
                string key = entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;
                if (result.ContainsKey(key)) throw new DataFormatException($"{path}: the archive holds '{Printable(key)}' twice");
                if (entry.IsEncrypted) throw new DataFormatException($"{path}: '{Printable(key)}' is encrypted (NumPy archives are not)");
                using var stream = entry.Open();
                result[key] = NpyArray.Read(stream, $"{path}: {Printable(key)}", entry.Length);
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

    /// <summary>Writes the arrays as a compressed archive, atomically.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, NpyArray>> arrays)
    {
        AtomicFile.Write(path, stream =>
        {
            using var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (key, array) in arrays)
            {
                var entry = archive.CreateEntry(key + ".npy", CompressionLevel.Fastest);
                using var entryStream = entry.Open();
                array.Write(entryStream);
            }
        });
    }

    /// <summary>A name from a file as it may appear in a one-line message: control characters as '?', at most 80 characters.</summary>
    internal static string Printable(string name)
    {
        var text = new string([.. name.Select(c => char.IsControl(c) ? '?' : c)]);
        return text.Length <= 80 ? text : text[..77] + "...";
    }

    /// <summary>The array under <paramref name="key"/>, or an error that lists the keys there are.</summary>
    public static NpyArray Get(this Dictionary<string, NpyArray> arrays, string key, string path)
    {
        if (arrays.TryGetValue(key, out var array)) return array;
        throw new DataFormatException($"{path}: no array '{key}' (the file has: {string.Join(", ", arrays.Keys.Order(StringComparer.Ordinal).Select(Printable))})");
    }
}
