using System.Numerics;
using Nerva.Optimizers;

namespace Nerva.Layers;

/// <summary>
/// A trainable parameter θ of a layer with its gradient Dθ of the same shape (seed 000 §4: "each of
/// these matrices has a gradient with the same dimensions, denoted using the same symbol preceded by D"),
/// and the optimizer state that belongs to it alone.
/// </summary>
public sealed class Parameter<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    internal Parameter(string name, Matrix<T> value, Matrix<T> gradient, OptimizerSpec optimizer)
    {
        Name = name;
        Value = value;
        Gradient = gradient;
        Optimizer = optimizer.Create(value, gradient);
    }

    /// <summary>The name used in the specification and in weight files: W, b, beta, gamma, srelu.</summary>
    public string Name { get; }

    /// <summary>θ.</summary>
    public Matrix<T> Value { get; }

    /// <summary>Dθ.</summary>
    public Matrix<T> Gradient { get; }

    /// <summary>The optimizer that updates θ from Dθ, with its own state.</summary>
    public IOptimizer<T> Optimizer { get; internal set; }
}
