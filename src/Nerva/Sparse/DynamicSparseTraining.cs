using System.Globalization;
using System.Numerics;
using Nerva.Layers;

namespace Nerva.Sparse;

/// <summary>
/// Dynamic sparse training (the original's <c>prune_and_grow</c>): every sparse linear layer prunes some
/// stored weights and grows as many new ones, so the number of stored weights stays constant. New weights
/// take values from <see cref="GrowWeights"/> and zero optimizer state; unlike the original, surviving
/// weights keep their momentum.
/// </summary>
public sealed record DynamicSparseTraining(PruneStrategy Prune, GrowStrategy Grow, WeightInitializer GrowWeights, int IntervalBatches = 0)
{
    /// <summary>Batches between two steps; 0 means once per epoch, before every epoch but the first (the original).</summary>
    public int IntervalBatches { get; } = IntervalBatches >= 0 ? IntervalBatches
        : throw new ArgumentOutOfRangeException(nameof(IntervalBatches), $"the prune interval must be at least 0 batches, got {IntervalBatches}");

    /// <summary>
    /// RigL's cosine decay of the prune fraction (Evci et al. 2020, eq. 1): at batch t of a run of B batches,
    /// ζ_t = ζ·½(1 + cos(π·t/T)) with T = round(CosineDecay·B), and no step after batch T. 0 (the default): ζ stays the same
    /// and steps go on to the end. RigL's paper takes 0.75.
    /// </summary>
    public double CosineDecay
    {
        get;
        init => field = value is not (>= 0 and <= 1)
            ? throw new ArgumentOutOfRangeException(nameof(CosineDecay), $"the cosine decay's share of the run must be in [0, 1], got {value}")
            : value > 0 && Prune is ThresholdPruning
            ? throw new ArgumentException($"the cosine decay decays a prune fraction ζ, which {Prune} has not: take Magnitude(ζ) or SET(ζ)", nameof(CosineDecay))
            : value;
    }

    /// <summary>The factor of ζ at batch <paramref name="batch"/> of a run of <paramref name="batches"/> (see <see cref="CosineDecay"/>): 1 without decay, 0 once it has ended.</summary>
    public double Factor(long batch, long batches)
    {
        if (CosineDecay == 0) return 1;
        long T = (long)Math.Round(CosineDecay * batches, MidpointRounding.AwayFromZero);
        return batch >= T ? 0 : 0.5 * (1 + Math.Cos(Math.PI * batch / T));
    }

    /// <summary>Prunes and regrows every sparse layer of the network, the prune fraction times <paramref name="factor"/>; writes one line per layer.</summary>
    public void Step<T>(MultilayerPerceptron<T> mlp, Rng rng, TextWriter output, double factor = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var layer in mlp.Layers.OfType<LinearLayer<T>>().Where(layer => layer.IsSparse))
        {
            int count = Step(layer, rng, factor);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pruning + growing {count}/{layer.WeightCount} weights"));
        }
    }

    /// <summary>One prune-and-grow step on one sparse layer, the prune fraction times <paramref name="factor"/>; returns the number of weights replaced.</summary>
    public int Step<T>(LinearLayer<T> layer, Rng rng, double factor = 1) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var W = layer.SparseW ?? throw new ArgumentException("prune and grow needs a sparse layer", nameof(layer));
        int nnz = W.NonZeroCount;
        var pruned = new bool[nnz];
        int count = Prune.Scaled(factor).Select<T>(W.Values.AsSpan(), pruned, (long)W.Rows * W.Cols - nnz);
        var grown = Grow.Select(layer, count, rng);
        if (grown.Length != count) throw new InvalidOperationException($"{Grow} grew {grown.Length} weights for {count} pruned");
        var values = new T[count];
        var (fanIn, fanOut) = layer.InitializationFans;
        GrowWeights.InitializeWeights<T>(values, fanIn, fanOut, rng);

        // merge the survivors (ascending positions) with the grown positions; source = old entry or −1
        var positions = new long[nnz];
        var source = new int[nnz];
        int next = 0, g = 0;
        for (int e = 0; e <= nnz; e++)
        {
            if (e < nnz && pruned[e]) continue;
            long survivor = e < nnz ? W.Position(e) : long.MaxValue;
            while (g < count && grown[g] < survivor)
            {
                positions[next] = grown[g++];
                source[next++] = -1;
            }
            if (e == nnz) break;
            positions[next] = survivor;
            source[next++] = e;
        }
        layer.ChangeSupport(positions, source, values); // grown values in ascending position order
        return count;
    }
}
