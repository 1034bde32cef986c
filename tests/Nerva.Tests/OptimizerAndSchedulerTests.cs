using Nerva;
using Nerva.Optimizers;
using Nerva.Schedulers;

namespace Nerva.Tests;

/// <summary>The optimizers of seed 000 §8 and the schedulers of §9 on hand-computed values.</summary>
public sealed class OptimizerAndSchedulerTests
{
    private static (Matrix<double> theta, Matrix<double> Dtheta) Pair() => (Matrix<double>.FromRows([1.0, -2.0]), Matrix<double>.FromRows([0.5, 0.25]));

    [Fact]
    public void Gradient_descent()
    {
        var (theta, Dtheta) = Pair();
        new GradientDescent().Create(theta, Dtheta).Update(0.1);
        Assert.Equal([1 - 0.05, -2 - 0.025], theta.AsSpan().ToArray());
    }

    [Fact]
    public void Momentum_two_steps()
    {
        var (theta, Dtheta) = Pair();
        var optimizer = new Momentum(0.9).Create(theta, Dtheta);
        optimizer.Update(0.1);  // Δ = −0.05, θ = 0.95
        optimizer.Update(0.1);  // Δ = 0.9·(−0.05) − 0.05 = −0.095, θ = 0.855
        Assert.Equal(0.855, theta[0, 0], 15);
        Assert.Equal(-0.095, optimizer.State[0][0, 0], 15);
    }

    [Fact]
    public void Nesterov_two_steps()
    {
        var (theta, Dtheta) = Pair();
        var optimizer = new Nesterov(0.9).Create(theta, Dtheta);
        optimizer.Update(0.1);  // Δ = −0.05; θ = 1 + 0.9·(−0.05) − 0.05 = 0.905
        Assert.Equal(0.905, theta[0, 0], 15);
        optimizer.Update(0.1);  // Δ = −0.095; θ = 0.905 + 0.9·(−0.095) − 0.05 = 0.7695
        Assert.Equal(0.7695, theta[0, 0], 15);
    }

    [Theory]
    [InlineData("GradientDescent")]
    [InlineData("Momentum")]
    [InlineData("Nesterov")]
    [InlineData("Adam")]
    public void Vectorised_updates_follow_the_equations_on_every_element(string name)
    {
        // 37 elements: the vector loop and the scalar tail.
        var rng = new Rng(3);
        var theta = TestData.Random(1, 37, rng).Convert<float>();
        var Dtheta = TestData.Random(1, 37, rng).Convert<float>();
        OptimizerSpec spec = name switch
        {
            "Momentum" => new Momentum(0.9), "Nesterov" => new Nesterov(0.9), "Adam" => new Adam(0.8, 0.95, 1e-3), _ => new GradientDescent(),
        };
        var optimizer = spec.Create(theta, Dtheta);
        var x = theta.AsSpan().ToArray();
        var delta = new float[37];
        var v = new float[37];
        for (int step = 0; step < 3; step++)
        {
            optimizer.Update(0.1f);
            float correction1 = 1 / (1 - (float)Math.Pow(0.8, step + 1)), correction2 = 1 / (1 - (float)Math.Pow(0.95, step + 1));
            for (int k = 0; k < 37; k++)
            {
                float dx = Dtheta[0, k];
                switch (name)
                {
                    case "GradientDescent": x[k] -= 0.1f * dx; break;               // θ' = θ − η·Dθ
                    case "Momentum": delta[k] = 0.9f * delta[k] - 0.1f * dx; x[k] += delta[k]; break;
                    case "Adam":                                                      // Δ holds m
                        delta[k] = 0.8f * delta[k] + (1 - 0.8f) * dx;
                        v[k] = 0.95f * v[k] + (1 - 0.95f) * dx * dx;
                        x[k] -= 0.1f * (delta[k] * correction1) / (MathF.Sqrt(v[k] * correction2) + 1e-3f);
                        break;
                    default: delta[k] = 0.9f * delta[k] - 0.1f * dx; x[k] += 0.9f * delta[k] - 0.1f * dx; break;
                }
            }
        }
        Assert.Equal(x, theta.AsSpan().ToArray());
    }

    [Fact]
    public void Adam_first_step_moves_by_the_learning_rate()
    {
        var (theta, Dtheta) = Pair();
        new Adam().Create(theta, Dtheta).Update(0.01);
        // With bias correction the first step is η·sign(Dθ) up to ε.
        Assert.Equal(1 - 0.01, theta[0, 0], 9);
        Assert.Equal(-2 - 0.01, theta[0, 1], 9);
    }

    [Fact]
    public void Optimizers_have_the_original_text_and_reject_mismatched_shapes()
    {
        Assert.Equal("Momentum(0.90000)", new Momentum(0.9).ToString());
        Assert.Equal("Nesterov(0.50000)", new Nesterov(0.5).ToString());
        Assert.Equal("GradientDescent", new GradientDescent().ToString());
        var error = Assert.Throws<ArgumentException>(() => new Momentum(0.9).Create(new Matrix<double>(2, 3), new Matrix<double>(3, 2)));
        Assert.Contains("2×3", error.Message);
    }

    [Fact]
    public void Schedulers()
    {
        Assert.Equal(0.1, new ConstantScheduler(0.1).LearningRate(17));
        var time = new TimeBasedScheduler(0.1, 0.5);
        Assert.Equal([0.1, 0.1, 0.1 / 1.5, 0.1 / 1.5 / 2], Enumerable.Range(0, 4).Select(time.LearningRate));
        var step = new StepBasedScheduler(1.0, 0.5, 3);
        Assert.Equal([1.0, 1.0, 0.5, 0.5, 0.5, 0.25], Enumerable.Range(0, 6).Select(step.LearningRate));
        var multi = new MultiStepScheduler(1.0, [2, 4, 7], 0.1);
        Assert.Equal([1.0, 1.0, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001], Enumerable.Range(0, 8).Select(multi.LearningRate).Select(v => Math.Round(v, 12)));
        Assert.Equal(0.5 * Math.Exp(-0.2 * 3), new ExponentialScheduler(0.5, 0.2).LearningRate(3));
        Assert.Throws<ArgumentException>(() => new MultiStepScheduler(1, [5, 3], 0.1));
        Assert.Equal("MultiStepLRScheduler(lr=1, milestones=[2, 4, 7], gamma=0.1)", multi.ToString());
    }
}
