using System.Runtime.InteropServices;

namespace Nerva.Distributed;

/// <summary>
/// The calls of MPI's C API that data-parallel training needs, bound to Open MPI's <c>libmpi.so.40</c> (Debian's
/// <c>openmpi-bin</c>) or MPICH's <c>libmpich.so.12</c> (Debian's <c>mpich</c>), whichever launched the process (Open MPI's
/// mpirun sets OMPI_COMM_WORLD_SIZE, MPICH's Hydra PMI_SIZE; without a launcher, Open MPI first). The two differ in their
/// handles: Open MPI's communicators, datatypes, operations and error handlers are the addresses of objects it exports,
/// such as <c>ompi_mpi_comm_world</c>, read from the library, never hard-coded; MPICH's are the int constants of its
/// <c>mpi.h</c>, which its ABI fixes for every MPICH-derived library (MPICH 3.1 on, Intel MPI, MVAPICH, Cray MPICH). An int
/// handle passed as a 64-bit argument reaches MPICH as the int (the x86-64 and AArch64 calling conventions read its low
/// 32 bits). The library is opened with RTLD_GLOBAL, as Open MPI's plug-ins need its symbols. Every call's error code
/// becomes an <see cref="MpiException"/> naming the call and MPI's own text.
/// </summary>
internal static unsafe partial class Mpi
{
    private const string Library = "mpi";

    /// <summary>MPI_THREAD_SERIALIZED: any thread may call MPI, one at a time (the communicator's MPI thread, or a caller waiting for it; the kernels' worker threads never do).</summary>
    public const int ThreadSerialized = 2;

    private static readonly (nint Handle, bool IsOpenMpi) Loaded = Open();

    /// <summary>
    /// Explicit, so that the type is initialised (the library opened and its resolver set) before the first call of any
    /// method: without it (beforefieldinit) a call that reads no field, such as MPI_Initialized, could bind by the default
    /// probing to another MPI library than the one the fields were read from.
    /// </summary>
    static Mpi()
    {
    }

    /// <summary>Which library this process uses: "Open MPI" or "MPICH".</summary>
    public static readonly string Name = Loaded.IsOpenMpi ? "Open MPI" : "MPICH";

    /// <summary>MPI_IN_PLACE: (void*)1 in Open MPI, (void*)−1 in MPICH.</summary>
    public static readonly nint InPlace = Loaded.IsOpenMpi ? 1 : -1;

    public static readonly nint CommWorld = Handle("ompi_mpi_comm_world", 0x44000000);
    public static readonly nint Float = Handle("ompi_mpi_float", 0x4c00040a);
    public static readonly nint Double = Handle("ompi_mpi_double", 0x4c00080b);
    public static readonly nint Byte = Handle("ompi_mpi_byte", 0x4c00010d);
    public static readonly nint Int64 = Handle("ompi_mpi_int64_t", 0x4c00083a);
    public static readonly nint Sum = Handle("ompi_mpi_op_sum", 0x58000003);
    public static readonly nint ErrorsReturn = Handle("ompi_mpi_errors_return", 0x54000001);

    /// <summary>Whether MPICH's process manager (Hydra, or a PMI-speaking one such as Slurm's) started this process.</summary>
    public static bool LaunchedByMpich => Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is null && Environment.GetEnvironmentVariable("PMI_SIZE") is not null;

    private static (nint, bool) Open()
    {
        string[] openMpi = ["libmpi.so.40", "libmpi.so"], mpich = ["libmpich.so.12", "libmpich.so"];
        foreach (string name in LaunchedByMpich ? mpich.Concat(openMpi) : openMpi.Concat(mpich))
        {
            nint handle = dlopen(name, RtldNow | RtldGlobal);
            if (handle == 0) continue;
            NativeLibrary.SetDllImportResolver(typeof(Mpi).Assembly, (library, _, _) => library == Library ? handle : 0);
            return (handle, NativeLibrary.TryGetExport(handle, "ompi_mpi_comm_world", out _));
        }
        throw new DllNotFoundException("neither Open MPI's libmpi.so.40 nor MPICH's libmpich.so.12 was found: install one (Debian: apt-get install openmpi-bin, or mpich) and start the run with its mpirun");
    }

    /// <summary>Open MPI's handle: the address of <paramref name="symbol"/>; MPICH's: <paramref name="mpich"/>, from its mpi.h.</summary>
    private static nint Handle(string symbol, int mpich) => !Loaded.IsOpenMpi ? mpich
        : NativeLibrary.TryGetExport(Loaded.Handle, symbol, out nint address) ? address
        : throw new EntryPointNotFoundException($"Open MPI's libmpi does not export '{symbol}'");

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
