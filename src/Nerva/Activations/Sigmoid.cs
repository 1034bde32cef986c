using System.Numerics;

namespace Nerva.Activations;

/// <summary>
/// σ(x) = 1/(1 + e^−x); σ'(x) = σ(x)(1 − σ(x)) (seed 000 §5), as e = e^−|x| and σ = 1/(1 + e) for x ≥ 0, e/(1 + e) below
/// (no overflow): <see cref="MatrixOperations.Sigmoid{T}(T)"/>. In float32, e^−|x| is <see cref="SingleExponential"/>'s, so the
/// SIMD form gives the scalar's bits.
/// </summary>
public readonly struct Sigmoid<T> : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Value(T z) => MatrixOperations.Sigmoid(z);

    /// <inheritdoc/>
    public T Derivative(T z)
    {
        T s = Value(z);
        return s * (T.One - s);
    }

    /// <summary>In float32 (<see cref="SingleExponential"/>); other types lane by lane.</summary>
    public static bool IsVectorized => typeof(T) == typeof(float);

    /// <inheritdoc/>
    public Vector<T> Value(Vector<T> z) => typeof(T) == typeof(float) ? Single(z.As<T, float>()).As<float, T>() : ActivationKernels.Lanewise(z, Value);

    /// <inheritdoc/>
    public Vector<T> Derivative(Vector<T> z)
    {
        var s = Value(z);
        return s * (Vector<T>.One - s);
    }

    /// <inheritdoc/>
    public override string ToString() => "Sigmoid()";

    private static Vector<float> Single(Vector<float> x)
    {
        var e = SingleExponential.Exp(-Vector.Abs(x));
        return Vector.ConditionalSelect(Vector.GreaterThanOrEqual(x, Vector<float>.Zero), Vector<float>.One, e) / (Vector<float>.One + e);
    }
}
