using System.Runtime.InteropServices;

namespace Nerva.Distributed;

/// <summary>
/// The calls of MPI's C API that data-parallel training needs, bound to Open MPI's <c>libmpi.so.40</c> (Debian's
/// <c>openmpi-bin</c>/<c>libopenmpi3</c>). Open MPI's handles (communicators, datatypes, operations, error handlers) are
/// the addresses of objects it exports, such as <c>ompi_mpi_comm_world</c>: they are read from the library, never
/// hard-coded. The library is opened with RTLD_GLOBAL, as Open MPI's plug-ins need its symbols. Every call's error code
/// becomes an <see cref="MpiException"/> naming the call and MPI's own text.
/// </summary>
internal static unsafe partial class Mpi
{
    private const string Library = "mpi";

    /// <summary>MPI_THREAD_FUNNELED: only the thread that initialised MPI calls it (the kernels' worker threads never do).</summary>
    public const int ThreadFunneled = 1;

    /// <summary>Open MPI's MPI_IN_PLACE.</summary>
    public static readonly nint InPlace = 1;

    private static readonly nint Handle = Open();

    public static readonly nint CommWorld = Export("ompi_mpi_comm_world");
    public static readonly nint Float = Export("ompi_mpi_float");
    public static readonly nint Double = Export("ompi_mpi_double");
    public static readonly nint Byte = Export("ompi_mpi_byte");
    public static readonly nint Int64 = Export("ompi_mpi_int64_t");
    public static readonly nint Sum = Export("ompi_mpi_op_sum");
    public static readonly nint ErrorsReturn = Export("ompi_mpi_errors_return");

    private static nint Open()
    {
        NativeLibrary.SetDllImportResolver(typeof(Mpi).Assembly, (name, _, _) => name == Library ? Handle : 0);
        foreach (string name in new[] { "libmpi.so.40", "libmpi.so" })
        {
            nint handle = dlopen(name, RtldNow | RtldGlobal);
            if (handle != 0) return handle;
        }
        throw new DllNotFoundException("Open MPI's libmpi.so.40 was not found: install it (Debian: apt-get install openmpi-bin) and start the run with mpirun");
    }

    private static nint Export(string symbol) => NativeLibrary.TryGetExport(Handle, symbol, out nint address) ? address
        : throw new EntryPointNotFoundException($"libmpi does not export '{symbol}': this binding needs Open MPI (MPICH's handles are integers)");

    /// <summary>Throws an <see cref="MpiException"/> naming <paramref name="call"/> when <paramref name="code"/> is not MPI_SUCCESS.</summary>
    public static void Check(int code, string call)
    {
        if (code == 0) return;
        var text = stackalloc byte[512];
        int length = 0;
        string message = Error_string(code, text, &length) == 0 ? new string((sbyte*)text, 0, Math.Clamp(length, 0, 511)) : $"error code {code}";
        throw new MpiException($"{call} failed: {message}");
    }

    private const int RtldNow = 2, RtldGlobal = 0x100;

    [LibraryImport("libc.so.6", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint dlopen(string file, int mode);

    [LibraryImport(Library, EntryPoint = "MPI_Init_thread")]
    public static partial int Init_thread(int* argc, byte*** argv, int required, int* provided);

    [LibraryImport(Library, EntryPoint = "MPI_Initialized")]
    public static partial int Initialized(int* flag);

    [LibraryImport(Library, EntryPoint = "MPI_Finalized")]
    public static partial int Finalized(int* flag);

    [LibraryImport(Library, EntryPoint = "MPI_Finalize")]
    public static partial int Finalize();

    [LibraryImport(Library, EntryPoint = "MPI_Comm_rank")]
    public static partial int Comm_rank(nint comm, int* rank);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_size")]
    public static partial int Comm_size(nint comm, int* size);

    [LibraryImport(Library, EntryPoint = "MPI_Comm_set_errhandler")]
    public static partial int Comm_set_errhandler(nint comm, nint handler);

    [LibraryImport(Library, EntryPoint = "MPI_Allreduce")]
    public static partial int Allreduce(void* send, void* receive, int count, nint datatype, nint op, nint comm);

    [LibraryImport(Library, EntryPoint = "MPI_Bcast")]
    public static partial int Bcast(void* buffer, int count, nint datatype, int root, nint comm);

    [LibraryImport(Library, EntryPoint = "MPI_Allgather")]
    public static partial int Allgather(void* send, int sendCount, nint sendType, void* receive, int receiveCount, nint receiveType, nint comm);

    [LibraryImport(Library, EntryPoint = "MPI_Barrier")]
    public static partial int Barrier(nint comm);

    [LibraryImport(Library, EntryPoint = "MPI_Abort")]
    public static partial int Abort(nint comm, int errorCode);

    [LibraryImport(Library, EntryPoint = "MPI_Error_string")]
    private static partial int Error_string(int code, byte* text, int* length);
}

/// <summary>An MPI call failed; the message names the call and gives MPI's text.</summary>
public sealed class MpiException(string message) : Exception(message);
