using Nerva;
using Nerva.Layers;
using Nerva.Optimizers;
using Nerva.Sparse;

namespace Nerva.Tests;

/// <summary>Dynamic sparse training: exact prune counts with ties, growth outside the support, and what survives a step.</summary>
public sealed class PruneGrowTests
{
    private static bool[] Prune(PruneStrategy strategy, double[] values, long free = 1000)
    {
        var pruned = new bool[values.Length];
        int count = strategy.Select<double>(values, pruned, free);
        Assert.Equal(count, pruned.Count(p => p));
        return pruned;
    }

    [Fact]
    public void Magnitude_prunes_exactly_the_rounded_count_breaking_ties_by_entry_order()
    {
        // ζ = 0.5 of 8 = 4: |w| = 0.1, 0.2, then two of the three 0.3 ties, the earlier two
        double[] values = [0.3, -0.1, 0.9, -0.3, 0.2, 0.3, -0.8, 0.5];
        var pruned = Prune(new MagnitudePruning(0.5), values);
        Assert.Equal([true, true, false, true, true, false, false, false], pruned);
        // round(0.25·10) = 3 (halves away from zero: 2.5 → 3)
        Assert.Equal(3, Prune(new MagnitudePruning(0.25), [.. Enumerable.Repeat(1.0, 10)]).Count(p => p));
        Assert.Equal([true, true, true, false, false, false, false, false, false, false], Prune(new MagnitudePruning(0.25), [.. Enumerable.Repeat(1.0, 10)]));
    }

    [Fact]
    public void Prune_count_is_capped_at_half_the_free_positions()
    {
        double[] values = [1, 2, 3, 4, 5, 6, 7, 8];
        Assert.Equal(2, Prune(new MagnitudePruning(1), values, free: 5).Count(p => p));
        Assert.Equal(2, PruneStrategy.Limit(5));
    }

    [Fact]
    public void SET_prunes_each_sign_separately()
    {
        // 6 positive, 4 negative, ζ = 0.5: the 3 smallest positives and the 2 negatives closest to zero
        double[] values = [0.5, -0.05, 0.1, -0.9, 0.3, 0.2, -0.4, 0.7, -0.01, 0.6];
        var pruned = Prune(new SETPruning(0.5), values);
        Assert.Equal([false, true, true, false, true, true, false, false, true, false], pruned);
        // zeros are neither positive nor negative and stay
        Assert.Equal([false, true, true], Prune(new SETPruning(0.5), [0.0, 0.5, -0.5]));
    }

    [Fact]
    public void Threshold_prunes_every_weight_at_or_below_it()
    {
        double[] values = [0.5, -0.05, 0.1, -0.1, 0.3];
        Assert.Equal([false, true, true, true, false], Prune(new ThresholdPruning(0.1), values));
    }

    [Fact]
    public void Random_growth_picks_distinct_free_positions_only()
    {
        var rng = new Rng(3);
        var layer = new LinearLayer<double>(40, 30, rng, density: 0.2);
        var W = layer.SparseW!;
        foreach (int count in new[] { 0, 1, 100, (int)(30 * 40 - W.NonZeroCount) })
        {
            var grown = new RandomGrowth().Select(layer, count, rng);
            Assert.Equal(count, grown.Length);
            Assert.Equal(count, grown.Distinct().Count());
            Assert.All(grown, p => Assert.False(W.Contains((int)(p / 40), (int)(p % 40))));
            Assert.Equal(grown.Order(), grown);
        }
    }

    [Fact]
    public void Random_growth_reaches_every_free_position_including_those_after_the_last_entry()
    {
        // the original never grew after the last stored entry; here the last free positions are drawn too
        var rng = new Rng(8);
        var layer = new LinearLayer<double>(6, 5, rng, density: 0.3);
        var hits = new HashSet<long>();
        for (int t = 0; t < 400; t++) hits.UnionWith(new RandomGrowth().Select(layer, 3, rng));
        Assert.Equal(30 - layer.WeightCount, hits.Count);
    }

    [Fact]
    public void Gradient_growth_picks_the_largest_dense_gradient_outside_the_support()
    {
        var rng = new Rng(5);
        int N = 9, D = 70, K = 90;  // more than one 64-row block
        var layer = new LinearLayer<double>(D, K, rng, density: 0.1);
        var X = TestData.Random(N, D, rng);
        var DY = TestData.Random(N, K, rng);
        var Y = new Matrix<double>(0, 0);
        layer.Feedforward(X, Y);
        layer.Backpropagate(Y, DY);
        var G = TestData.NaiveProduct(DY, X, transposeA: true);
        var W = layer.SparseW!;
        var candidates = Enumerable.Range(0, K * D).Where(p => !W.Contains(p / D, p % D))
            .OrderByDescending(p => Math.Abs(G[p / D, p % D])).ThenBy(p => p).Select(p => (long)p).ToArray();
        foreach (int count in new[] { 1, 37, 500 })
            Assert.Equal(candidates.Take(count).Order(), new GradientGrowth().Select(layer, count, rng));
    }

