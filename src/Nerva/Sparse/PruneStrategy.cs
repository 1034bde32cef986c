using System.Globalization;
using System.Numerics;

namespace Nerva.Sparse;

/// <summary>
/// Which stored weights of a sparse layer a prune-and-grow step removes (the original's <c>prune.h</c>).
/// Counts are exact: ties at the cut are broken by entry order. The count is capped at half of the
/// positions outside the support, so that growing can always put as many weights back.
/// </summary>
public abstract record PruneStrategy
{
    /// <summary>Marks the weights to prune in <paramref name="pruned"/> and returns how many it marked.</summary>
    /// <param name="values">the stored weights</param>
    /// <param name="pruned">set to true for every weight to prune (all false on entry)</param>
    /// <param name="free">the number of positions outside the support</param>
    public abstract int Select<T>(ReadOnlySpan<T> values, Span<bool> pruned, long free) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>
    /// This strategy with its prune fraction ζ times <paramref name="factor"/> ∈ [0, 1] (a decay schedule's step); a
    /// strategy without a fraction (Threshold) refuses any factor but 1.
    /// </summary>
    public virtual PruneStrategy Scaled(double factor) => factor == 1 ? this
        : throw new NotSupportedException($"{this} has no prune fraction to decay (Magnitude(ζ) and SET(ζ) have)");

    /// <summary>The most weights one step may prune: ⌊free/2⌋ (the original's <c>limit_prune_count</c>).</summary>
    public static int Limit(long free) => (int)Math.Min(int.MaxValue, free / 2);

    /// <summary>
    /// Marks the <paramref name="count"/> entries of smallest |w| among those accepted; ties go to the earlier entry.
    /// O(nnz): the cut, the count-th smallest magnitude, is found by selection (not a sort); then every entry below
    /// it is marked and, in entry order, as many entries at the cut as the count still needs.
    /// </summary>
    protected static int PruneSmallest<T>(ReadOnlySpan<T> values, Span<bool> pruned, int count, Func<T, bool> accept)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int accepted = 0;
        foreach (var w in values)
            if (accept(w)) accepted++;
        count = Math.Min(count, accepted);
        if (count <= 0) return 0;
        var magnitudes = new T[accepted];
        for (int e = 0, k = 0; e < values.Length; e++)
            if (accept(values[e])) magnitudes[k++] = T.Abs(values[e]);
        T cut = Selection.Smallest(magnitudes, count - 1);
        int atCut = count;
        foreach (var m in magnitudes)
            if (m.CompareTo(cut) < 0) atCut--;
        for (int e = 0; e < values.Length; e++)
        {
            if (!accept(values[e])) continue;
            int order = T.Abs(values[e]).CompareTo(cut);
            if (order < 0 || (order == 0 && atCut-- > 0)) pruned[e] = true;
        }
        return count;
    }

    /// <summary>round(ζ·n), halves away from zero (the original's <c>lround</c>).</summary>
    protected static int Fraction(double zeta, int n) => (int)Math.Round(zeta * n, MidpointRounding.AwayFromZero);

    /// <summary>Refuses a ζ outside [0, 1].</summary>
    protected static void CheckZeta(double zeta)
    {
        if (!(zeta >= 0 && zeta <= 1)) throw new ArgumentOutOfRangeException(nameof(zeta), $"the prune fraction ζ must be in [0, 1], got {zeta}");
    }
}

/// <summary>Magnitude(ζ): prunes the round(ζ·nnz) weights of smallest magnitude.</summary>
public sealed record MagnitudePruning : PruneStrategy
{
    /// <summary>Prunes the share <paramref name="zeta"/> of the weights with the smallest magnitudes.</summary>
    public MagnitudePruning(double zeta)
    {
        CheckZeta(zeta);
        Zeta = zeta;
    }

    /// <summary>ζ, the share of the weights pruned.</summary>
    public double Zeta { get; }

    /// <inheritdoc/>
    public override int Select<T>(ReadOnlySpan<T> values, Span<bool> pruned, long free)
        => PruneSmallest(values, pruned, Math.Min(Fraction(Zeta, values.Length), Limit(free)), _ => true);

    /// <inheritdoc/>
    public override PruneStrategy Scaled(double factor) => new MagnitudePruning(Zeta * factor);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Magnitude({Zeta})");
}

/// <summary>
/// SET(ζ) (Mocanu et al.): prunes the round(ζ·#positive) smallest positive weights and the round(ζ·#negative)
/// negative weights closest to zero, each sign on its own; a cap scales both counts in proportion.
/// </summary>
public sealed record SETPruning : PruneStrategy
{
    /// <summary>Prunes the share <paramref name="zeta"/> of the positive weights closest to 0 and as many of the negative ones (SET).</summary>
    public SETPruning(double zeta)
    {
        CheckZeta(zeta);
        Zeta = zeta;
    }

    /// <summary>ζ, the share of the weights pruned.</summary>
    public double Zeta { get; }

    /// <inheritdoc/>
    public override int Select<T>(ReadOnlySpan<T> values, Span<bool> pruned, long free)
    {
        int positive = 0, negative = 0;
        foreach (var w in values)
        {
            if (w > T.Zero) positive++;
            else if (w < T.Zero) negative++;
        }
        int pos = Fraction(Zeta, positive), neg = Fraction(Zeta, negative), limit = Limit(free);
        if (pos + neg > limit)
        {
            int scaledPos = (int)((long)pos * limit / (pos + neg));
            (pos, neg) = (scaledPos, limit - scaledPos);
        }
        return PruneSmallest(values, pruned, pos, w => w > T.Zero) + PruneSmallest(values, pruned, neg, w => w < T.Zero);
    }

    /// <inheritdoc/>
    public override PruneStrategy Scaled(double factor) => new SETPruning(Zeta * factor);

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"SET({Zeta})");
}

/// <summary>Threshold(t): prunes every weight with |w| ≤ t (the smallest first when the cap applies). Broken in the original.</summary>
public sealed record ThresholdPruning : PruneStrategy
{
    /// <summary>Prunes the weights with |w| below <paramref name="threshold"/>.</summary>
    public ThresholdPruning(double threshold)
    {
        if (!(threshold >= 0)) throw new ArgumentOutOfRangeException(nameof(threshold), $"the threshold must be at least 0, got {threshold}");
        Threshold = threshold;
    }

    /// <summary>The magnitude below which a weight is pruned.</summary>
    public double Threshold { get; }

    /// <inheritdoc/>
    public override int Select<T>(ReadOnlySpan<T> values, Span<bool> pruned, long free)
    {
        T t = T.CreateChecked(Threshold);
        return PruneSmallest(values, pruned, Limit(free), w => T.Abs(w) <= t);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Threshold({Threshold})");
}
