using System.Runtime.InteropServices;

namespace Nerva.Distributed;

/// <summary>
/// The ranks of an <c>mpirun</c> job (MPI_COMM_WORLD) as an <see cref="ICommunicator"/>: in-place all-reduce of float and
/// double sums, broadcast, all-gather, barrier and abort over Open MPI. MPI is initialised (MPI_THREAD_FUNNELED) by the
/// constructor and finalised by <see cref="Dispose"/>; errors are returned (MPI_ERRORS_RETURN) and thrown as one-line
/// <see cref="MpiException"/>s naming the call. Only the thread that created it may call it.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator, IDisposable
{
    /// <summary>The most elements one MPI call takes (its counts are int): larger spans go in chunks of this size.</summary>
    private const int Chunk = 1 << 28;

    /// <summary>
    /// The bytes of one all-reduce call: a larger span is summed a megabyte at a time, which stays in the caches (2 ranks
    /// here: 8.1 GB/s for 1 MB calls against 3.6 GB/s for one 16 MB call, <c>Nerva.Bench allreduce</c>).
    /// </summary>
    private const int AllReduceBytes = 1 << 20;

    private bool _disposed;

    /// <summary>Initialises MPI (unless it already is) and joins MPI_COMM_WORLD.</summary>
    public MpiCommunicator()
    {
        int initialized, provided, rank, size;
        Mpi.Check(Mpi.Initialized(&initialized), "MPI_Initialized");
        if (initialized == 0) Mpi.Check(Mpi.Init_thread(null, null, Mpi.ThreadFunneled, &provided), "MPI_Init_thread");
        Mpi.Check(Mpi.Comm_set_errhandler(Mpi.CommWorld, Mpi.ErrorsReturn), "MPI_Comm_set_errhandler");
        Mpi.Check(Mpi.Comm_rank(Mpi.CommWorld, &rank), "MPI_Comm_rank");
        Mpi.Check(Mpi.Comm_size(Mpi.CommWorld, &size), "MPI_Comm_size");
        (Rank, Size) = (rank, size);
    }

    /// <summary>Whether this process was started by a launcher (Open MPI's mpirun, or a Slurm/PMIx one) with more than one rank.</summary>
    public static bool Launched => int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") ?? Environment.GetEnvironmentVariable("PMIX_SIZE"), out int size) && size > 1;

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <inheritdoc/>
    public void AllReduceSum(Span<float> values) => AllReduce(MemoryMarshal.AsBytes(values), sizeof(float), Mpi.Float, AllReduceBytes);

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> values) => AllReduce(MemoryMarshal.AsBytes(values), sizeof(double), Mpi.Double, AllReduceBytes);

    /// <summary>The float sum in calls of at most <paramref name="chunkBytes"/> bytes (the benchmark compares chunk sizes).</summary>
    internal void AllReduceSum(Span<float> values, int chunkBytes) => AllReduce(MemoryMarshal.AsBytes(values), sizeof(float), Mpi.Float, chunkBytes);

    private void AllReduce(Span<byte> bytes, int size, nint datatype, int chunkBytes)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int chunk = Math.Min(chunkBytes / size, Chunk);
        fixed (byte* start = bytes)
            for (long at = 0, count = bytes.Length / size; at < count; at += chunk)
                Mpi.Check(Mpi.Allreduce((void*)Mpi.InPlace, start + at * size, (int)Math.Min(chunk, count - at), datatype, Mpi.Sum, Mpi.CommWorld), "MPI_Allreduce");
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> values, int root)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        fixed (byte* start = values)
            for (int at = 0; at < values.Length; at += Chunk)
                Mpi.Check(Mpi.Bcast(start + at, Math.Min(Chunk, values.Length - at), Mpi.Byte, root, Mpi.CommWorld), "MPI_Bcast");
    }

    /// <inheritdoc/>
    public void AllGather(ReadOnlySpan<long> mine, Span<long> all)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (all.Length != (long)mine.Length * Size) throw new ArgumentException($"all-gather: {Size} ranks of {mine.Length} values need {mine.Length * (long)Size}, got {all.Length}", nameof(all));
        fixed (long* send = mine)
        fixed (long* receive = all)
            Mpi.Check(Mpi.Allgather(send, mine.Length, Mpi.Int64, receive, mine.Length, Mpi.Int64, Mpi.CommWorld), "MPI_Allgather");
    }

    /// <inheritdoc/>
    public void Barrier()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Mpi.Check(Mpi.Barrier(Mpi.CommWorld), "MPI_Barrier");
    }

    /// <inheritdoc/>
    public void Abort(int exitCode)
    {
        Mpi.Abort(Mpi.CommWorld, exitCode);
        Environment.Exit(exitCode);   // MPI_Abort does not return; if it did, this rank still ends
    }

    /// <summary>Finalises MPI (every rank must, after its last collective call).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        int finalized;
        if (Mpi.Finalized(&finalized) == 0 && finalized == 0) Mpi.Finalize();
    }
}
