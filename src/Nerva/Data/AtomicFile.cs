namespace Nerva.Data;

/// <summary>
/// Writes a file completely or not at all: to a temporary file beside it, then a rename. A symbolic link is written
/// through to the file it names (as NumPy does), an existing file keeps its permissions, a directory, FIFO or device is refused, and
/// every failure names the user's path, never the temporary one. Temporaries that a killed earlier write of the same
/// target left behind are removed first.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes the file at <paramref name="path"/> with what <paramref name="write"/> puts in the stream, completely or not at all.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var (full, directory) = Destination(path);
        RemoveStale(directory, Prefix(full));
        string temporary = Temporary(directory, full);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows() && File.Exists(full)) File.SetUnixFileMode(temporary, File.GetUnixFileMode(full));
            File.Move(temporary, full, overwrite: true);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"cannot write {path}: permission denied", e);
        }
        catch (IOException e) when (e.Message.Contains(temporary, StringComparison.Ordinal))
        {
            throw new IOException($"cannot write {path}: {e.Message.Replace(temporary, full, StringComparison.Ordinal)}", e);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>
    /// Checks, before any long work, that <paramref name="path"/> could be written: not empty, a regular file if it exists, in a
    /// directory that exists and where a file can be created (one is created and deleted). Writes nothing else.
    /// </summary>
    public static void CheckWritable(string path)
    {
        var (full, directory) = Destination(path);
        string probe = Temporary(directory, full);
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write {path}: {(e is UnauthorizedAccessException ? "permission denied" : e.Message.Replace(probe, full, StringComparison.Ordinal))}", e);
        }
        finally
        {
            if (File.Exists(probe)) File.Delete(probe);
        }
    }

    /// <summary>The file to write (a symbolic link's final target) and its directory, or one line saying why there is none.</summary>
    private static (string Full, string Directory) Destination(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new IOException("cannot write to an empty path");
        string full = Target(path);
        if (FileKind.NonRegular(full) is string kind) throw new IOException($"cannot write {path}: it is {kind}, not a regular file");
        string directory = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(directory)) throw new IOException($"cannot write {path}: the directory {directory} does not exist");
        return (full, directory);
    }

    /// <summary>A fresh temporary beside <paramref name="full"/>: <c>.name.&lt;pid&gt;.&lt;guid&gt;.tmp</c>, the form <see cref="RemoveStale"/> recognises.</summary>
    private static string Temporary(string directory, string full) => Path.Combine(directory, $"{Prefix(full)}{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    private static string Prefix(string full) => $".{Path.GetFileName(full)}.";

    /// <summary>The full path to write: a symbolic link's final target, else the path itself.</summary>
    private static string Target(string path)
    {
        var info = new FileInfo(Path.GetFullPath(path));
        return info.LinkTarget is null ? info.FullName : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName;
    }

    /// <summary>Deletes <c>.name.&lt;pid&gt;.&lt;guid&gt;.tmp</c> files of processes that no longer run.</summary>
    private static void RemoveStale(string directory, string prefix)
    {
        try
        {
            foreach (string file in Directory.EnumerateFiles(directory, prefix + "*.tmp"))
            {
                var parts = Path.GetFileName(file)[prefix.Length..].Split('.');
                if (parts.Length == 3 && int.TryParse(parts[0], out int pid) && pid != Environment.ProcessId && !Running(pid)) File.Delete(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // cleaning up is a courtesy: a directory we may not list or a file we may not delete is left as it is
        }
    }

    private static bool Running(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
