using System.Numerics;

namespace Nerva;

public static partial class MatrixOperations
{
    /// <summary>diag(X): the column vector that holds the diagonal of the square matrix X.</summary>
    public static Matrix<T> Diag<T>(Matrix<T> X) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.Require(X.Rows == X.Cols, "Diag", $"expected a square matrix, got {X.Shape}");
        var result = new Matrix<T>(X.Rows, 1);
        for (int i = 0; i < X.Rows; i++) result[i, 0] = X[i, i];
        return result;
    }

    /// <summary>Diag(x): the diagonal matrix with the row or column vector x as its diagonal.</summary>
    public static Matrix<T> DiagMatrix<T>(Matrix<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.Require(x.Rows == 1 || x.Cols == 1, "DiagMatrix", $"expected a row or column vector, got {x.Shape}");
        var values = x.AsSpan();
        var result = new Matrix<T>(values.Length, values.Length);
        for (int i = 0; i < values.Length; i++) result[i, i] = values[i];
        return result;
    }
}
