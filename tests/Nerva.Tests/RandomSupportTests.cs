using System.Diagnostics;
using Nerva;
using Nerva.Layers;
using Nerva.Sparse;

namespace Nerva.Tests;

/// <summary>
/// Random supports and random growth in O(nnz): exact counts, sorted distinct positions, uniformity over all subsets
/// (chi-square on shapes small enough to count every subset), and a 10⁶ × 10⁶ layer that costs what it stores.
/// </summary>
public sealed class RandomSupportTests
{
    /// <summary>The 0.9999 quantile of χ² with k degrees of freedom (Wilson–Hilferty), so that a fixed seed fails only for a real bias.</summary>
    private static double ChiSquareLimit(int k)
    {
        const double z = 3.719; // standard normal 0.9999
        double a = 2.0 / (9 * k);
        return k * Math.Pow(1 - a + z * Math.Sqrt(a), 3);
    }

    private static double ChiSquare(IReadOnlyDictionary<string, int> counts, int categories, double expected)
    {
        Assert.Equal(categories, counts.Count); // every subset occurs
        return counts.Values.Sum(c => (c - expected) * (c - expected) / expected);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 7, 0)]
    [InlineData(5, 4, 20)]
    [InlineData(40, 30, 600)]
    [InlineData(1000, 3, 2999)]
    public void Sample_has_exactly_count_distinct_sorted_positions(int rows, int cols, int count)
    {
        var positions = RandomSupport.Sample(rows, cols, count, new Rng(2));
        Assert.Equal(count, positions.Length);
        for (int i = 1; i < positions.Length; i++) Assert.True(positions[i] > positions[i - 1]);
        Assert.All(positions, p => Assert.InRange(p, 0, (long)rows * cols - 1));
    }

    [Fact]
    public void Sample_is_uniform_over_all_supports_of_its_size()
    {
        // 3 of the 9 positions of a 3×3 matrix: C(9,3) = 84 supports, each expected 500 times in 42 000 draws
        var rng = new Rng(11);
        var counts = new Dictionary<string, int>();
        const int trials = 42000;
        for (int t = 0; t < trials; t++)
        {
            string key = string.Join(',', RandomSupport.Sample(3, 3, 3, rng));
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        Assert.True(ChiSquare(counts, 84, trials / 84.0) < ChiSquareLimit(83));
    }

    [Fact]
    public void Row_counts_follow_the_hypergeometric_law()
    {
        // density 0.3 of 6×10: the entries in row 0 are hypergeometric(60 positions, 10 in the row, 18 drawn)
        var rng = new Rng(12);
        const int trials = 20000;
        var histogram = new int[11];
        var positionCounts = new int[60];
        for (int t = 0; t < trials; t++)
        {
            var W = CsrMatrix<float>.Random(6, 10, 0.3, rng);
            Assert.Equal(18, W.NonZeroCount);
            histogram[W.RowStart[1] - W.RowStart[0]]++;
            for (int e = 0; e < W.NonZeroCount; e++) positionCounts[W.Position(e)]++;
        }
        double chi = 0;
        int categories = 0;
        for (int k = 0; k <= 10; k++)
        {
            double expected = trials * Binomial(10, k) * Binomial(50, 18 - k) / Binomial(60, 18);
            if (expected < 5) continue;
            chi += (histogram[k] - expected) * (histogram[k] - expected) / expected;
            categories++;
        }
        Assert.True(chi < ChiSquareLimit(categories - 1), $"row counts χ² = {chi}");
        double perPosition = trials * 18 / 60.0;
        double positions = positionCounts.Sum(c => (c - perPosition) * (c - perPosition) / perPosition);
        Assert.True(positions < ChiSquareLimit(59), $"positions χ² = {positions}");
    }

    private static double Binomial(int n, int k)
    {
        double result = 1;
        for (int i = 1; i <= k; i++) result = result * (n - k + i) / i;
        return result;
    }

    [Theory]
    [InlineData(2)] // free ≥ 2·count: uniform draws, rejecting the support and repeats
    [InlineData(5)] // free < 2·count: ranks among the free positions, mapped by a walk over W
    public void Growth_is_uniform_over_the_subsets_of_free_positions(int count)
    {
        // a 3×4 matrix storing (0,1), (0,3), (1,0), (1,1), (2,2): 7 free positions, C(7, count) = 21 subsets
        var W = CsrMatrix<float>.FromCsr(3, 4, [0, 2, 4, 5], [1, 3, 0, 1, 2], new float[5]);
        var rng = new Rng(13);
        var counts = new Dictionary<string, int>();
        const int trials = 21000;
        for (int t = 0; t < trials; t++)
        {
            var grown = RandomSupport.SampleFree(W, count, rng);
            Assert.Equal(count, grown.Length);
            for (int i = 1; i < grown.Length; i++) Assert.True(grown[i] > grown[i - 1]);
            Assert.All(grown, p => Assert.False(W.Contains((int)(p / 4), (int)(p % 4))));
            string key = string.Join(',', grown);
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        Assert.True(ChiSquare(counts, 21, trials / 21.0) < ChiSquareLimit(20));
    }

    [Fact]
    public void A_million_by_million_layer_costs_what_it_stores()
    {
        // dense it would be 4 TB; drawn position by position, 10¹² steps. Its 10⁶ stored weights cost O(nnz + rows + cols).
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var layer = new LinearLayer<float>(1_000_000, 1_000_000, new Rng(3), density: 1e-6);
        clock.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.Equal(1_000_000, layer.WeightCount);
        Assert.True(allocated < 400L << 20, $"allocated {allocated >> 20} MB");
        Assert.True(clock.Elapsed.TotalSeconds < 20, $"took {clock.Elapsed.TotalSeconds:F1} s"); // a hang guard, not a speed claim
        // one step of random growth touches the rows it draws, not the 10¹² positions
        var grown = new RandomGrowth().Select(layer, 1000, new Rng(4));
        Assert.Equal(1000, grown.Distinct().Count());
    }

    [Fact]
    public void Magnitude_pruning_by_selection_picks_what_a_full_sort_picks()
    {
        var rng = new Rng(14);
        for (int trial = 0; trial < 300; trial++)
        {
            int n = 1 + rng.NextInt(400);
            // few distinct magnitudes, so that the cut often falls on ties
            var values = Enumerable.Range(0, n).Select(_ => (rng.NextInt(2) == 0 ? -1 : 1) * (double)rng.NextInt(1 + rng.NextInt(20))).ToArray();
            double zeta = rng.NextDouble();
            var pruned = new bool[n];
            int count = new MagnitudePruning(zeta).Select<double>(values, pruned, long.MaxValue);
            var expected = Enumerable.Range(0, n).OrderBy(e => Math.Abs(values[e])).ThenBy(e => e).Take(count).ToHashSet();
            Assert.Equal((int)Math.Round(zeta * n, MidpointRounding.AwayFromZero), count);
            for (int e = 0; e < n; e++) Assert.Equal(expected.Contains(e), pruned[e]);
        }
    }

    [Fact]
    public void Selection_finds_every_order_statistic_even_of_sorted_and_constant_input()
    {
        var rng = new Rng(15);
        var inputs = new List<double[]>
        {
            Enumerable.Range(0, 1000).Select(i => (double)i).ToArray(),
            Enumerable.Range(0, 1000).Select(i => (double)(1000 - i)).ToArray(),
            Enumerable.Repeat(3.0, 500).ToArray(),
            Enumerable.Range(0, 777).Select(_ => rng.NextDouble()).ToArray(),
            new[] { double.NaN, 1, double.NaN, -2, 0 },
        };
        foreach (var input in inputs)
        {
            var sorted = input.Order().ToArray();
            foreach (int k in new[] { 0, input.Length / 3, input.Length / 2, input.Length - 1 })
                Assert.Equal(sorted[k], Selection.Smallest(input.ToArray(), k));
        }
    }
}
