using System.Globalization;
using System.Numerics;

namespace Nerva.Activations;

/// <summary>
/// elu(x) = α(e^x − 1) if x &lt; 0, else x; elu'(x) = αe^x if x &lt; 0, else 1 (seed 004 Table 1.1).
/// e^x − 1 is computed with an accurate expm1 so that small negative x keep their precision.
/// </summary>
public readonly struct ELU<T>(T alpha) : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly bool _constructed = true;

    /// <summary>False for <c>default</c>, whose parameters would silently be 0 (a layer refuses it).</summary>
    public bool IsConstructed => _constructed;

    /// <summary>α, the parameter of the activation.</summary>
    public T Alpha { get; } = alpha;

    /// <inheritdoc/>
    public T Value(T z) => z < T.Zero ? Alpha * ScalarFunctions.Expm1(z) : z;

    /// <inheritdoc/>
    public T Derivative(T z) => z < T.Zero ? Alpha * T.Exp(z) : T.One;

    /// <summary>No SIMD form (the exponential would round differently from the scalar one); lane by lane.</summary>
    public static bool IsVectorized => false;

    /// <inheritdoc/>
    public Vector<T> Value(Vector<T> z) => ActivationKernels.Lanewise(z, Value);

    /// <inheritdoc/>
    public Vector<T> Derivative(Vector<T> z) => ActivationKernels.Lanewise(z, Derivative);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"ELU({Alpha})");
}
