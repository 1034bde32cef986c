using System.Numerics;
using Nerva.Activations;

namespace Nerva.Tests;

/// <summary>The float32 e^x and e^x − 1 behind the SIMD Sigmoid, HyperbolicTangent and ELU: accurate, and the same bits in a scalar and in a vector lane.</summary>
public sealed class SingleExponentialTests
{
    private static readonly float[] Specials =
    [
        0f, -0f, float.Epsilon, -float.Epsilon, 1e-30f, -1e-30f, 1e-8f, -1e-8f, 0.3465f, -0.3465f, 0.5f, -0.5f, 1f, -1f, 10f, -10f,
        -17f, 20f, 87f, 88.7f, 88.72f, 88.73f, 89f, 100f, -87.3f, -87.34f, -100f, -103.9f, -104f, -105f, -200f, 1e30f, -1e30f,
        float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity,
    ];

    /// <summary>Every 1/1000 from −110 to 95, the specials, and 100 000 random floats of magnitude below 128.</summary>
    private static float[] Inputs()
    {
        var inputs = new List<float>(Specials);
        for (int i = -110_000; i <= 95_000; i++) inputs.Add(i / 1000f);
        var rng = new Rng(7);
        for (int i = 0; i < 100_000; i++) inputs.Add((float)(rng.Uniform(-1, 1) * Math.Pow(2, rng.Uniform(-30, 7))));
        return [.. inputs];
    }

    /// <summary>|y − exact| in units of the last place of the float nearest to exact (the smallest subnormal below 2⁻¹²⁶).</summary>
    private static double Ulps(float y, double exact)
    {
        if (double.IsInfinity(exact) || Math.Abs(exact) > float.MaxValue) return float.IsPositiveInfinity(y) == exact > 0 && float.IsInfinity(y) ? 0 : double.PositiveInfinity;
        float nearest = (float)exact;
        double ulp = Math.Max(Math.Abs((double)MathF.BitIncrement(Math.Abs(nearest)) - Math.Abs(nearest)), float.Epsilon);
        return Math.Abs(y - exact) / ulp;
    }

    [Fact]
    public void Exp_and_expm1_are_within_two_ulp_of_the_exact_values()
    {
        double worstExp = 0, worstExpm1 = 0;
        float atExp = 0, atExpm1 = 0;
        foreach (float x in Inputs())
        {
            double e = Ulps(SingleExponential.Exp(x), Math.Exp(x));
            double m = Ulps(SingleExponential.Expm1(x), ScalarFunctions.Expm1((double)x));
            if (e > worstExp) (worstExp, atExp) = (e, x);
            if (m > worstExpm1) (worstExpm1, atExpm1) = (m, x);
        }
        Assert.True(worstExp <= 2, $"e^x is {worstExp:F2} ulp off at x = {atExp:R}");
        Assert.True(worstExpm1 <= 2, $"e^x − 1 is {worstExpm1:F2} ulp off at x = {atExpm1:R}");
        Assert.True(float.IsNaN(SingleExponential.Exp(float.NaN)) && float.IsNaN(SingleExponential.Expm1(float.NaN)));
    }

    [Fact]
    public void A_vector_lane_gives_the_bits_of_the_scalar()
    {
        var inputs = Inputs().Append(float.NaN).ToArray();
        int lanes = Vector<float>.Count;
        var lane = new float[lanes];
        for (int i = 0; i + lanes <= inputs.Length; i += lanes)
        {
            var x = new Vector<float>(inputs, i);
            var exp = SingleExponential.Exp(x);
            var expm1 = SingleExponential.Expm1(x);
            for (int j = 0; j < lanes; j++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(SingleExponential.Exp(inputs[i + j])), BitConverter.SingleToInt32Bits(exp[j]));
                Assert.Equal(BitConverter.SingleToInt32Bits(SingleExponential.Expm1(inputs[i + j])), BitConverter.SingleToInt32Bits(expm1[j]));
            }
        }
    }
}
