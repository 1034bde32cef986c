using System.Numerics;

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
        var x = X.AsSpan();
        var y = Y.AsSpan();
        var r = result.AsSpan();
        for (int k = 0; k < r.Length; k++) r[k] = x[k] * y[k];
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
