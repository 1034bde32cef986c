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

    /// <summary>Prunes and regrows every sparse layer of the network; writes one line per layer.</summary>
    public void Step<T>(MultilayerPerceptron<T> mlp, Rng rng, TextWriter output) where T : unmanaged, IFloatingPointIeee754<T>
    {
        foreach (var layer in mlp.Layers.OfType<LinearLayer<T>>().Where(layer => layer.IsSparse))
        {
            int count = Step(layer, rng);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"pruning + growing {count}/{layer.WeightCount} weights"));
        }
    }

    /// <summary>One prune-and-grow step on one sparse layer; returns the number of weights replaced.</summary>
    public int Step<T>(LinearLayer<T> layer, Rng rng) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var W = layer.SparseW ?? throw new ArgumentException("prune and grow needs a sparse layer", nameof(layer));
        int nnz = W.NonZeroCount;
        var pruned = new bool[nnz];
        int count = Prune.Select<T>(W.Values.AsSpan(), pruned, (long)W.Rows * W.Cols - nnz);
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
