using System.Numerics;
using Nerva.Activations;

namespace Nerva.Tests;

/// <summary>The vectorized activation passes give the scalar functions' results bit for bit, tails included.</summary>
public sealed class ActivationKernelTests
{
    // breakpoints, signed zeros, tiny and huge values, NaN and infinities, then random values
    private static T[] Inputs<T>(int count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double[] special = [0, -0.0, 1, -1, 0.25, -0.25, 0.5, 2, -2, 1e-40, -1e-40, 1e30, -1e30, double.NaN, double.PositiveInfinity, double.NegativeInfinity];
        var rng = new Rng(7);
        var z = new T[count];
        for (int k = 0; k < count; k++) z[k] = T.CreateChecked(k < special.Length ? special[k] : rng.Uniform(-3, 3));
        return z;
    }

    private static void Check<T, TAct>(TAct act) where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IActivationFunction<T>
    {
        // lengths around whole vectors, so that both the vector loop and the scalar tail run
        foreach (int count in new[] { 1, Vector<T>.Count - 1, 3 * Vector<T>.Count, 3 * Vector<T>.Count + 5, 1000 })
        {
            var z = Inputs<T>(count);
            var dy = Inputs<T>(count + 3)[3..];
            var y = new T[count];
            var dz = new T[count];
            ActivationKernels.Value(act, z, y);
            ActivationKernels.Backpropagate(act, z, dy, dz);
            for (int k = 0; k < count; k++)
            {
                Assert.True(Same(act.Value(z[k]), y[k]), $"{act}: act({z[k]}) = {act.Value(z[k])}, kernel gave {y[k]}");
                T expected = dy[k] * act.Derivative(z[k]);
                Assert.True(Same(expected, dz[k]), $"{act}: dy·act'({z[k]}) = {expected}, kernel gave {dz[k]}");
            }
        }
        // the vector forms themselves, lane by lane
        var v = new Vector<T>(Inputs<T>(Vector<T>.Count));
        for (int i = 0; i < Vector<T>.Count; i++)
        {
            Assert.True(Same(act.Value(v[i]), act.Value(v)[i]), $"{act}: vector act differs in lane {i} ({v[i]})");
            Assert.True(Same(act.Derivative(v[i]), act.Derivative(v)[i]), $"{act}: vector act' differs in lane {i} ({v[i]})");
        }
    }

    private static bool Same<T>(T a, T b) where T : unmanaged, IFloatingPointIeee754<T>
        => T.IsNaN(a) ? T.IsNaN(b) : a == b && T.IsNegative(a) == T.IsNegative(b);

    [Fact]
    public void Vector_forms_equal_the_scalar_forms_in_float()
    {
        Check<float, ReLU<float>>(new());
        Check<float, LeakyReLU<float>>(new(0.1f));
        Check<float, AllReLU<float>>(new(-0.3f));
        Check<float, TReLU<float>>(new(1e-30f));
        Check<float, SReLU<float>>(new(0.5f, -1, 2, 1));
        Check<float, SReLU<float>>(new(0.5f, 1, 2, -1));   // overlapping cases: the first one applies
        Check<float, ELU<float>>(new(1));
        Check<float, Sigmoid<float>>(new());
        Check<float, HyperbolicTangent<float>>(new());
    }

    [Fact]
    public void Vector_forms_equal_the_scalar_forms_in_double()
    {
        Check<double, ReLU<double>>(new());
        Check<double, LeakyReLU<double>>(new(0.1));
        Check<double, AllReLU<double>>(new(-0.3));
        Check<double, TReLU<double>>(new(1e-300));
        Check<double, SReLU<double>>(new(0.5, -1, 2, 1));
        Check<double, SReLU<double>>(new(0, 0, 0, 1));
        Check<double, ELU<double>>(new(1));
        Check<double, Sigmoid<double>>(new());
        Check<double, HyperbolicTangent<double>>(new());
    }

    [Fact]
    public void Float_exponential_activations_are_within_three_ulp_of_the_exact_values()
    {
        // float32 Sigmoid, HyperbolicTangent and ELU use our own e^x (SingleExponential), not MathF's: measured against float64
        Sigmoid<float> sigmoid = new();
        HyperbolicTangent<float> tanh = new();
        ELU<float> elu = new(1);
        var checks = new (string Name, Func<float, float> Value, Func<float, float> Derivative, Func<double, double> Exact, Func<double, double> ExactDerivative)[]
        {
            ("Sigmoid", sigmoid.Value, sigmoid.Derivative, x => 1 / (1 + Math.Exp(-x)), x => Math.Exp(-x) / ((1 + Math.Exp(-x)) * (1 + Math.Exp(-x)))),
            ("HyperbolicTangent", tanh.Value, tanh.Derivative, Math.Tanh, x => 1 / (Math.Cosh(x) * Math.Cosh(x))),
            ("ELU(1)", elu.Value, elu.Derivative, x => x < 0 ? ScalarFunctions.Expm1(x) : x, x => x < 0 ? Math.Exp(x) : 1),
        };
        foreach (var (name, value, derivative, exact, exactDerivative) in checks)
        {
            double worst = 0, worstDerivative = 0;
            for (int i = -30_000; i <= 30_000; i++)
            {
                float x = i / 1000f;
                worst = Math.Max(worst, Ulps(value(x), exact(x)));
                // σ(1 − σ) and 1 − tanh² (seed 000 §5) cancel as σ → 1 and |tanh| → 1, whatever computes σ and tanh
                if (name == "ELU(1)" || Math.Abs(x) < 0.5f)
                    worstDerivative = Math.Max(worstDerivative, Ulps(derivative(x), exactDerivative(x)));
            }
            Assert.True(worst <= 3, $"{name} is {worst:F2} ulp off");
            Assert.True(worstDerivative <= 4, $"{name}' is {worstDerivative:F2} ulp off");
        }
    }

    /// <summary>|y − exact| in units of the last place of the float nearest to exact (the smallest subnormal at least).</summary>
    private static double Ulps(float y, double exact)
    {
        float nearest = (float)exact;
        double ulp = Math.Max(Math.Abs((double)MathF.BitIncrement(Math.Abs(nearest)) - Math.Abs(nearest)), float.Epsilon);
        return Math.Abs(y - exact) / ulp;
    }

    [Fact]
    public void Kernels_refuse_spans_of_different_lengths()
    {
        var e = Assert.Throws<ArgumentException>(() => ActivationKernels.Value(new ReLU<float>(), new float[4], new float[3]));
        Assert.Contains("4", e.Message);
        Assert.Throws<ArgumentException>(() => ActivationKernels.Backpropagate(new ReLU<float>(), new float[4], new float[4], new float[5]));
    }
}
