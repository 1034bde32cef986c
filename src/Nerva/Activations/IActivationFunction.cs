using System.Numerics;

namespace Nerva.Activations;

/// <summary>
/// An element-wise activation act : ℝ → ℝ and its derivative act' (seed 000 §5). Implemented by
/// structs so that a layer specialised on one inlines it. The vector forms apply the same function to
/// every lane (the operator-struct pattern of TensorPrimitives); <see cref="ActivationKernels"/> runs them.
/// </summary>
public interface IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>act(z).</summary>
    T Value(T z);

    /// <summary>act'(z).</summary>
    T Derivative(T z);

    /// <summary>
    /// Whether the vector forms are real SIMD code that gives the scalar results bit for bit; if not they
    /// apply the scalar form lane by lane and the kernels use the scalar loop instead.
    /// </summary>
    static abstract bool IsVectorized { get; }

    /// <summary>act(z) in every lane.</summary>
    Vector<T> Value(Vector<T> z);

    /// <summary>act'(z) in every lane.</summary>
    Vector<T> Derivative(Vector<T> z);

    /// <summary>
    /// False for <c>default</c> of an activation that has parameters (LeakyReLU's α, …): its parameters would silently be 0,
    /// so a layer refuses it. Activations without parameters are always constructed.
    /// </summary>
    bool IsConstructed => true;
}
