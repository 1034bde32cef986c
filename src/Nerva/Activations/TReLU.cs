using System.Globalization;
using System.Numerics;

namespace Nerva.Activations;

/// <summary>
/// Trimmed ReLU: trelu(x) = 0 if x &lt; ε, else x; trelu'(x) = 0 if x &lt; ε, else 1 (the original's
/// <c>trimmed_relu_activation</c>; a tiny ε flushes the near-zero values that turn subnormal).
/// </summary>
public readonly struct TReLU<T>(T epsilon) : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly bool _constructed = true;

    /// <summary>False for <c>default</c>, whose parameters would silently be 0 (a layer refuses it).</summary>
    public bool IsConstructed => _constructed;

    /// <summary>ε, the threshold below which the activation is 0.</summary>
    public T Epsilon { get; } = epsilon;

    /// <inheritdoc/>
    public T Value(T z) => z < Epsilon ? T.Zero : z;

    /// <inheritdoc/>
    public T Derivative(T z) => z < Epsilon ? T.Zero : T.One;

    /// <inheritdoc/>
    public static bool IsVectorized => true;

    /// <inheritdoc/>
    public Vector<T> Value(Vector<T> z) => Vector.ConditionalSelect(Vector.LessThan(z, new Vector<T>(Epsilon)), Vector<T>.Zero, z);

    /// <inheritdoc/>
    public Vector<T> Derivative(Vector<T> z) => Vector.ConditionalSelect(Vector.LessThan(z, new Vector<T>(Epsilon)), Vector<T>.Zero, Vector<T>.One);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"TReLU({Epsilon})");
}
