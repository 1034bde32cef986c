using System.Numerics;
using System.Runtime.CompilerServices;

namespace Nerva.Activations;

/// <summary>
/// e^x and e^x − 1 in float32, the same operations in a scalar and in every lane of a <see cref="Vector{T}"/>, so that
/// Sigmoid, HyperbolicTangent and ELU run as SIMD code and still give each element the same bits whatever the vector
/// width, the position in the batch or the thread count (MathF.Exp has no vector form, and .NET's vector Exp rounds
/// differently from it). Only IEEE additions, multiplications and selections, no fused multiply-add: every CPU rounds
/// them alike. Accuracy: within 2 ulp of the exact value over the whole float range (a test measures it).
/// <list type="number">
/// <item>x = n·ln 2 + r with n = round(x·log₂e) and |r| ≤ ½ ln 2, ln 2 split in two (Cody and Waite) so that n·C1 is exact;</item>
/// <item>e^r − 1 = r + r²(1/2! + r(1/3! + … + r/7!)) (Taylor: the first term left out, r⁸/8!, is below 0.2 ulp);</item>
/// <item>e^x = 2ⁿ(1 + (e^r − 1)) and e^x − 1 = 2ⁿ(e^r − 1) + (2ⁿ − 1) (the former above x = 40, where both round to the same
/// float and 2ⁿ alone could overflow), 2ⁿ applied as 2^⌊n/2⌋·2^(n−⌊n/2⌋) so that results between the smallest normal and
/// the smallest subnormal round once, at the last product.</item>
/// </list>
/// x is first clamped to [−105, 89], beyond which e^x is 0 or ∞ in float32; NaN stays NaN.
/// </summary>
internal static class SingleExponential
{
    private const float Log2E = 1.44269504f;
    private const float C1 = 0.693359375f;          // ln 2 = C1 + C2, C1 with 9 significant bits
    private const float C2 = -2.12194440e-4f;
    private const float Round = 12582912f;          // 1.5·2²³: x + Round − Round rounds x to an integer (|x| < 2²²)
    private const float Low = -105f, High = 89f;
    private const float Large = 40f;                // e^x − 1 = e^x in float32 above ~17; 2ⁿ − 1 overflows from x ≈ 88.4
    private const float P2 = 1f / 2, P3 = 1f / 6, P4 = 1f / 24, P5 = 1f / 120, P6 = 1f / 720, P7 = 1f / 5040;

    /// <summary>e^x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        float q = Expm1Reduced(x, out float s1, out float s2);
        return (1f + q) * s1 * s2;
    }

    /// <summary>e^x − 1, accurate for small |x|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Expm1(float x)
    {
        float q = Expm1Reduced(x, out float s1, out float s2);
        return x > Large ? (1f + q) * s1 * s2 : q * s1 * s2 + (s1 * s2 - 1f);
    }

    /// <summary>e^x in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Exp(Vector<float> x)
    {
        var q = Expm1Reduced(x, out var s1, out var s2);
        return (Vector<float>.One + q) * s1 * s2;
    }

    /// <summary>e^x − 1 in every lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector<float> Expm1(Vector<float> x)
    {
        var q = Expm1Reduced(x, out var s1, out var s2);
        return Vector.ConditionalSelect(Vector.GreaterThan(x, new Vector<float>(Large)),
            (Vector<float>.One + q) * s1 * s2, q * s1 * s2 + (s1 * s2 - Vector<float>.One));
    }

    /// <summary>e^r − 1 for x = n·ln 2 + r, and 2ⁿ as the two factors s1·s2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Expm1Reduced(float x, out float s1, out float s2)
    {
        x = x < Low ? Low : x;
        x = x > High ? High : x;
        float nf = x * Log2E + Round - Round;
        float r = x - nf * C1 - nf * C2;
        float q = r + r * r * (P2 + r * (P3 + r * (P4 + r * (P5 + r * (P6 + r * P7)))));
        int n = (int)nf, n1 = n >> 1;
        s1 = BitConverter.Int32BitsToSingle((n1 + 127) << 23);
        s2 = BitConverter.Int32BitsToSingle((n - n1 + 127) << 23);
        return q;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Expm1Reduced(Vector<float> x, out Vector<float> s1, out Vector<float> s2)
    {
        var low = new Vector<float>(Low);
        var high = new Vector<float>(High);
        x = Vector.ConditionalSelect(Vector.LessThan(x, low), low, x);
        x = Vector.ConditionalSelect(Vector.GreaterThan(x, high), high, x);
        var round = new Vector<float>(Round);
        var nf = x * new Vector<float>(Log2E) + round - round;
        var r = x - nf * new Vector<float>(C1) - nf * new Vector<float>(C2);
        var q = r + r * r * (new Vector<float>(P2) + r * (new Vector<float>(P3) + r * (new Vector<float>(P4)
            + r * (new Vector<float>(P5) + r * (new Vector<float>(P6) + r * new Vector<float>(P7))))));
        var n = Vector.ConvertToInt32(nf);
        var n1 = Vector.ShiftRightArithmetic(n, 1);
        var bias = new Vector<int>(127);
        s1 = Vector.AsVectorSingle(Vector.ShiftLeft(n1 + bias, 23));
        s2 = Vector.AsVectorSingle(Vector.ShiftLeft(n - n1 + bias, 23));
        return q;
    }
}
