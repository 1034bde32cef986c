using System.Numerics;

namespace Nerva.Activations;

/// <summary>
/// tanh(x) = (e^x − e^−x)/(e^x + e^−x); tanh'(x) = 1 − tanh(x)² (seed 000 §5). In float32 as tanh(x) = sign(x)·t/(t + 2)
/// with t = e^(2|x|) − 1 (<see cref="SingleExponential"/>: no cancellation near 0; |x| ≥ 10 gives ±1), so that the SIMD
/// form gives the scalar's bits; other types use T.Tanh.
/// </summary>
public readonly struct HyperbolicTangent<T> : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private const float Saturated = 10f;   // tanh(10) = 1 − 4e-9 rounds to 1 in float32

    /// <inheritdoc/>
    public T Value(T z) => typeof(T) == typeof(float) ? (T)(object)Single((float)(object)z) : T.Tanh(z);

    /// <inheritdoc/>
    public T Derivative(T z)
    {
        T t = Value(z);
        return T.One - t * t;
    }

    /// <summary>In float32 (<see cref="SingleExponential"/>); other types lane by lane.</summary>
    public static bool IsVectorized => typeof(T) == typeof(float);

    /// <inheritdoc/>
    public Vector<T> Value(Vector<T> z) => typeof(T) == typeof(float) ? Single(z.As<T, float>()).As<float, T>() : ActivationKernels.Lanewise(z, Value);

    /// <inheritdoc/>
    public Vector<T> Derivative(Vector<T> z)
    {
        var t = Value(z);
        return Vector<T>.One - t * t;
    }

    /// <inheritdoc/>
    public override string ToString() => "HyperbolicTangent()";

    private static float Single(float x)
    {
        float a = MathF.Abs(x);
        a = a > Saturated ? Saturated : a;
        float t = SingleExponential.Expm1(a + a);
        return MathF.CopySign(t / (t + 2f), x);
    }

    private static Vector<float> Single(Vector<float> x)
    {
        var a = Vector.Abs(x);
        var saturated = new Vector<float>(Saturated);
        a = Vector.ConditionalSelect(Vector.GreaterThan(a, saturated), saturated, a);
        var t = SingleExponential.Expm1(a + a);
        var sign = Vector.AsVectorSingle(new Vector<int>(int.MinValue));
        return Vector.ConditionalSelect(sign, x, t / (t + new Vector<float>(2f)));
    }
}
