using System.Numerics;

namespace Nerva.Optimizers;

/// <summary>Updates one parameter θ from its gradient Dθ (seed 000 §8); holds that parameter's state.</summary>
public interface IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>One optimization step with learning rate η.</summary>
    void Update(T eta);
}

/// <summary>
/// Which optimizer to give each parameter; <see cref="Create{T}"/> makes a fresh one (with zeroed
/// state) for one parameter θ with gradient Dθ. <see cref="object.ToString"/> gives the original's text.
/// </summary>
public abstract record OptimizerSpec
{
    public abstract IOptimizer<T> Create<T>(Matrix<T> theta, Matrix<T> Dtheta) where T : unmanaged, IFloatingPointIeee754<T>;

    internal static void CheckShapes<T>(Matrix<T> theta, Matrix<T> Dtheta) where T : unmanaged, IFloatingPointIeee754<T>
        => Shapes.Same("Optimizer", theta, Dtheta);
}
