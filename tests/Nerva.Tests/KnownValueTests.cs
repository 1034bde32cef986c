using Nerva;
using Nerva.Activations;
using static Nerva.MatrixOperations;

namespace Nerva.Tests;

/// <summary>Values that must come out exactly or stay finite: stable functions, breakpoints, tails.</summary>
public sealed class KnownValueTests
{
    [Fact]
    public void Log_sigmoid_is_finite_and_accurate_in_both_tails()
    {
        Assert.Equal(-1000.0, LogSigmoid(-1000.0));
        Assert.Equal(-1000f, LogSigmoid(-1000f));
        Assert.Equal(0.0, LogSigmoid(1000.0));
        foreach (double x in new[] { 20.0, 25, 30, 37 })
        {
            // log σ(x) = −log(1 + e^−x) = −e^−x + e^−2x/2 − …
            double e = Math.Exp(-x), series = -e + e * e / 2;
            Assert.True(Math.Abs(LogSigmoid(x) - series) <= 1e-15 * Math.Abs(series), $"log σ({x}) = {LogSigmoid(x):R}, series {series:R}");
        }
        Assert.Equal(1.0, Sigmoid(1000.0));
        Assert.Equal(0.0, Sigmoid(-1000.0));
        Assert.Equal(Math.Exp(-745), Sigmoid(-745.0));
    }

    [Fact]
    public void Log1p_and_expm1_keep_tiny_arguments()
    {
        foreach (double x in new[] { 1e-13, -3e-9, 1e-5, 0.3 })
        {
            double log1p = x - x * x / 2 + x * x * x / 3 - x * x * x * x / 4;
            double expm1 = x + x * x / 2 + x * x * x / 6 + x * x * x * x / 24;
            if (Math.Abs(x) < 1e-4)
            {
                Assert.Equal(log1p, ScalarFunctions.Log1p(x), Math.Abs(x) * 1e-15);
                Assert.Equal(expm1, ScalarFunctions.Expm1(x), Math.Abs(x) * 1e-15);
            }
            Assert.Equal(Math.Log(1 + x), ScalarFunctions.Log1p(x), 1e-15 + Math.Abs(x) * 1e-3);
        }
        Assert.Equal(-1.0, ScalarFunctions.Expm1(-800.0));
        Assert.Equal(1e-20f, ScalarFunctions.Log1p(1e-20f));
    }

    [Fact]
    public void ELU_keeps_precision_for_small_negative_inputs()
    {
        var elu = new ELU<double>(2.0);
        Assert.Equal(2 * (-1e-10 + 5e-21), elu.Value(-1e-10), 1e-25);
        Assert.Equal(-2.0, elu.Value(-100));
        Assert.Equal(3.0, elu.Value(3));
    }

    [Fact]
    public void SReLU_follows_the_section_5_convention_at_its_breakpoints()
    {
        var s = new SReLU<double>(al: 0.5, tl: -1, ar: 2, tr: 1);
        Assert.Equal(-1.0, s.Value(-1));      // x ≤ t_l: t_l + a_l(x − t_l) = t_l
        Assert.Equal(0.5, s.Derivative(-1));  // the left case includes t_l
        Assert.Equal(1.0, s.Value(1));        // x ≥ t_r: t_r + a_r(x − t_r) = t_r
        Assert.Equal(2.0, s.Derivative(1));   // the right case includes t_r
        Assert.Equal(1.0, s.Derivative(0));
        Assert.Equal(-2.0, s.Value(-3));      // −1 + 0.5·(−2)
        Assert.Equal(5.0, s.Value(3));        // 1 + 2·2
        // Overlapping cases (t_l ≥ t_r): the first that applies is taken.
        var overlap = new SReLU<double>(al: 0.5, tl: 1, ar: 2, tr: -1);
        Assert.Equal(0.5, overlap.Derivative(0));
        Assert.Equal(1.0, overlap.Value(1));
        Assert.Equal(2.0, overlap.Derivative(1.5));
        // The original's CLI defaults al=0, tl=0, ar=0, tr=1 saturate at 1 (not ReLU).
        var cli = new SReLU<double>(0, 0, 0, 1);
        Assert.Equal(1.0, cli.Value(5));
        Assert.Equal(0.0, cli.Value(-5));
    }

    [Fact]
    public void Activation_values_and_derivatives()
    {
        Assert.Equal(1.0, new ReLU<double>().Derivative(0));        // 1 at 0, as the original
        Assert.Equal(0.0, new ReLU<double>().Derivative(-1e-300));
        Assert.Equal(-0.2, new LeakyReLU<double>(0.1).Value(-2), 15);
        Assert.Equal(0.1, new LeakyReLU<double>(0.1).Derivative(-2));
        Assert.Equal(0.6, new AllReLU<double>(-0.3).Value(-2), 15);
        Assert.Equal(0.0, new TReLU<double>(0.5).Value(0.4));
        Assert.Equal(0.5, new TReLU<double>(0.5).Value(0.5));
        Assert.Equal(0.25, new Sigmoid<double>().Derivative(0));
        Assert.Equal(1 - Math.Tanh(0.7) * Math.Tanh(0.7), new HyperbolicTangent<double>().Derivative(0.7), 15);
    }

    [Fact]
    public void Stable_functions_never_make_NaN_from_finite_inputs()
    {
        float[] extremes = [float.MaxValue, -float.MaxValue, 1e30f, -1e30f, 88.8f, -104f, 0, float.Epsilon, -float.Epsilon, 1e-30f];
        var X = new Matrix<float>(extremes.Length, extremes.Length);
        for (int i = 0; i < extremes.Length; i++)
            for (int j = 0; j < extremes.Length; j++) X[i, j] = extremes[(i + j) % extremes.Length];
        foreach (var (name, Y) in new[]
        {
            ("stable softmax", SoftmaxFunctions.StableSoftmax(X)),
            ("stable log-softmax", SoftmaxFunctions.StableLogSoftmax(X)),
            ("log sigmoid", LogSigmoid(X)),
            ("sigmoid", Sigmoid(X)),
        })
        {
            foreach (float y in Y.AsSpan()) Assert.False(float.IsNaN(y), $"{name} gave NaN");
        }
        var T = new Matrix<float>(X.Rows, X.Cols);
        for (int i = 0; i < T.Rows; i++) T[i, i] = 1;
        var DY = new Matrix<float>(0, 0);
        new Losses.SoftmaxCrossEntropyLoss().Gradient(X, T, DY);
        foreach (float d in DY.AsSpan()) Assert.True(float.IsFinite(d));
        new Losses.LogisticCrossEntropyLoss().Gradient(X, T, DY);
        foreach (float d in DY.AsSpan()) Assert.True(float.IsFinite(d));
        Assert.False(double.IsNaN(new Losses.LogisticCrossEntropyLoss().Value(X, T)));
    }
}
