using System.Numerics;
using Nerva.Kernels;

namespace Nerva;

public static partial class MatrixOperations
{
    /// <summary>X·Z, the matrix product; allocates.</summary>
    public static Matrix<T> Product<T>(Matrix<T> X, Matrix<T> Z) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new Matrix<T>(X.Rows, Z.Cols);
        Product(X, Z, result);
        return result;
    }

    /// <summary>
    /// result = op(A)·op(B), where op transposes when asked, without forming the transpose. This is the
    /// only entry to <see cref="IGemm{T}"/>; the training products are X·Wᵀ, DZᵀ·X and DZ·W.
    /// </summary>
    public static void Product<T>(Matrix<T> A, Matrix<T> B, Matrix<T> result, bool transposeA = false, bool transposeB = false)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int m = transposeA ? A.Cols : A.Rows, k = transposeA ? A.Rows : A.Cols;
        int kB = transposeB ? B.Cols : B.Rows, n = transposeB ? B.Rows : B.Cols;
        if (k != kB)
        {
            string a = transposeA ? $"{A.Shape} (transposed)" : A.Shape, b = transposeB ? $"{B.Shape} (transposed)" : B.Shape;
            throw new ArgumentException($"Product: shapes {a} and {b} do not match (inner dimensions {k} and {kB})");
        }
        Shapes.Require(!ReferenceEquals(A, result) && !ReferenceEquals(B, result), "Product", "the result cannot be an operand");
        result.Resize(m, n);
        Kernels<T>.Gemm.Multiply(transposeA, transposeB, m, n, k, A.AsSpan(), B.AsSpan(), result.AsSpan());
    }
}
