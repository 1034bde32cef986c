using System.Numerics;

namespace Nerva;

/// <summary>
/// The matrix-operation vocabulary of seed 000 Table 1, under the same names in PascalCase.
/// Each operation has an allocating form that returns its result and, where layers need it in a
/// training step, a form that writes into a given <c>result</c> (resized to the right shape).
/// </summary>
/// <remarks>
/// Name map: <c>zeros</c> → <see cref="Zeros{T}(int,int)"/>, <c>ones</c> → <see cref="Ones{T}(int,int)"/>,
/// <c>identity</c> → <see cref="Identity{T}"/>, <c>X.T</c> → <see cref="Transpose{T}(Matrix{T})"/>,
/// <c>diag</c> → <see cref="Diag{T}"/>, <c>Diag</c> → <see cref="DiagMatrix{T}"/>,
/// <c>inverse</c>/<c>reciprocal</c> → <see cref="Reciprocal{T}(Matrix{T})"/>; the others keep their names.
/// </remarks>
public static partial class MatrixOperations
{
    /// <summary>0_m: an m×1 column vector of zeros.</summary>
    public static Matrix<T> Zeros<T>(int m) where T : unmanaged, IFloatingPointIeee754<T> => new(m, 1);

    /// <summary>0_mn: an m×n matrix of zeros.</summary>
    public static Matrix<T> Zeros<T>(int m, int n) where T : unmanaged, IFloatingPointIeee754<T> => new(m, n);

    /// <summary>1_m: an m×1 column vector of ones.</summary>
    public static Matrix<T> Ones<T>(int m) where T : unmanaged, IFloatingPointIeee754<T> => Ones<T>(m, 1);

    /// <summary>1_mn: an m×n matrix of ones.</summary>
    public static Matrix<T> Ones<T>(int m, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new Matrix<T>(m, n);
        result.Fill(T.One);
        return result;
    }

    /// <summary>𝕀_n: the n×n identity matrix.</summary>
    public static Matrix<T> Identity<T>(int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new Matrix<T>(n, n);
        for (int i = 0; i < n; i++) result[i, i] = T.One;
        return result;
    }

    /// <summary>Xᵀ, transposition.</summary>
    public static Matrix<T> Transpose<T>(Matrix<T> X) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new Matrix<T>(X.Cols, X.Rows);
        Transpose(X, result);
        return result;
    }

    /// <summary>result = Xᵀ.</summary>
    public static void Transpose<T>(Matrix<T> X, Matrix<T> result) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.Require(!ReferenceEquals(X, result), "Transpose", "the result cannot be the argument");
        result.Resize(X.Cols, X.Rows);
        for (int i = 0; i < X.Rows; i++)
        {
            var row = X.Row(i);
            for (int j = 0; j < row.Length; j++) result[j, i] = row[j];
        }
    }
}
