using System.Globalization;
using System.Numerics;

namespace Nerva.Activations;

/// <summary>
/// S-shaped ReLU (seed 000 §5): srelu(x) = t_l + a_l(x − t_l) if x ≤ t_l; x if t_l &lt; x &lt; t_r;
/// t_r + a_r(x − t_r) if x ≥ t_r. When t_l ≥ t_r the cases overlap and the first one that applies is
/// taken (the convention of §5), so the right branch is x &gt; t_l ∧ x ≥ t_r.
/// </summary>
public readonly struct SReLU<T>(T al, T tl, T ar, T tr) : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly bool _constructed = true;

    /// <summary>False for <c>default</c>, whose parameters would silently be 0 (a layer refuses it).</summary>
    public bool IsConstructed => _constructed;

    /// <summary>a_l, the slope left of t_l.</summary>
    public T Al { get; } = al;
    /// <summary>t_l, the left threshold.</summary>
    public T Tl { get; } = tl;
    /// <summary>a_r, the slope right of t_r.</summary>
    public T Ar { get; } = ar;
    /// <summary>t_r, the right threshold.</summary>
    public T Tr { get; } = tr;

    /// <inheritdoc/>
    public T Value(T z)
    {
        if (z <= Tl) return Tl + Al * (z - Tl);
        if (z < Tr) return z;
        return Tr + Ar * (z - Tr);
    }

    /// <inheritdoc/>
    public T Derivative(T z)
    {
        if (z <= Tl) return Al;
        if (z < Tr) return T.One;
        return Ar;
    }

    /// <inheritdoc/>
    public static bool IsVectorized => true;

    /// <summary>The three cases of <see cref="Value(T)"/> selected lane by lane, in the same order.</summary>
    public Vector<T> Value(Vector<T> z)
    {
        Vector<T> tl = new(Tl), tr = new(Tr);
        return Vector.ConditionalSelect(Vector.LessThanOrEqual(z, tl), tl + Al * (z - tl),
            Vector.ConditionalSelect(Vector.LessThan(z, tr), z, tr + Ar * (z - tr)));
    }

    /// <inheritdoc/>
    public Vector<T> Derivative(Vector<T> z)
        => Vector.ConditionalSelect(Vector.LessThanOrEqual(z, new Vector<T>(Tl)), new Vector<T>(Al),
            Vector.ConditionalSelect(Vector.LessThan(z, new Vector<T>(Tr)), Vector<T>.One, new Vector<T>(Ar)));

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"SReLU(al={Al},tl={Tl},ar={Ar},tr={Tr})");
}
