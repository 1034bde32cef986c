namespace Nerva;

/// <summary>
/// The random generator behind every random choice (initialisation, shuffling, dropout masks, supports):
/// xoshiro256** seeded through SplitMix64. It is written out here rather than taken from
/// <see cref="Random"/> so that a seed gives the same stream on every .NET version and platform.
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator whose state is drawn from <paramref name="seed"/> by SplitMix64.</summary>
    public Rng(ulong seed)
    {
        _s0 = SplitMix64(ref seed);
        _s1 = SplitMix64(ref seed);
        _s2 = SplitMix64(ref seed);
        _s3 = SplitMix64(ref seed);
    }

    /// <summary>
    /// The generator's four 64-bit words, for a checkpoint: a generator given them continues the same stream. Setting
    /// refuses anything but four words, not all zero (xoshiro's one state that never leaves itself).
    /// </summary>
    public ulong[] State
    {
        get => [_s0, _s1, _s2, _s3];
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length != 4 || value.All(word => word == 0)) throw new ArgumentException("a generator state is four 64-bit words, not all zero", nameof(value));
            (_s0, _s1, _s2, _s3) = (value[0], value[1], value[2], value[3]);
        }
    }

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64() => Step(ref _s0, ref _s1, ref _s2, ref _s3);

    /// <summary>Uniform on [0, 1), 53 random bits.</summary>
    public double NextDouble() => ToUnit(NextUInt64());

    /// <summary>
    /// A dropout mask: mask[k] = 0 where the k-th draw of <see cref="NextDouble"/> is below p, else <paramref name="keep"/>; the
    /// same stream as that many calls. The state stays in registers for the whole loop, and the draw is compared as the
    /// integer u of u·2⁻⁵³ (u·2⁻⁵³ &lt; p ⟺ u &lt; ⌈p·2⁵³⌉) to pick the value without a branch, which a p of 0.1–0.5 would mispredict.
    /// </summary>
    internal void DropoutMask<T>(Span<T> mask, double p, T keep) where T : unmanaged, System.Numerics.INumberBase<T>
    {
        ulong threshold = (ulong)Math.Ceiling(p * (1UL << 53));
        Span<T> values = [keep, T.Zero];
        ulong s0 = _s0, s1 = _s1, s2 = _s2, s3 = _s3;
        for (int k = 0; k < mask.Length; k++) mask[k] = values[Step(ref s0, ref s1, ref s2, ref s3) >> 11 < threshold ? 1 : 0];
        (_s0, _s1, _s2, _s3) = (s0, s1, s2, s3);
    }

    /// <summary>xoshiro256**: the output of state s, and s advanced.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static ulong Step(ref ulong s0, ref ulong s1, ref ulong s2, ref ulong s3)
    {
        ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>53 random bits as a double in [0, 1).</summary>
    private static double ToUnit(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform on [a, b).</summary>
    public double Uniform(double a, double b) => a + (b - a) * NextDouble();

    /// <summary>Uniform integer in [0, n), without modulo bias (Lemire's method).</summary>
    public int NextInt(int n) => (int)NextInt64(n);

    /// <summary>Uniform integer in [0, n), without modulo bias (Lemire's method on 64 bits).</summary>
    public long NextInt64(long n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), $"the range must be positive, got {n}");
        ulong range = (ulong)n;
        while (true)
        {
            UInt128 product = (UInt128)NextUInt64() * range;
            ulong low = (ulong)product;
            if (low >= range || low >= (0UL - range) % range) return (long)(product >> 64);
        }
    }

    /// <summary>Normal with mean μ and standard deviation σ (Marsaglia's polar method, one value per call).</summary>
    public double Normal(double mean, double stddev)
    {
        double u, v, s;
        do
        {
            u = 2 * NextDouble() - 1;
            v = 2 * NextDouble() - 1;
            s = u * u + v * v;
        } while (s >= 1 || s == 0);
        return mean + stddev * u * Math.Sqrt(-2 * Math.Log(s) / s);
    }

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates).</summary>
    public void Shuffle<TItem>(Span<TItem> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
