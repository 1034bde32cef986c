using System.Globalization;
using System.Numerics;

namespace Nerva.Activations;

/// <summary>leaky-relu(x) = max(αx, x); leaky-relu'(x) = α if x &lt; αx, else 1 (seed 000 §5).</summary>
public readonly struct LeakyReLU<T>(T alpha) : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly bool _constructed = true;

    /// <summary>False for <c>default</c>, whose parameters would silently be 0 (a layer refuses it).</summary>
    public bool IsConstructed => _constructed;

    /// <summary>α, the parameter of the activation.</summary>
    public T Alpha { get; } = alpha;

    /// <inheritdoc/>
    public T Value(T z) => T.Max(Alpha * z, z);

    /// <inheritdoc/>
    public T Derivative(T z) => z < Alpha * z ? Alpha : T.One;

    /// <inheritdoc/>
    public static bool IsVectorized => true;

    /// <inheritdoc/>
    public Vector<T> Value(Vector<T> z) => Vector.Max(Alpha * z, z);

    /// <inheritdoc/>
    public Vector<T> Derivative(Vector<T> z) => Vector.ConditionalSelect(Vector.LessThan(z, Alpha * z), new Vector<T>(Alpha), Vector<T>.One);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"LeakyReLU({Alpha})");
}
