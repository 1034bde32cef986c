using Nerva;

namespace Nerva.Tests;

/// <summary>Random matrices, a naive reference product and the error measure the gradient tests use.</summary>
internal static class TestData
{
    public static Matrix<double> Random(int m, int n, Rng rng, double a = -1, double b = 1)
    {
        var X = new Matrix<double>(m, n);
        var x = X.AsSpan();
        for (int k = 0; k < x.Length; k++) x[k] = rng.Uniform(a, b);
        return X;
    }

    /// <summary>One-hot rows: row i has a 1 in a random column.</summary>
    public static Matrix<double> OneHot(int m, int n, Rng rng)
    {
        var T = new Matrix<double>(m, n);
        for (int i = 0; i < m; i++) T[i, rng.NextInt(n)] = 1;
        return T;
    }

    /// <summary>The textbook triple loop, C = op(A)·op(B).</summary>
    public static Matrix<double> NaiveProduct(Matrix<double> A, Matrix<double> B, bool transposeA = false, bool transposeB = false)
    {
        int m = transposeA ? A.Cols : A.Rows, k = transposeA ? A.Rows : A.Cols, n = transposeB ? B.Rows : B.Cols;
        var C = new Matrix<double>(m, n);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += (transposeA ? A[p, i] : A[i, p]) * (transposeB ? B[j, p] : B[p, j]);
                C[i, j] = sum;
            }
        return C;
    }

    /// <summary>
    /// max_ij |A − B| / max(max_ij |A|, max_ij |B|): the error relative to the scale of the matrices; 0 when
    /// both are zero to within 1e-13 (a gradient that is zero by structure, e.g. softmax with K = 1).
    /// </summary>
    public static double RelativeError(Matrix<double> A, Matrix<double> B)
    {
        Assert.Equal(A.Shape, B.Shape);
        double diff = 0, scale = 0;
        var a = A.AsSpan();
        var b = B.AsSpan();
        for (int k = 0; k < a.Length; k++)
        {
            diff = Math.Max(diff, Math.Abs(a[k] - b[k]));
            scale = Math.Max(scale, Math.Max(Math.Abs(a[k]), Math.Abs(b[k])));
        }
        if (scale < 1e-13) return diff;
        return diff / scale;
    }

    /// <summary>
    /// The central difference (f(θ + h) − f(θ − h))/(2h) of f for every entry of θ, each entry restored after.
    /// </summary>
    public static Matrix<double> FiniteDifferences(Matrix<double> theta, Func<double> f, double h = 1e-6)
    {
        var result = new Matrix<double>(theta.Rows, theta.Cols);
        var x = theta.AsSpan();
        for (int k = 0; k < x.Length; k++)
        {
            double saved = theta.AsSpan()[k];
            theta.AsSpan()[k] = saved + h;
            double plus = f();
            theta.AsSpan()[k] = saved - h;
            double minus = f();
            theta.AsSpan()[k] = saved;
            result.AsSpan()[k] = (plus - minus) / (2 * h);
        }
        return result;
    }

    public static void AssertClose(Matrix<double> expected, Matrix<double> actual, double tolerance, string what)
    {
        double error = RelativeError(expected, actual);
        Assert.True(error <= tolerance, $"{what}: relative error {error:E3} > {tolerance:E1}\nexpected {expected}\nactual {actual}");
    }
}
