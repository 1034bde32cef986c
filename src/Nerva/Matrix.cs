using System.Globalization;
using System.Numerics;
using System.Text;

namespace Nerva;

/// <summary>
/// A dense row-major matrix (seed 000 §2: data in row layout, one example per row).
/// Float is used for training, double for verification; both run the same generic code.
/// </summary>
/// <remarks>
/// The storage can be larger than <see cref="Rows"/>·<see cref="Cols"/>: <see cref="Resize"/> reuses it
/// whenever it is big enough, so a smaller last batch does not allocate.
/// </remarks>
public sealed class Matrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private T[] _data;

    /// <summary>Creates a rows × cols matrix of zeros.</summary>
    public Matrix(int rows, int cols)
    {
        CheckShape(rows, cols);
        Rows = rows;
        Cols = cols;
        _data = rows * cols == 0 ? [] : new T[rows * cols];
    }

    /// <summary>Wraps <paramref name="data"/> (row-major, at least rows·cols elements) without copying.</summary>
    public Matrix(int rows, int cols, T[] data)
    {
        CheckShape(rows, cols);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length < rows * cols)
            throw new ArgumentException($"a {rows}×{cols} matrix needs {rows * cols} elements, the array has {data.Length}", nameof(data));
        Rows = rows;
        Cols = cols;
        _data = data;
    }

    /// <summary>Number of rows (m in seed 000 Table 1; the batch size N for layer inputs).</summary>
    public int Rows { get; private set; }

    /// <summary>Number of columns (n in seed 000 Table 1).</summary>
    public int Cols { get; private set; }

    /// <summary>Rows·Cols.</summary>
    public int Length => Rows * Cols;

    /// <summary>The shape as text, e.g. "100×784", for error messages.</summary>
    public string Shape => $"{Rows}×{Cols}";

    /// <summary>The elements in row-major order.</summary>
    public Span<T> AsSpan() => _data.AsSpan(0, Rows * Cols);

    /// <summary>The elements in row-major order as memory (for operations that outlive a call, such as a started all-reduce).</summary>
    public Memory<T> AsMemory() => _data.AsMemory(0, Rows * Cols);

    /// <summary>Row <paramref name="i"/> as a span.</summary>
    public Span<T> Row(int i)
    {
        if ((uint)i >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(i), $"row {i} of a {Shape} matrix");
        return _data.AsSpan(i * Cols, Cols);
    }

    /// <summary>Element (i, j), zero-based.</summary>
    public ref T this[int i, int j]
    {
        get
        {
            if ((uint)i >= (uint)Rows || (uint)j >= (uint)Cols)
                throw new ArgumentOutOfRangeException(nameof(i), $"element ({i}, {j}) of a {Shape} matrix");
            return ref _data[i * Cols + j];
        }
    }

    /// <summary>
    /// Gives the matrix the shape rows × cols, reusing the storage when it is large enough. The contents
    /// are unspecified afterwards (callers overwrite them).
    /// </summary>
    public void Resize(int rows, int cols)
    {
        CheckShape(rows, cols);
        if (rows * cols > _data.Length) _data = new T[rows * cols];
        Rows = rows;
        Cols = cols;
    }

    /// <summary>A copy with its own storage.</summary>
    public Matrix<T> Clone()
    {
        var result = new Matrix<T>(Rows, Cols);
        AsSpan().CopyTo(result.AsSpan());
        return result;
    }

    /// <summary>Copies this matrix into <paramref name="result"/>, which takes this shape.</summary>
    public void CopyTo(Matrix<T> result)
    {
        result.Resize(Rows, Cols);
        AsSpan().CopyTo(result.AsSpan());
    }

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public void Fill(T value) => AsSpan().Fill(value);

    /// <summary>A matrix from nested arrays of doubles, one inner array per row (for tests and examples).</summary>
    public static Matrix<T> FromRows(params double[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        int m = rows.Length, n = m == 0 ? 0 : rows[0].Length;
        var result = new Matrix<T>(m, n);
        for (int i = 0; i < m; i++)
        {
            if (rows[i].Length != n) throw new ArgumentException($"row {i} has {rows[i].Length} elements, row 0 has {n}", nameof(rows));
            for (int j = 0; j < n; j++) result[i, j] = T.CreateChecked(rows[i][j]);
        }
        return result;
    }

    /// <summary>This matrix converted element-wise to another scalar type.</summary>
    public Matrix<TOther> Convert<TOther>() where TOther : unmanaged, IFloatingPointIeee754<TOther>
    {
        var result = new Matrix<TOther>(Rows, Cols);
        var source = AsSpan();
        var target = result.AsSpan();
        for (int k = 0; k < source.Length; k++) target[k] = TOther.CreateChecked(source[k]);
        return result;
    }

    /// <summary>X + Y (seed 000 Table 1); allocates.</summary>
    public static Matrix<T> operator +(Matrix<T> X, Matrix<T> Y) => MatrixOperations.Add(X, Y);

    /// <summary>X − Y (seed 000 Table 1); allocates.</summary>
    public static Matrix<T> operator -(Matrix<T> X, Matrix<T> Y) => MatrixOperations.Subtract(X, Y);

    /// <summary>cX, scalar multiplication (seed 000 Table 1); allocates.</summary>
    public static Matrix<T> operator *(T c, Matrix<T> X) => MatrixOperations.Scale(c, X);

    /// <summary>X·Z, the matrix product (seed 000 Table 1, code <c>X * Z</c>); allocates.</summary>
    public static Matrix<T> operator *(Matrix<T> X, Matrix<T> Z) => MatrixOperations.Product(X, Z);

    /// <summary>The matrix in NumPy-like text, for diagnostics.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append('[');
        for (int i = 0; i < Rows; i++)
        {
            if (i > 0) text.Append(",\n ");
            text.Append('[');
            for (int j = 0; j < Cols; j++)
            {
                if (j > 0) text.Append(", ");
                text.Append(double.CreateChecked(_data[i * Cols + j]).ToString("G9", CultureInfo.InvariantCulture));
            }
            text.Append(']');
        }
        return text.Append(']').ToString();
    }

    private static void CheckShape(int rows, int cols)
    {
        if (rows < 0 || cols < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"a matrix cannot have shape {rows}×{cols}");
        if ((long)rows * cols > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(rows), $"a {rows}×{cols} matrix is too large");
    }
}
