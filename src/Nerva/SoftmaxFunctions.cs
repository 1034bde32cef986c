using System.Numerics;

namespace Nerva;

/// <summary>
/// The softmax functions of seed 000 §5.1, row-wise on a batch X ∈ ℝ^{N×D} (a vector is a 1×D matrix),
/// and their Jacobians (26) and (27) for a single row.
/// </summary>
public static class SoftmaxFunctions
{
    /// <summary>softmax(X) = e^X ⊙ (1/(e^X·1_D)·1_Dᵀ). Overflows for large inputs; see <see cref="StableSoftmax{T}(Matrix{T})"/>.</summary>
    public static Matrix<T> Softmax<T>(Matrix<T> X) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var Y = new Matrix<T>(X.Rows, X.Cols);
        for (int i = 0; i < X.Rows; i++) SoftmaxRow(X.Row(i), Y.Row(i), shift: T.Zero);
        return Y;
    }

    /// <summary>stable-softmax(X) = e^Z ⊙ (1/(e^Z·1_D)·1_Dᵀ) with Z = X − max(X)_row·1_Dᵀ.</summary>
    public static Matrix<T> StableSoftmax<T>(Matrix<T> X) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var Y = new Matrix<T>(X.Rows, X.Cols);
        StableSoftmax(X, Y);
        return Y;
    }

    /// <summary>Y = stable-softmax(X), row-wise.</summary>
    public static void StableSoftmax<T>(Matrix<T> X, Matrix<T> Y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Y.Resize(X.Rows, X.Cols);
        for (int i = 0; i < X.Rows; i++)
        {
            var x = X.Row(i);
            SoftmaxRow(x, Y.Row(i), MatrixOperations.RowMax<T>(x));
        }
    }

    /// <summary>log-softmax(X) = X − log(e^X·1_D)·1_Dᵀ. Overflows for large inputs.</summary>
    public static Matrix<T> LogSoftmax<T>(Matrix<T> X) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var Y = new Matrix<T>(X.Rows, X.Cols);
        for (int i = 0; i < X.Rows; i++) LogSoftmaxRow(X.Row(i), Y.Row(i), shift: T.Zero);
        return Y;
    }

    /// <summary>stable-log-softmax(X) = Z − log(e^Z·1_D)·1_Dᵀ with Z = X − max(X)_row·1_Dᵀ.</summary>
    public static Matrix<T> StableLogSoftmax<T>(Matrix<T> X) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var Y = new Matrix<T>(X.Rows, X.Cols);
        StableLogSoftmax(X, Y);
        return Y;
    }

    /// <summary>Y = stable-log-softmax(X), row-wise.</summary>
    public static void StableLogSoftmax<T>(Matrix<T> X, Matrix<T> Y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Y.Resize(X.Rows, X.Cols);
        for (int i = 0; i < X.Rows; i++)
        {
            var x = X.Row(i);
            LogSoftmaxRow(x, Y.Row(i), MatrixOperations.RowMax<T>(x));
        }
    }

    /// <summary>Equation (26): ∂softmax(x)/∂x = Diag(softmax(x)) − softmax(x)ᵀ·softmax(x), for a 1×D row x.</summary>
    public static Matrix<T> SoftmaxJacobian<T>(Matrix<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.Require(x.Rows == 1, "SoftmaxJacobian", $"expected a row vector, got {x.Shape}");
        var y = StableSoftmax(x);
        return MatrixOperations.DiagMatrix(y) - MatrixOperations.Transpose(y) * y;
    }

    /// <summary>Equation (27): ∂log-softmax(x)/∂x = 𝕀_D − 1_D·softmax(x), for a 1×D row x.</summary>
    public static Matrix<T> LogSoftmaxJacobian<T>(Matrix<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Shapes.Require(x.Rows == 1, "LogSoftmaxJacobian", $"expected a row vector, got {x.Shape}");
        return MatrixOperations.Identity<T>(x.Cols) - MatrixOperations.Ones<T>(x.Cols) * StableSoftmax(x);
    }

    private static void SoftmaxRow<T>(ReadOnlySpan<T> x, Span<T> y, T shift) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        for (int j = 0; j < x.Length; j++) sum += y[j] = T.Exp(x[j] - shift);
        T inverse = T.One / sum;
        for (int j = 0; j < y.Length; j++) y[j] *= inverse;
    }

    private static void LogSoftmaxRow<T>(ReadOnlySpan<T> x, Span<T> y, T shift) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T sum = T.Zero;
        for (int j = 0; j < x.Length; j++) sum += T.Exp(x[j] - shift);
        T logSum = T.Log(sum);
        for (int j = 0; j < y.Length; j++) y[j] = x[j] - shift - logSum;
    }
}
