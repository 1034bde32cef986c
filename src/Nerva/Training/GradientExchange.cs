using Nerva.Distributed;
using Nerva.Layers;

namespace Nerva.Training;

/// <summary>
/// Sums every parameter's gradient over the ranks of a data-parallel run, started layer by layer as backpropagation
/// finishes each one (as PyTorch's DistributedDataParallel and Horovod do), so that the exchange of a layer's gradients
/// overlaps the backpropagation of the layers below it:
/// <code>
/// for l = L … 1 (backpropagation's order), once DW, Db, … of layer l are final:
///     start the sum of every large gradient of layer l where it lies         (a sparse W: its nnz stored values)
///     copy the small ones (biases, batch normalization, small layers) into the open bucket;
///     start the bucket's sum once it holds at least FusedBelow values, or after layer 1
/// wait for every sum; copy the buckets back
/// </code>
/// The plan (which gradient goes where) follows the parameters' lengths alone, so every rank starts the same sums in
/// the same order, and a run that starts them all after backpropagation (no overlap) sums the same spans in the same
/// order: the same bits.
/// </summary>
internal sealed class GradientExchange(MultilayerPerceptron<float> mlp, ICommunicator communicator)
{
    /// <summary>A gradient at least this long is summed where it lies; shorter ones are fused into buckets of at least this many values.</summary>
    public const int FusedBelow = 1 << 16;

    /// <summary>What starts when layer <c>Layer</c> is done: a large gradient in place (<c>Bucket</c> null), or a bucket of small ones.</summary>
    private readonly record struct Step(int Layer, Parameter<float>? Large, float[]? Bucket, Parameter<float>[] Members);

    private readonly List<Step> _plan = [];
    private int[] _lengths = [];

    /// <summary>Starts the sums that become due when layer <paramref name="layer"/>'s gradients are final.</summary>
    public void LayerDone(int layer)
    {
        if (layer == mlp.Layers.Count - 1) Plan();
        foreach (var step in _plan)
        {
            if (step.Layer != layer) continue;
            if (step.Bucket is null)
            {
                communicator.StartAllReduceSum(step.Large!.Gradient.AsMemory());
                continue;
            }
            int at = 0;
            foreach (var p in step.Members)
            {
                p.Gradient.AsSpan().CopyTo(step.Bucket.AsSpan(at));
                at += p.Gradient.Length;
            }
            communicator.StartAllReduceSum(step.Bucket);
        }
    }

    /// <summary>Waits for every sum of the step and copies the buckets' sums back into the small gradients.</summary>
    public void Finish()
    {
        communicator.WaitAll();
        foreach (var step in _plan)
        {
            if (step.Bucket is null) continue;
            int at = 0;
            foreach (var p in step.Members)
            {
                step.Bucket.AsSpan(at, p.Gradient.Length).CopyTo(p.Gradient.AsSpan());
                at += p.Gradient.Length;
            }
        }
    }

    /// <summary>Whether the parameters' gradients have the lengths the plan was made for (checked every step, allocating nothing).</summary>
    private bool SameLengths()
    {
        int i = 0;
        foreach (var layer in mlp.Layers)
            foreach (var p in layer.Parameters)
                if (i >= _lengths.Length || _lengths[i++] != p.Gradient.Length) return false;
        return i == _lengths.Length;
    }

    /// <summary>The plan for the parameters' current lengths (kept while they stay the same: a sparse layer's nnz may change when its weights are loaded).</summary>
    private void Plan()
    {
        if (SameLengths()) return;
        _lengths = [.. mlp.Layers.SelectMany(layer => layer.Parameters, (_, p) => p.Gradient.Length)];
        _plan.Clear();
        var open = new List<Parameter<float>>();
        int openLength = 0;
        for (int l = mlp.Layers.Count - 1; l >= 0; l--)
        {
            foreach (var p in mlp.Layers[l].Parameters)
            {
                if (p.Gradient.Length >= FusedBelow) _plan.Add(new Step(l, p, null, []));
                else
                {
                    open.Add(p);
                    openLength += p.Gradient.Length;
                }
            }
            if (openLength > 0 && (openLength >= FusedBelow || l == 0))
            {
                _plan.Add(new Step(l, null, new float[openLength], [.. open]));
                open.Clear();
                openLength = 0;
            }
        }
    }
}
