using System.Numerics;

namespace Nerva.Optimizers;

/// <summary>Updates one parameter θ from its gradient Dθ (seed 000 §8); holds that parameter's state.</summary>
public interface IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>One optimization step with learning rate η.</summary>
    void Update(T eta);

    /// <summary>
    /// The per-element state, each buffer shaped like θ and indexed like it (momentum Δ; Adam's m and v);
    /// empty for gradient descent. Clipping and the prune/grow step of sparse layers work on these.
    /// </summary>
    IReadOnlyList<Matrix<T>> State { get; }

    /// <summary>
    /// The steps taken so far (Adam's t, which its bias correction reads; the other optimizers count without reading
    /// it). A checkpoint saves and restores it with <see cref="State"/>, so that a resumed run takes the same steps.
    /// </summary>
    long Steps { get; set; }
}

/// <summary>
/// Which optimizer to give each parameter; <see cref="Create{T}"/> makes a fresh one (with zeroed
/// state) for one parameter θ with gradient Dθ. <see cref="object.ToString"/> gives the original's text.
/// </summary>
public abstract record OptimizerSpec
{
    /// <summary>The optimizer of one parameter θ with gradient Dθ, with its own state.</summary>
    public abstract IOptimizer<T> Create<T>(Matrix<T> theta, Matrix<T> Dtheta) where T : unmanaged, IFloatingPointIeee754<T>;

    internal static void CheckShapes<T>(Matrix<T> theta, Matrix<T> Dtheta) where T : unmanaged, IFloatingPointIeee754<T>
        => Shapes.Same("Optimizer", theta, Dtheta);
}
