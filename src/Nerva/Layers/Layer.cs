using System.Numerics;
using Nerva.Optimizers;

namespace Nerva.Layers;

/// <summary>
/// A layer of a multilayer perceptron in batch matrix form (seed 000 §4). It keeps its input X ∈ ℝ^{N×D}
/// and computes the input gradient DX; its output Y and the gradient DY are the next layer's X and DX.
/// </summary>
public abstract class Layer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly List<Parameter<T>> _parameters = [];
    private OptimizerSpec _optimizer = new GradientDescent();

    /// <summary>D, the number of inputs.</summary>
    public abstract int InputSize { get; }

    /// <summary>K, the number of outputs.</summary>
    public abstract int OutputSize { get; }

    /// <summary>The input X of the last feedforward (held by reference, not copied).</summary>
    public Matrix<T> X { get; private set; } = new(0, 0);

    /// <summary>DX, the gradient of the loss with respect to X, from the last backpropagation.</summary>
    public Matrix<T> DX { get; } = new(0, 0);

    /// <summary>Whether backpropagation computes DX; the first layer of a network skips it.</summary>
    public bool ComputeInputGradient { get; set; } = true;

    /// <summary>
    /// The ranks of a data-parallel run that share this layer's batch (each holds a shard of its rows): layers whose
    /// equations sum over the batch (batch normalization's statistics, gradient growth's dense gradient) sum over every
    /// rank's rows through it. The trainer sets it; one process by default.
    /// </summary>
    internal Distributed.ICommunicator Communicator { get; set; } = Distributed.SingleProcess.Instance;

    /// <summary>Training mode (dropout and batch statistics) or evaluation mode.</summary>
    public bool IsTraining { get; set; } = true;

    /// <summary>The trainable parameters with their gradients, in a fixed order.</summary>
    public IReadOnlyList<Parameter<T>> Parameters => _parameters;

    /// <summary>The optimizer of every parameter of this layer; setting it resets their state.</summary>
    public OptimizerSpec Optimizer
    {
        get => _optimizer;
        set
        {
            _optimizer = value ?? throw new ArgumentNullException(nameof(value));
            foreach (var p in _parameters) p.Optimizer = value.Create(p.Value, p.Gradient);
        }
    }

    /// <summary>Computes Y from X; Y takes the shape N×K.</summary>
    public void Feedforward(Matrix<T> X, Matrix<T> Y)
    {
        if (X.Cols != InputSize)
            throw new ArgumentException($"{GetType().Name}.Feedforward: input X is {X.Shape}, the layer expects N×{InputSize}");
        Shapes.Require(!ReferenceEquals(X, Y), "Feedforward", "the output cannot be the input");
        this.X = X;
        Y.Resize(X.Rows, OutputSize);
        FeedforwardCore(Y);
    }

    /// <summary>
    /// From the output Y of the last feedforward and DY = ∇_Y L, computes the gradients of the parameters
    /// and, unless <see cref="ComputeInputGradient"/> is off, DX.
    /// </summary>
    public void Backpropagate(Matrix<T> Y, Matrix<T> DY)
    {
        Shapes.Same("Backpropagate", Y, DY);
        if (Y.Rows != X.Rows || Y.Cols != OutputSize)
            throw new ArgumentException($"{GetType().Name}.Backpropagate: Y is {Y.Shape}, the last feedforward gave {X.Rows}×{OutputSize}");
        if (ComputeInputGradient) DX.Resize(X.Rows, InputSize);
        BackpropagateCore(Y, DY);
    }

    /// <summary>One optimizer step on every parameter with learning rate η.</summary>
    public void Optimize(T eta)
    {
        foreach (var p in _parameters) p.Optimizer.Update(eta);
    }

    /// <summary>The layer in the <c>--layers</c> grammar, as a model file describes it.</summary>
    internal abstract string LayerSpec { get; }

    /// <summary>Computes Y from <see cref="X"/> (Y already has the shape N×K).</summary>
    protected abstract void FeedforwardCore(Matrix<T> Y);

    /// <summary>Computes the parameter gradients and, unless <see cref="ComputeInputGradient"/> is off, <see cref="DX"/>.</summary>
    protected abstract void BackpropagateCore(Matrix<T> Y, Matrix<T> DY);

    /// <summary>
    /// A copy of this layer for inference beside it (concurrent predictions): the same parameters, optimizers and
    /// running statistics, by reference, so that it never goes stale, and buffers of its own, so that its feedforward
    /// writes nothing this layer's does; always in evaluation mode.
    /// </summary>
    internal Layer<T> InferenceReplica()
    {
        var replica = (Layer<T>)MemberwiseClone();
        replica.X = new Matrix<T>(0, 0);
        replica.IsTraining = false;
        replica.RenewBuffers();
        return replica;
    }

    /// <summary>Gives a replica fresh objects for everything its evaluation-mode feedforward writes (see <see cref="InferenceReplica"/>).</summary>
    private protected virtual void RenewBuffers()
    {
    }

    /// <summary>Registers θ with its gradient Dθ (of the same shape).</summary>
    protected void AddParameter(string name, Matrix<T> value, Matrix<T> gradient)
        => _parameters.Add(new Parameter<T>(name, value, gradient, _optimizer));
}
