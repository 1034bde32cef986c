using System.Runtime.InteropServices;

namespace Nerva.Data;

/// <summary>
/// What kind of file a path names, so that a data file or a write target that is a FIFO, a device or a socket is refused
/// with one line instead of blocking forever (opening a FIFO waits for its other end) or replacing <c>/dev/null</c>.
/// .NET has no managed API for the file type on Unix, so this asks the runtime's own native shim (<c>libSystem.Native</c>,
/// shipped with every .NET on Linux and macOS; no extra dependency), whose <c>FileStatus</c> puts the mode, with
/// portable S_IF* bits, in its second 32-bit field. Where the shim cannot answer (Windows, a future runtime without
/// it), every existing non-directory counts as a regular file, which is the behaviour before this check.
/// </summary>
internal static partial class FileKind
{
    /// <summary>Null for a regular file (after following links) or a path that does not exist; otherwise what it is, e.g. "a FIFO (named pipe)".</summary>
    public static string? NonRegular(string path)
    {
        if (Directory.Exists(path)) return "a directory";
        if (OperatingSystem.IsWindows()) return null;
        int mode;
        try
        {
            var status = new byte[512];   // FileStatus is 120 bytes today; room for fields a later runtime may add
            if (Stat(path, status) != 0) return null;
            mode = BitConverter.ToInt32(status, 4);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
        return (mode & 0xF000) switch
        {
            0x8000 => null,                      // S_IFREG
            0x1000 => "a FIFO (named pipe)",     // S_IFIFO
            0x2000 => "a character device",      // S_IFCHR
            0x6000 => "a block device",          // S_IFBLK
            0xC000 => "a socket",                // S_IFSOCK
            0x4000 => "a directory",             // S_IFDIR
            _ => "a special file",
        };
    }

    /// <summary>Refuses, with one line, a data file that does not exist or is not a regular file.</summary>
    public static void CheckInput(string path, string expected = "")
    {
        if (NonRegular(path) is string kind) throw new DataFormatException($"{path}: is {kind}, expected a regular file{expected}");
        if (!File.Exists(path)) throw new DataFormatException($"{path}: file not found{expected}");
    }

    [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, [Out] byte[] status);
}
