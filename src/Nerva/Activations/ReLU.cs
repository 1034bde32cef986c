using System.Numerics;

namespace Nerva.Activations;

/// <summary>relu(x) = max(0, x); relu'(x) = 0 if x &lt; 0, else 1 (so 1 at x = 0, as in seed 000 §5 and the original).</summary>
public readonly struct ReLU<T> : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <inheritdoc/>
    public T Value(T z) => T.Max(T.Zero, z);

    /// <inheritdoc/>
    public T Derivative(T z) => z < T.Zero ? T.Zero : T.One;

    /// <inheritdoc/>
    public static bool IsVectorized => true;

    /// <inheritdoc/>
    public Vector<T> Value(Vector<T> z) => Vector.Max(Vector<T>.Zero, z);

    /// <inheritdoc/>
    public Vector<T> Derivative(Vector<T> z) => Vector.ConditionalSelect(Vector.LessThan(z, Vector<T>.Zero), Vector<T>.Zero, Vector<T>.One);

    /// <inheritdoc/>
    public override string ToString() => "ReLU()";
}
