namespace Nerva;

/// <summary>Shape checks whose messages name every shape involved.</summary>
internal static class Shapes
{
    public static void Same<T>(string operation, Matrix<T> X, Matrix<T> Y)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (X.Rows != Y.Rows || X.Cols != Y.Cols)
            throw new ArgumentException($"{operation}: shapes {X.Shape} and {Y.Shape} do not match");
    }

    public static void Require(bool condition, string operation, string message)
    {
        if (!condition) throw new ArgumentException($"{operation}: {message}");
    }

    public static void RowVector<T>(string operation, Matrix<T> x, int n)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (x.Rows != 1 || x.Cols != n)
            throw new ArgumentException($"{operation}: expected a 1×{n} row vector, got {x.Shape}");
    }

    public static void ColumnVector<T>(string operation, Matrix<T> x, int m)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (x.Cols != 1 || x.Rows != m)
            throw new ArgumentException($"{operation}: expected a {m}×1 column vector, got {x.Shape}");
    }
}
