using System.Numerics;

namespace Nerva.Activations;

/// <summary>tanh(x) = (e^x − e^−x)/(e^x + e^−x); tanh'(x) = 1 − tanh(x)² (seed 000 §5).</summary>
public readonly struct HyperbolicTangent<T> : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Value(T z) => T.Tanh(z);

    /// <inheritdoc/>
    public T Derivative(T z)
    {
        T t = T.Tanh(z);
        return T.One - t * t;
    }

    /// <summary>No SIMD form (the exponential would round differently from the scalar one); lane by lane.</summary>
    public static bool IsVectorized => false;

    /// <inheritdoc/>
    public Vector<T> Value(Vector<T> z) => ActivationKernels.Lanewise(z, Value);

    /// <inheritdoc/>
    public Vector<T> Derivative(Vector<T> z) => ActivationKernels.Lanewise(z, Derivative);

    /// <inheritdoc/>
    public override string ToString() => "HyperbolicTangent()";
}
