using System.Numerics;

namespace Nerva.Activations;

/// <summary>σ(x) = 1/(1 + e^−x); σ'(x) = σ(x)(1 − σ(x)) (seed 000 §5).</summary>
public readonly struct Sigmoid<T> : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Value(T z) => MatrixOperations.Sigmoid(z);

    /// <inheritdoc/>
    public T Derivative(T z)
    {
        T s = MatrixOperations.Sigmoid(z);
        return s * (T.One - s);
    }

    /// <summary>No SIMD form (the exponential would round differently from the scalar one); lane by lane.</summary>
    public static bool IsVectorized => false;

    /// <inheritdoc/>
    public Vector<T> Value(Vector<T> z) => ActivationKernels.Lanewise(z, Value);

    /// <inheritdoc/>
    public Vector<T> Derivative(Vector<T> z) => ActivationKernels.Lanewise(z, Derivative);

    /// <inheritdoc/>
    public override string ToString() => "Sigmoid()";
}
