using System.Numerics;
using Nerva.Layers;

namespace Nerva;

/// <summary>
/// A chain of layers (seed 000 §4): layer i's output Y is layer i+1's input X, the same matrix, not a
/// copy, and layer i+1's DX is layer i's DY. The first layer does not compute DX. The intermediate
/// matrices are allocated on the first batch and reused afterwards (a smaller batch reuses the storage).
/// </summary>
public sealed class MultilayerPerceptron<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Layer<T>[] _layers;
    private readonly Matrix<T>[] _outputs;

    /// <summary>A network of the layers in order; each layer must take the outputs of the one before it.</summary>
    public MultilayerPerceptron(IEnumerable<Layer<T>> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        _layers = [.. layers];
        if (_layers.Length == 0) throw new ArgumentException("a multilayer perceptron needs at least one layer", nameof(layers));
        for (int i = 1; i < _layers.Length; i++)
            if (_layers[i].InputSize != _layers[i - 1].OutputSize)
                throw new ArgumentException($"layer {i + 1} expects {_layers[i].InputSize} inputs but layer {i} gives {_layers[i - 1].OutputSize} outputs", nameof(layers));
        _layers[0].ComputeInputGradient = false;
        _outputs = new Matrix<T>[_layers.Length - 1];
        for (int i = 0; i < _outputs.Length; i++) _outputs[i] = new Matrix<T>(0, 0);
    }

    /// <summary>
    /// A network for inference beside this one: every layer's <see cref="Layer{T}.InferenceReplica"/> (the same
    /// parameters, buffers of its own), in evaluation mode, so that predictions from several threads run side by side.
    /// </summary>
    internal MultilayerPerceptron<T> InferenceReplica() => new(_layers.Select(layer => layer.InferenceReplica()));

    /// <summary>The layers, first to last.</summary>
    public IReadOnlyList<Layer<T>> Layers => _layers;

    /// <summary>D of the first layer.</summary>
    public int InputSize => _layers[0].InputSize;

    /// <summary>K of the last layer.</summary>
    public int OutputSize => _layers[^1].OutputSize;

    /// <summary>Training mode (dropout, batch statistics) or evaluation mode, for every layer.</summary>
    public bool IsTraining
    {
        get => _layers[0].IsTraining;
        set
        {
            foreach (var layer in _layers) layer.IsTraining = value;
        }
    }

    /// <summary>Y = the network applied to the batch X (N×D); Y takes the shape N×K.</summary>
    public void Feedforward(Matrix<T> X, Matrix<T> Y)
    {
        var input = X;
        for (int i = 0; i < _layers.Length; i++)
        {
            var output = i == _layers.Length - 1 ? Y : _outputs[i];
            _layers[i].Feedforward(input, output);
            input = output;
        }
    }

    /// <summary>
    /// Backpropagates DY = ∇_Y L from the last layer to the first, calling <paramref name="layerDone"/> (when given) with
    /// each layer's index as soon as its parameters' gradients are final, while the layers below it are still to come (a
    /// data-parallel run starts summing them there).
    /// </summary>
    public void Backpropagate(Matrix<T> Y, Matrix<T> DY, Action<int>? layerDone = null)
    {
        for (int i = _layers.Length - 1; i >= 0; i--)
        {
            bool last = i == _layers.Length - 1;
            _layers[i].Backpropagate(last ? Y : _outputs[i], last ? DY : _layers[i + 1].DX);
            layerDone?.Invoke(i);
        }
    }

    /// <summary>One optimizer step on every parameter of every layer with learning rate η.</summary>
    public void Optimize(T eta)
    {
        foreach (var layer in _layers) layer.Optimize(eta);
    }

    /// <summary>Draws fresh dropout masks for the layers that have dropout.</summary>
    public void RenewDropoutMasks(Rng rng)
    {
        foreach (var layer in _layers)
            if (layer is LinearLayer<T> linear) linear.RenewDropoutMask(rng);
    }

    /// <summary>
    /// The first parameter holding a value that is not finite (NaN or ±∞), as "W of layer 2", or
    /// null when every parameter and batch-normalization statistic is finite. A diverged network gives one; the trainer
    /// stops with it, and the writers refuse to save such a network.
    /// </summary>
    public string? FirstNonFinite()
    {
        for (int l = 0; l < _layers.Length; l++)
        {
            foreach (var p in _layers[l].Parameters)
                if (!AllFinite(p.Value.AsSpan())) return $"{p.Name} of layer {l + 1}";
            if (_layers[l] is BatchNormalizationLayer<T> bn && !(AllFinite(bn.RunningMean.AsSpan()) && AllFinite(bn.RunningVariance.AsSpan())))
                return $"the running statistics of layer {l + 1}";
        }
        return null;
    }

    private static bool AllFinite(ReadOnlySpan<T> values)
    {
        foreach (var x in values)
            if (!T.IsFinite(x)) return false;
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Join(Environment.NewLine, _layers.Select(layer => layer.ToString()));
}
