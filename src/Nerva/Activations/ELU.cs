using System.Globalization;
using System.Numerics;

namespace Nerva.Activations;

/// <summary>
/// elu(x) = α(e^x − 1) if x &lt; 0, else x; elu'(x) = αe^x if x &lt; 0, else 1 (seed 004 Table 1.1).
/// e^x − 1 is computed with an accurate expm1 so that small negative x keep their precision: in float32
/// <see cref="SingleExponential"/>, so that the SIMD form gives the scalar's bits.
/// </summary>
public readonly struct ELU<T>(T alpha) : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly bool _constructed = true;

    /// <summary>False for <c>default</c>, whose parameters would silently be 0 (a layer refuses it).</summary>
    public bool IsConstructed => _constructed;

    /// <summary>α, the parameter of the activation.</summary>
    public T Alpha { get; } = alpha;

    /// <inheritdoc/>
    public T Value(T z) => typeof(T) == typeof(float)
        ? (T)(object)SingleValue((float)(object)z, (float)(object)Alpha)
        : z < T.Zero ? Alpha * ScalarFunctions.Expm1(z) : z;

    /// <inheritdoc/>
    public T Derivative(T z) => typeof(T) == typeof(float)
        ? (T)(object)SingleDerivative((float)(object)z, (float)(object)Alpha)
        : z < T.Zero ? Alpha * T.Exp(z) : T.One;

    /// <summary>In float32 (<see cref="SingleExponential"/>); other types lane by lane.</summary>
    public static bool IsVectorized => typeof(T) == typeof(float);

    /// <inheritdoc/>
    public Vector<T> Value(Vector<T> z)
    {
        if (typeof(T) != typeof(float)) return ActivationKernels.Lanewise(z, Value);
        var x = z.As<T, float>();
        var alpha = new Vector<float>((float)(object)Alpha);
        return Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), alpha * SingleExponential.Expm1(x), x).As<float, T>();
    }

    /// <inheritdoc/>
    public Vector<T> Derivative(Vector<T> z)
    {
        if (typeof(T) != typeof(float)) return ActivationKernels.Lanewise(z, Derivative);
        var x = z.As<T, float>();
        var alpha = new Vector<float>((float)(object)Alpha);
        return Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), alpha * SingleExponential.Exp(x), Vector<float>.One).As<float, T>();
    }

    private static float SingleValue(float x, float alpha) => x < 0f ? alpha * SingleExponential.Expm1(x) : x;

    private static float SingleDerivative(float x, float alpha) => x < 0f ? alpha * SingleExponential.Exp(x) : 1f;

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ELU({Alpha})");
}
