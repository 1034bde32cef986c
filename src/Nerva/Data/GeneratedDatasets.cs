namespace Nerva.Data;

/// <summary>
/// The original's generated datasets. Unlike the original (whose generator copied the random state, so
/// its test set was the first n/5 training samples), the test set is drawn after the training set.
/// </summary>
public static class GeneratedDatasets
{
    /// <summary>The names of the generated datasets.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.AsReadOnly<string>(["checkerboard", "mini"]);

    /// <summary>n training and n/5 test samples of the named set.</summary>
    public static Dataset Generate(string name, int n, Rng rng)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), $"the dataset size must be positive, got {n}");
        Func<Rng, (float[] x, int label)> sample = name switch
        {
            "checkerboard" => Checkerboard,
            "mini" => Mini,
            _ => throw new ArgumentException($"unknown dataset '{name}' (valid: {string.Join(", ", Names)})"),
        };
        var (Xtrain, Ttrain) = Draw(sample, n, rng);
        var (Xtest, Ttest) = Draw(sample, Math.Max(n / 5, 1), rng);
        return new Dataset(Xtrain, Ttrain, Xtest, Ttest);
    }

    /// <summary>x, y ~ U[0, 1); an 8×8 board; features 2x − 1, 2y − 1; class 0 ("dark") where row + column is even.</summary>
    private static (float[], int) Checkerboard(Rng rng)
    {
        double x = rng.NextDouble(), y = rng.NextDouble();
        bool dark = ((int)Math.Floor(8 * x) + (int)Math.Floor(8 * y)) % 2 == 0;
        return ([(float)(2 * x - 1), (float)(2 * y - 1)], dark ? 0 : 1);
    }

    /// <summary>Three integer features in 0..10 and a random label.</summary>
    private static (float[], int) Mini(Rng rng) => ([rng.NextInt(11), rng.NextInt(11), rng.NextInt(11)], rng.NextInt(2));

    private static (Matrix<float>, Matrix<float>) Draw(Func<Rng, (float[] x, int label)> sample, int n, Rng rng)
    {
        Matrix<float>? X = null;
        var T = new Matrix<float>(n, 2);
        for (int i = 0; i < n; i++)
        {
            var (x, label) = sample(rng);
            X ??= new Matrix<float>(n, x.Length);
            x.CopyTo(X.Row(i));
            T[i, label] = 1;
        }
        return (X!, T);
    }
}
