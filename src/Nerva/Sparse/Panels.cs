using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Nerva.Sparse;

/// <summary>
/// A batch in transposed panels, the layout of <see cref="SparseProducts"/>: <see cref="Count"/> panels, each
/// <see cref="Rows"/> rows of <see cref="Width"/> lanes, <see cref="Vectors"/> 64-byte vectors (16 floats) each:
/// element [p, row, lane] is sample p·Width + lane of feature <c>row</c>. Every row starts on a 64-byte boundary,
/// so a row gathered by a sparse product is whole cache lines (bench: a 65 536-row gather of one line 1.15–1.3×
/// faster than of a line that straddles two).
/// </summary>
/// <remarks>
/// The storage is allocated on the pinned object heap, where it never moves, so its alignment holds; it is reused
/// by <see cref="Resize"/> whenever it is large enough. Contents are unspecified after a resize.
/// </remarks>
public sealed class Panels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _data = [];
    private int _offset;

    /// <summary>The lanes of one 64-byte vector: 16 floats, 8 doubles.</summary>
    public static int Lanes => Vector512<T>.Count;

    /// <summary>The 64-byte vectors of one row (1 to 8).</summary>
    public int Vectors { get; private set; } = 1;

    /// <summary>The lanes (samples) of one row: <see cref="Vectors"/> · <see cref="Lanes"/>.</summary>
    public int Width => Vectors * Lanes;

    /// <summary>P, the number of panels.</summary>
    public int Count { get; private set; }

    /// <summary>The rows of each panel (the features D of Xᵀ, or the outputs K of Zᵀ).</summary>
    public int Rows { get; private set; }

    /// <summary>
    /// Makes this <paramref name="count"/> panels of <paramref name="rows"/> rows of <paramref name="vectors"/> vectors,
    /// reusing the storage when it is large enough.
    /// </summary>
    public void Resize(int count, int rows, int vectors)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (vectors is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(vectors), $"a panel row holds 1 to 8 vectors, got {vectors}");
        long length = (long)count * rows * vectors * Lanes;
        if (length > Array.MaxLength - Lanes) throw new ArgumentException($"{count} panels of {rows} rows × {vectors * Lanes} are too large for one array");
        if (_data.Length - _offset < length)
        {
            _data = GC.AllocateUninitializedArray<T>((int)length + Lanes, pinned: true);
            _offset = AlignmentOffset(_data);
        }
        Count = count;
        Rows = rows;
        Vectors = vectors;
    }

    /// <summary>All panels, panel after panel, row after row.</summary>
    public Span<T> AsSpan() => _data.AsSpan(_offset, Count * Rows * Width);

    /// <summary>Panel <paramref name="p"/>: Rows × Width elements.</summary>
    public Span<T> Panel(int p)
    {
        if ((uint)p >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(p), $"panel {p} of {Count}");
        return _data.AsSpan(_offset + p * Rows * Width, Rows * Width);
    }

    /// <summary>Element [p, row, lane]: feature <paramref name="row"/> of sample p·Width + lane.</summary>
    public T this[int p, int row, int lane]
    {
        get => Panel(p)[Index(row, lane)];
        set => Panel(p)[Index(row, lane)] = value;
    }

    /// <summary>The shape as text, e.g. "7×3072×16", for error messages.</summary>
    public string Shape => $"{Count}×{Rows}×{Width}";

    private int Index(int row, int lane)
    {
        if ((uint)row >= (uint)Rows || (uint)lane >= (uint)Width) throw new ArgumentOutOfRangeException(nameof(row), $"row {row}, lane {lane} of {Shape}");
        return row * Width + lane;
    }

    /// <summary>Elements from the array's start to its first 64-byte boundary (a pinned array: it never moves, so the offset holds).</summary>
    internal static unsafe int AlignmentOffset(T[] data)
    {
        if (data.Length == 0) return 0;
        long address = (long)Unsafe.AsPointer(ref data[0]);
        return (int)((64 - address % 64) % 64 / sizeof(T));
    }
}
