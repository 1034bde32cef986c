namespace Nerva.Sparse;

/// <summary>
/// Per-layer densities for an overall density by the Erdős–Rényi rule (Mocanu et al.'s SET; the
/// original's <c>compute_sparse_layer_densities</c>, reference §1.5): layer i, a sizes[i]×sizes[i+1]
/// matrix, gets density ε·(sizes[i] + sizes[i+1])/(sizes[i]·sizes[i+1]), with ε chosen so that the layers
/// together store the overall fraction of weights; a layer whose density would exceed 1 becomes dense and
/// ε is solved again for the others.
/// </summary>
public static class ErdosRenyi
{
    /// <summary>The densities of the sizes.Count − 1 linear layers; all 1 when <paramref name="overall"/> is 1.</summary>
    public static double[] Densities(double overall, IReadOnlyList<int> sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        if (!(overall > 0 && overall <= 1)) throw new ArgumentOutOfRangeException(nameof(overall), $"the overall density must be in (0, 1], got {overall}");
        if (sizes.Count < 2) throw new ArgumentException($"need at least two layer sizes, got {sizes.Count}", nameof(sizes));
        int layers = sizes.Count - 1;
        var densities = new double[layers];
        if (overall == 1)
        {
            Array.Fill(densities, 1.0);
            return densities;
        }
        var dense = new bool[layers];
        var raw = new double[layers];
        double epsilon;
        while (true)
        {
            double rhs = 0, divisor = 0;
            for (int i = 0; i < layers; i++)
            {
                double rows = sizes[i], cols = sizes[i + 1], n = rows * cols;
                double ones = n * overall, zeros = n - ones;
                raw[i] = 0;
                if (dense[i])
                {
                    rhs -= zeros;
                    continue;
                }
                rhs += ones;
                raw[i] = (rows + cols) / (rows * cols);
                divisor += raw[i] * n;
            }
            epsilon = rhs / divisor;
            double largest = raw.Max();
            if (largest * epsilon <= 1) break;
            for (int i = 0; i < layers; i++)
                if (raw[i] == largest) dense[i] = true;
        }
        for (int i = 0; i < layers; i++) densities[i] = dense[i] ? 1 : epsilon * raw[i];
        return densities;
    }
}