    /// <summary>RigL's schedule: ζ·½(1 + cos(π·t/T)), T = round(0.75 × the run's batches), then no more steps; none without decay.</summary>
    [Fact]
    public void The_cosine_decay_halves_the_fraction_midway_and_ends_at_its_share_of_the_run()
    {
        var rigl = new DynamicSparseTraining(new MagnitudePruning(0.3), new GradientGrowth(), WeightInitializer.Zero) { CosineDecay = 0.75 };
        Assert.Equal(1, rigl.Factor(0, 1000));
        Assert.Equal(0.5, rigl.Factor(375, 1000), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 100 / 750)), rigl.Factor(100, 1000), 12);
        Assert.True(rigl.Factor(749, 1000) is > 0 and < 1e-4);
        Assert.Equal(0, rigl.Factor(750, 1000));
        Assert.Equal(0, rigl.Factor(5000, 1000));
        Assert.Equal(1, (rigl with { CosineDecay = 0 }).Factor(999, 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => rigl with { CosineDecay = 1.5 });
        Assert.Throws<NotSupportedException>(() => new ThresholdPruning(0.1).Scaled(0.5));
        Assert.Throws<ArgumentException>(() => new DynamicSparseTraining(new ThresholdPruning(0.1), new RandomGrowth(), WeightInitializer.Zero) { CosineDecay = 0.5 });
    }

    [Fact]
    public void A_decayed_step_prunes_the_scaled_fraction()
    {
        foreach (double factor in new[] { 1, 0.5, 0.1 })
        {
            var rng = new Rng(8);
            var layer = new LinearLayer<double>(40, 30, rng, density: 0.3);
            int nnz = layer.WeightCount;
            int count = new DynamicSparseTraining(new MagnitudePruning(0.4), new RandomGrowth(), WeightInitializer.Xavier).Step(layer, rng, factor);
            Assert.Equal((int)Math.Round(0.4 * factor * nnz, MidpointRounding.AwayFromZero), count);
            Assert.Equal(nnz, layer.WeightCount);
        }
    }

    [Fact]
    public void A_step_keeps_the_weight_count_survivors_values_and_momentum_and_zeroes_new_state()
    {
        var rng = new Rng(6);
        int N = 5, D = 30, K = 20;
        var layer = new ActivationLayer<double, Activations.ReLU<double>>(D, K, default, rng, optimizer: new Momentum(0.9), density: 0.25);
        var X = TestData.Random(N, D, rng);
        var Y = new Matrix<double>(0, 0);
        for (int step = 0; step < 3; step++)
        {
            layer.Feedforward(X, Y);
            layer.Backpropagate(Y, TestData.Random(N, K, rng));
            layer.Optimize(0.1);
        }
        var W = layer.SparseW!;
        int nnz = W.NonZeroCount;
        var before = new Dictionary<long, (double Value, double Delta)>();
        var delta = layer.Parameters[0].Optimizer.State[0];
        for (int e = 0; e < nnz; e++) before[W.Position(e)] = (W.Values[0, e], delta[0, e]);
        var grow = WeightInitializer.Uniform(10, 11); // new weights are recognisable
        var step1 = new DynamicSparseTraining(new MagnitudePruning(0.3), new RandomGrowth(), grow);
        int count = step1.Step(layer, rng);

        Assert.Equal((int)Math.Round(0.3 * nnz, MidpointRounding.AwayFromZero), count);
        Assert.Equal(nnz, W.NonZeroCount);
        Assert.All(layer.SparseDW!.AsSpan().ToArray(), v => Assert.Equal(0, v));
        delta = layer.Parameters[0].Optimizer.State[0];
        int survivors = 0, grown = 0;
        var smallestSurvivor = double.MaxValue;
        for (int e = 0; e < nnz; e++)
        {
            if (before.TryGetValue(W.Position(e), out var old))
            {
                survivors++;
                Assert.Equal(old.Value, W.Values[0, e]);
                Assert.Equal(old.Delta, delta[0, e]);
                smallestSurvivor = Math.Min(smallestSurvivor, Math.Abs(old.Value));
            }
            else
            {
                grown++;
                Assert.InRange(W.Values[0, e], 10, 11);
                Assert.Equal(0, delta[0, e]);
            }
        }
        Assert.Equal(count, grown);
        Assert.Equal(nnz - count, survivors);
        // the pruned weights were the smallest ones
        var prunedMagnitudes = before.Where(p => !Enumerable.Range(0, nnz).Any(e => W.Position(e) == p.Key)).Select(p => Math.Abs(p.Value.Value));
        Assert.All(prunedMagnitudes, m => Assert.True(m <= smallestSurvivor));
        // and the layer still trains on its new support
        layer.Feedforward(X, Y);
        layer.Backpropagate(Y, TestData.Random(N, K, rng));
        layer.Optimize(0.1);
    }
}
