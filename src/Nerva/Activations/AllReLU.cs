using System.Globalization;
using System.Numerics;

namespace Nerva.Activations;

/// <summary>all-relu(x) = αx if x &lt; 0, else x; all-relu'(x) = α if x &lt; 0, else 1 (seed 000 §5).</summary>
public readonly struct AllReLU<T>(T alpha) : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly bool _constructed = true;

    /// <summary>False for <c>default</c>, whose parameters would silently be 0 (a layer refuses it).</summary>
    public bool IsConstructed => _constructed;

    /// <summary>α, the parameter of the activation.</summary>
    public T Alpha { get; } = alpha;

    /// <inheritdoc/>
    public T Value(T z) => z < T.Zero ? Alpha * z : z;

    /// <inheritdoc/>
    public T Derivative(T z) => z < T.Zero ? Alpha : T.One;

    /// <inheritdoc/>
    public static bool IsVectorized => true;

    /// <inheritdoc/>
    public Vector<T> Value(Vector<T> z) => Vector.ConditionalSelect(Vector.LessThan(z, Vector<T>.Zero), Alpha * z, z);

    /// <inheritdoc/>
    public Vector<T> Derivative(Vector<T> z) => Vector.ConditionalSelect(Vector.LessThan(z, Vector<T>.Zero), new Vector<T>(Alpha), Vector<T>.One);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"AllReLU({Alpha})");
}
