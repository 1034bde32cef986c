using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace Nerva.Distributed;

/// <summary>
/// The ranks of an <c>mpirun</c> job (MPI_COMM_WORLD) as an <see cref="ICommunicator"/>, over Open MPI or MPICH:
/// in-place all-reduce of float and double sums (blocking, or started and completed later), broadcast, all-gather,
/// barrier and abort. MPI calls run one after another in the order they were made, on a thread of the communicator's own
/// (which initialises MPI with MPI_THREAD_SERIALIZED and finalises it in <see cref="Dispose"/>), so that a started sum
/// goes on while the caller computes; a blocking call, and a wait, run the calls not begun yet on the caller's thread
/// when the MPI thread is idle (no hand-over). Errors are returned (MPI_ERRORS_RETURN) and thrown as one-line
/// <see cref="MpiException"/>s naming the call. One thread at a time may use it.
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

    private readonly Thread _thread;
    private readonly Queue<Action?> _queue = new();   // null: finalise and end the thread; its lock guards the fields below
    private readonly AutoResetEvent _work = new(false);  // wakes the MPI thread (callers waiting on the lock are pulsed, it is not)
    private int _unfinished;                          // calls queued or running
    private bool _running;                            // a call is running (on the MPI thread or a waiting caller's)
    private Exception? _failure;                      // the first failed call since the last wait
    private bool _disposed;

    /// <summary>Initialises MPI (unless it already is) and joins MPI_COMM_WORLD.</summary>
    public MpiCommunicator()
    {
        (_unfinished, _running) = (1, true);   // the MPI thread's initialisation
        _thread = new Thread(Serve) { IsBackground = true, Name = "MPI" };
        _thread.Start();
        WaitAll();
    }

    /// <summary>Whether this process was started by a launcher (Open MPI's mpirun, MPICH's Hydra, or a PMIx or PMI one such as Slurm's) with more than one rank.</summary>
    public static bool Launched => int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") ?? Environment.GetEnvironmentVariable("PMIX_SIZE") ?? Environment.GetEnvironmentVariable("PMI_SIZE"), out int size) && size > 1;

    /// <summary>The MPI library this process uses: "Open MPI" or "MPICH".</summary>
    public static string Library => Mpi.Name;

    /// <inheritdoc/>
    public int Rank { get; private set; }

    /// <inheritdoc/>
    public int Size { get; private set; }

    /// <inheritdoc/>
    public void AllReduceSum(Span<float> values) => AllReduceSum(MemoryMarshal.AsBytes(values), sizeof(float), Mpi.Float, AllReduceBytes);

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> values) => AllReduceSum(MemoryMarshal.AsBytes(values), sizeof(double), Mpi.Double, AllReduceBytes);

    /// <summary>The float sum in calls of at most <paramref name="chunkBytes"/> bytes (the benchmark compares chunk sizes).</summary>
    internal void AllReduceSum(Span<float> values, int chunkBytes) => AllReduceSum(MemoryMarshal.AsBytes(values), sizeof(float), Mpi.Float, chunkBytes);

    /// <inheritdoc/>
    public void StartAllReduceSum(Memory<float> values)
    {
        var pinned = values.Pin();
        long count = values.Length;
        nint start = (nint)pinned.Pointer;
        Post(() =>
        {
            using (pinned) AllReduce((byte*)start, count, sizeof(float), Mpi.Float, AllReduceBytes);
        });
    }

    /// <inheritdoc/>
    public void WaitAll()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Exception? failure;
        lock (_queue)
        {
            // the calls not begun yet run here when the MPI thread is busy with none (no hand-over to wait for)
            while (_unfinished > 0)
                if (!_running && _queue.TryPeek(out var work) && work is not null) RunNext();
                else Monitor.Wait(_queue);
            (failure, _failure) = (_failure, null);
        }
        // the failure as it was met (a missing library: the DllNotFoundException inside Mpi's type initializer)
        if (failure is not null) ExceptionDispatchInfo.Throw(failure is TypeInitializationException { InnerException: { } inner } ? inner : failure);
    }

    private void AllReduceSum(Span<byte> bytes, int size, nint datatype, int chunkBytes)
    {
        fixed (byte* start = bytes)
        {
            nint at = (nint)start;
            long count = bytes.Length / size;
            Call(() => AllReduce((byte*)at, count, size, datatype, chunkBytes));
        }
    }

    /// <summary>On the MPI thread: the in-place sum of <paramref name="count"/> elements at <paramref name="start"/>, in calls of at most <paramref name="chunkBytes"/> bytes.</summary>
    private static void AllReduce(byte* start, long count, int size, nint datatype, int chunkBytes)
    {
        int chunk = Math.Min(chunkBytes / size, Chunk);
        for (long at = 0; at < count; at += chunk)
            Mpi.Check(Mpi.Allreduce((void*)Mpi.InPlace, start + at * size, (int)Math.Min(chunk, count - at), datatype, Mpi.Sum, Mpi.CommWorld), "MPI_Allreduce");
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> values, int root)
    {
        fixed (byte* pointer = values)
        {
            nint start = (nint)pointer;
            int length = values.Length;
            Call(() =>
            {
                for (int at = 0; at < length; at += Chunk)
                    Mpi.Check(Mpi.Bcast((byte*)start + at, Math.Min(Chunk, length - at), Mpi.Byte, root, Mpi.CommWorld), "MPI_Bcast");
            });
        }
    }

    /// <inheritdoc/>
    public void AllGather(ReadOnlySpan<long> mine, Span<long> all)
    {
        if (all.Length != (long)mine.Length * Size) throw new ArgumentException($"all-gather: {Size} ranks of {mine.Length} values need {mine.Length * (long)Size}, got {all.Length}", nameof(all));
        fixed (long* send = mine)
        fixed (long* receive = all)
        {
            (nint s, nint r, int count) = ((nint)send, (nint)receive, mine.Length);
            Call(() => Mpi.Check(Mpi.Allgather((long*)s, count, Mpi.Int64, (long*)r, count, Mpi.Int64, Mpi.CommWorld), "MPI_Allgather"));
        }
    }

    /// <inheritdoc/>
    public void Barrier() => Call(() => Mpi.Check(Mpi.Barrier(Mpi.CommWorld), "MPI_Barrier"));

    /// <summary>
    /// Ends every rank of the job (MPI_Abort) from the calling thread, at once: the MPI thread may be waiting inside a
    /// collective call for a rank that failed, and is not waited for.
    /// </summary>
    public void Abort(int exitCode)
    {
        Mpi.Abort(Mpi.CommWorld, exitCode);
        Environment.Exit(exitCode);   // MPI_Abort does not return; if it did, this rank still ends
    }

    /// <summary>Finalises MPI (every rank must, after its last collective call) and ends the MPI thread.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        lock (_queue) _queue.Enqueue(null);
        _work.Set();
        _thread.Join();
        _work.Dispose();
        _disposed = true;
    }

    /// <summary>Queues <paramref name="work"/> and returns; <paramref name="wake"/>: wakes the MPI thread to run it (a started sum).</summary>
    private void Post(Action work, bool wake = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_queue)
        {
            _queue.Enqueue(work);
            _unfinished++;
        }
        if (wake) _work.Set();
    }

    /// <summary>
    /// Runs <paramref name="work"/> after every call queued before it, and waits for it: on this thread when the MPI thread
    /// is idle (it is not woken: waking it would cost a switch of the core, ~20 µs per call, for nothing), or on the MPI
    /// thread when it is busy with earlier calls and goes on to this one.
    /// </summary>
    private void Call(Action work)
    {
        Post(work, wake: false);
        WaitAll();
    }

    /// <summary>
    /// The MPI thread: initialises MPI, runs the queued calls in order (unless a waiting caller has taken them: MPI_THREAD_SERIALIZED
    /// allows any thread, one at a time), and finalises MPI on the thread that initialised it, as the standard asks.
    /// </summary>
    private void Serve()
    {
        Exception? failure = null;
        try
        {
            int initialized, provided = 0, rank, size;
            Mpi.Check(Mpi.Initialized(&initialized), "MPI_Initialized");
            if (initialized == 0) Mpi.Check(Mpi.Init_thread(null, null, Mpi.ThreadSerialized, &provided), "MPI_Init_thread");
            if (initialized == 0 && provided < Mpi.ThreadSerialized)
                throw new MpiException($"MPI_Init_thread: this MPI library gives thread level {provided}; the communicator needs MPI_THREAD_SERIALIZED ({Mpi.ThreadSerialized})");
            Mpi.Check(Mpi.Comm_set_errhandler(Mpi.CommWorld, Mpi.ErrorsReturn), "MPI_Comm_set_errhandler");
            Mpi.Check(Mpi.Comm_rank(Mpi.CommWorld, &rank), "MPI_Comm_rank");
            Mpi.Check(Mpi.Comm_size(Mpi.CommWorld, &size), "MPI_Comm_size");
            (Rank, Size) = (rank, size);
        }
        catch (Exception e)
        {
            failure = e;
        }
        lock (_queue) Done(failure);
        while (true)
        {
            lock (_queue)
            {
                if (!_running && _queue.TryPeek(out var work))
                {
                    if (work is null) break;
                    RunNext();
                    continue;
                }
            }
            _work.WaitOne();
        }
        int finalized;
        if (Mpi.Finalized(&finalized) == 0 && finalized == 0) Mpi.Finalize();
    }

    /// <summary>With the queue's lock held and no call running: runs the first queued call outside the lock.</summary>
    private void RunNext()
    {
        var work = _queue.Dequeue()!;
        _running = true;
        Exception? failure = null;
        Monitor.Exit(_queue);
        try
        {
            work();
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            Monitor.Enter(_queue);
            Done(failure);
        }
    }

    /// <summary>With the queue's lock held: the running call has ended (its failure kept for the next wait).</summary>
    private void Done(Exception? failure)
    {
        _failure ??= failure;
        _running = false;
        _unfinished--;
        Monitor.PulseAll(_queue);
    }
}
