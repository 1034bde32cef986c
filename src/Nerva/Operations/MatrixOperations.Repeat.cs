using System.Numerics;

namespace Nerva;

public static partial class MatrixOperations
{
    /// <summary>column_repeat(x, n) = x·1_nᵀ: n copies of the m×1 column vector x.</summary>
    public static Matrix<T> ColumnRepeat<T>(Matrix<T> x, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.Require(x.Cols == 1, "ColumnRepeat", $"expected a column vector, got {x.Shape}");
        var result = new Matrix<T>(x.Rows, n);
        for (int i = 0; i < x.Rows; i++) result.Row(i).Fill(x[i, 0]);
        return result;
    }

    /// <summary>row_repeat(x, m) = 1_m·x: m copies of the 1×n row vector x.</summary>
    public static Matrix<T> RowRepeat<T>(Matrix<T> x, int m) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.Require(x.Rows == 1, "RowRepeat", $"expected a row vector, got {x.Shape}");
        var result = new Matrix<T>(m, x.Cols);
        for (int i = 0; i < m; i++) x.AsSpan().CopyTo(result.Row(i));
        return result;
    }

    /// <summary>Z = Z + row_repeat(b, N), in place: adds the 1×n row vector b to every row of Z.</summary>
    public static void AddRowRepeat<T>(Matrix<T> Z, Matrix<T> b) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.RowVector("AddRowRepeat", b, Z.Cols);
        var bias = b.AsSpan();
        for (int i = 0; i < Z.Rows; i++)
        {
            var row = Z.Row(i);
            for (int j = 0; j < row.Length; j++) row[j] += bias[j];
        }
    }
}
