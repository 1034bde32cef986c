using System.Numerics;

namespace Nerva.Activations;

/// <summary>
/// An element-wise activation act : ℝ → ℝ and its derivative act' (seed 000 §5). Implemented by
/// structs so that a layer specialised on one inlines it.
/// </summary>
public interface IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>act(z).</summary>
    T Value(T z);

    /// <summary>act'(z).</summary>
    T Derivative(T z);
}
