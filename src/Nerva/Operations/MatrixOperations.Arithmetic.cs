using System.Numerics;
using System.Runtime.InteropServices;

namespace Nerva;

public static partial class MatrixOperations
{
    /// <summary>X + Y.</summary>
    public static Matrix<T> Add<T>(Matrix<T> X, Matrix<T> Y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.Same("Add", X, Y);
        var result = X.Clone();
        var r = result.AsSpan();
        var y = Y.AsSpan();
        for (int k = 0; k < r.Length; k++) r[k] += y[k];
        return result;
    }

    /// <summary>X − Y.</summary>
    public static Matrix<T> Subtract<T>(Matrix<T> X, Matrix<T> Y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.Same("Subtract", X, Y);
        var result = X.Clone();
        var r = result.AsSpan();
        var y = Y.AsSpan();
        for (int k = 0; k < r.Length; k++) r[k] -= y[k];
        return result;
    }

    /// <summary>r = x − y element by element, a vector at a time (each element the same difference as a scalar loop's); r may be x or y.</summary>
    internal static void Subtract<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> r) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
            var vy = MemoryMarshal.Cast<T, Vector<T>>(y);
            var vr = MemoryMarshal.Cast<T, Vector<T>>(r);
            for (int v = 0; v < vr.Length; v++) vr[v] = vx[v] - vy[v];
            k = vr.Length * Vector<T>.Count;
        }
        for (; k < r.Length; k++) r[k] = x[k] - y[k];
    }

    /// <summary>cX, scalar multiplication.</summary>
    public static Matrix<T> Scale<T>(T c, Matrix<T> X) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = X.Clone();
        var r = result.AsSpan();
        for (int k = 0; k < r.Length; k++) r[k] *= c;
        return result;
    }

    /// <summary>X ⊙ Y, the element-wise product (<c>hadamard(X, Y)</c>).</summary>
    public static Matrix<T> Hadamard<T>(Matrix<T> X, Matrix<T> Y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new Matrix<T>(X.Rows, X.Cols);
        Hadamard(X, Y, result);
        return result;
    }

    /// <summary>result = X ⊙ Y; result may be X or Y.</summary>
    public static void Hadamard<T>(Matrix<T> X, Matrix<T> Y, Matrix<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.Same("Hadamard", X, Y);
        result.Resize(X.Rows, X.Cols);
        Hadamard(X.AsSpan(), Y.AsSpan(), result.AsSpan());
    }

    /// <summary>r = x ⊙ y element by element, a vector at a time (each element the same product as a scalar loop's); r may be x or y.</summary>
    internal static void Hadamard<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> r) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int k = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
            var vy = MemoryMarshal.Cast<T, Vector<T>>(y);
            var vr = MemoryMarshal.Cast<T, Vector<T>>(r);
            for (int v = 0; v < vr.Length; v++) vr[v] = vx[v] * vy[v];
            k = vr.Length * Vector<T>.Count;
        }
        for (; k < r.Length; k++) r[k] = x[k] * y[k];
    }

    /// <summary>
    /// dot(x, y) = x·yᵀ for row vectors or xᵀ·y for column vectors (seed 000 Table 1).
    /// </summary>
    public static T Dot<T>(Matrix<T> x, Matrix<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.Same("Dot", x, y);
        Shapes.Require(x.Rows == 1 || x.Cols == 1, "Dot", $"expected two row or two column vectors, got {x.Shape} and {y.Shape}");
        var a = x.AsSpan();
        var b = y.AsSpan();
        T sum = T.Zero;
        for (int k = 0; k < a.Length; k++) sum += a[k] * b[k];
        return sum;
    }
}
