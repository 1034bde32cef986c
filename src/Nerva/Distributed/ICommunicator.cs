using System.Numerics;
using System.Runtime.InteropServices;

namespace Nerva.Distributed;

/// <summary>
/// The processes (ranks) of a data-parallel run and the collective operations training needs. Every rank calls each
/// operation in the same order; <see cref="SingleProcess"/> is the one-process default, and the <c>Nerva.Distributed</c>
/// package gives one over MPI.
/// </summary>
public interface ICommunicator
{
    /// <summary>This process's number, 0 … <see cref="Size"/> − 1.</summary>
    int Rank { get; }

    /// <summary>The number of processes.</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="values"/> on every rank with their elementwise sum over the ranks.</summary>
    void AllReduceSum(Span<float> values);

    /// <summary>Replaces <paramref name="values"/> on every rank with their elementwise sum over the ranks.</summary>
    void AllReduceSum(Span<double> values);

    /// <summary>
    /// Starts replacing <paramref name="values"/> with their elementwise sum over the ranks and may return before it is
    /// done, so that computing goes on while the ranks exchange (gradients summed during backpropagation, as DDP and
    /// Horovod do); <see cref="WaitAll"/> completes it. <paramref name="values"/> must be neither read nor written until
    /// then. Every rank starts the same sums in the same order, and they complete in that order, interleaved with the
    /// blocking operations in the order they were called. The default sums at once.
    /// </summary>
    void StartAllReduceSum(Memory<float> values) => AllReduceSum(values.Span);

    /// <summary>Returns once every sum started by <see cref="StartAllReduceSum"/> is complete; throws a failure of one of them.</summary>
    void WaitAll()
    {
    }

    /// <summary>Gives every rank <paramref name="values"/> as rank <paramref name="root"/> holds them.</summary>
    void Broadcast(Span<byte> values, int root);

    /// <summary>Every rank's <paramref name="mine"/> (the same length on each), rank by rank, in <paramref name="all"/> (Size × mine.Length).</summary>
    void AllGather(ReadOnlySpan<long> mine, Span<long> all);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();

    /// <summary>Ends every rank of the run now, with <paramref name="exitCode"/> (a failed rank must not leave the others waiting).</summary>
    void Abort(int exitCode);
}

/// <summary>One process: every collective operation is the identity.</summary>
public sealed class SingleProcess : ICommunicator
{
    /// <summary>The one instance.</summary>
    public static SingleProcess Instance { get; } = new();

    private SingleProcess()
    {
    }

    /// <inheritdoc/>
    public int Rank => 0;

    /// <inheritdoc/>
    public int Size => 1;

    /// <inheritdoc/>
    public void AllReduceSum(Span<float> values)
    {
    }

    /// <inheritdoc/>
    public void AllReduceSum(Span<double> values)
    {
    }

    /// <inheritdoc/>
    public void Broadcast(Span<byte> values, int root) => ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);

    /// <inheritdoc/>
    public void AllGather(ReadOnlySpan<long> mine, Span<long> all) => mine.CopyTo(all);

    /// <inheritdoc/>
    public void Barrier()
    {
    }

    /// <inheritdoc/>
    public void Abort(int exitCode) => Environment.Exit(exitCode);
}

/// <summary>The generic sum the layers (written for any scalar type) call.</summary>
internal static class CommunicatorExtensions
{
    /// <summary>The elementwise sum over the ranks of a float or double span.</summary>
    public static void SumOverRanks<T>(this ICommunicator communicator, Span<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (communicator.Size == 1) return;
        if (typeof(T) == typeof(float)) communicator.AllReduceSum(MemoryMarshal.Cast<T, float>(values));
        else if (typeof(T) == typeof(double)) communicator.AllReduceSum(MemoryMarshal.Cast<T, double>(values));
        else throw new NotSupportedException($"distributed training sums float or double, not {typeof(T).Name}");
    }
}
