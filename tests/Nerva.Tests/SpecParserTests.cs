using Nerva;
using Nerva.Optimizers;
using Nerva.Schedulers;
using Nerva.Specs;

namespace Nerva.Tests;

/// <summary>The original's option grammar, valid and invalid.</summary>
public sealed class SpecParserTests
{
    [Fact]
    public void Function_calls()
    {
        var call = FunctionCall.Parse(" SReLU(al=0.1, tl = -1,ar=2,tr=3) ");
        Assert.Equal("SReLU", call.Name);
        Assert.Equal(-1, call.Number(null, "tl"));
        Assert.Equal(0.9, FunctionCall.Parse("Momentum(0.9)").Number(null, "mu"));
        Assert.Equal(0, FunctionCall.Parse("ReLU").Count);
        Assert.Contains("'mu' is given twice", Assert.Throws<InvalidSpecException>(() => FunctionCall.Parse("Momentum(mu=1, mu=2)")).Message);
        Assert.Contains("expected NAME", Assert.Throws<InvalidSpecException>(() => FunctionCall.Parse("Momentum(0.9")).Message);
        Assert.Contains("must be a number", Assert.Throws<InvalidSpecException>(() => SpecParser.Optimizer("Momentum(fast)")).Message);
    }

    [Fact]
    public void Lists_and_sizes()
    {
        Assert.Equal([3072, 1024, 10], SpecParser.LayerSizes("3072;1024;10"));
        Assert.Equal([3072, 1024, 10], SpecParser.LayerSizes("3072,1024, 10"));
        Assert.Contains("'x' is not a positive integer", Assert.Throws<InvalidSpecException>(() => SpecParser.LayerSizes("784;x;10")).Message);
        Assert.Equal(["ReLU", "Linear"], SpecParser.List(" ReLU ;; Linear;"));
        Assert.Equal([0.5, 0.5, 0.5], SpecParser.Numbers("--dropouts", "0.5", 3, 0, 0, 1));
        Assert.Contains("2 values for 3 linear layers", Assert.Throws<InvalidSpecException>(() => SpecParser.Numbers("--dropouts", "0.1;0.2", 3, 0, 0, 1)).Message);
        Assert.Contains("not a number in [0, 1]", Assert.Throws<InvalidSpecException>(() => SpecParser.Numbers("--densities", "1.5", 1, 1, 0, 1)).Message);
    }

    [Fact]
    public void Names_with_their_valid_choices()
    {
        Assert.Contains("valid: SquaredError", Assert.Throws<InvalidSpecException>(() => SpecParser.Loss("Hinge")).Message);
        Assert.IsType<Losses.NegativeLogLikelihoodLoss>(SpecParser.Loss("NegativeLoglikelihood"));
        Assert.Contains("valid: GradientDescent, Momentum(mu)", Assert.Throws<InvalidSpecException>(() => SpecParser.Optimizer("RMSProp")).Message);
        Assert.Equal(new Nesterov(0.5), SpecParser.Optimizer("Nesterov(momentum=0.5)"));
        Assert.Contains("valid: Xavier, XavierNormalized", Assert.Throws<InvalidSpecException>(() => SpecParser.Weights("Glorot")).Message);
        Assert.Contains("NaN", Assert.Throws<InvalidSpecException>(() => SpecParser.Weights("None")).Message);
        Assert.Contains("valid: Constant(lr)", Assert.Throws<InvalidSpecException>(() => SpecParser.Scheduler("Cosine(lr=1)", 0.1)).Message);
        Assert.Contains("takes no arguments", Assert.Throws<InvalidSpecException>(() => SpecParser.Optimizer("GradientDescent(0.1)")).Message);
    }

    [Fact]
    public void Schedulers_with_any_number_of_milestones()
    {
        var multi = Assert.IsType<MultiStepScheduler>(SpecParser.Scheduler("MultiStepLR(lr=0.1,milestones=50|75|90,gamma=0.1)", 0.01));
        Assert.Equal([50, 75, 90], multi.Milestones);
        Assert.IsType<MultiStepScheduler>(SpecParser.Scheduler("MultistepLR(lr=0.1, milestones=50, gamma=0.5)", 0.01));
        Assert.Contains("milestones must increase", Assert.Throws<InvalidSpecException>(() => SpecParser.Scheduler("MultiStepLR(milestones=9|3,gamma=0.1)", 0.1)).Message);
        Assert.Equal(new TimeBasedScheduler(0.01, 0.5), SpecParser.Scheduler("TimeBased(decay=0.5)", 0.01));
        Assert.Equal(new StepBasedScheduler(1, 0.5, 10), SpecParser.Scheduler("StepBased(lr=1,drop_rate=0.5,change_rate=10)", 0.01));
        Assert.Equal(new ExponentialScheduler(0.1, 0.2), SpecParser.Scheduler("Exponential(lr=0.1,change_rate=0.2)", 0.01));
        Assert.Contains("missing argument 'decay'", Assert.Throws<InvalidSpecException>(() => SpecParser.Scheduler("TimeBased(lr=0.1)", 0.1)).Message);
        Assert.Contains("unknown argument 'gama'", Assert.Throws<InvalidSpecException>(() => SpecParser.Scheduler("Exponential(gama=1)", 0.1)).Message);
    }

    [Fact]
    public void Networks_from_layer_lists()
    {
        var rng = new Rng(1);
        WeightInitializer[] xavier = [WeightInitializer.Xavier];
        OptimizerSpec[] gd = [new GradientDescent()];
        var mlp = NetworkBuilder.Build(["ReLU", "BatchNormalization", "SReLU(al=0,tl=0,ar=0,tr=1)", "ELU(0.5)", "Softmax"], [4, 8, 8, 6, 3], [0.1], xavier, gd, rng);
        Assert.Equal(5, mlp.Layers.Count);
        Assert.Equal("BatchNormalization(input_size=8, output_size=8)", mlp.Layers[1].ToString());
        Assert.Contains("activation=SReLU(al=0,tl=0,ar=0,tr=1), dropout=0.1", mlp.Layers[2].ToString());
        Assert.Contains("needs 3 sizes, got 4", Assert.Throws<InvalidSpecException>(() => NetworkBuilder.Build(["ReLU", "Linear"], [1, 2, 3, 4], [0], xavier, gd, rng)).Message);
        Assert.Contains("unknown layer 'Swish'", Assert.Throws<InvalidSpecException>(() => NetworkBuilder.Build(["Swish"], [1, 2], [0], xavier, gd, rng)).Message);
        Assert.Contains("2 values for 3 layers with parameters (convolutions and BatchNormalization included)",
            Assert.Throws<InvalidSpecException>(() => NetworkBuilder.Build(["ReLU", "BatchNormalization", "Linear"], [1, 2, 3], [0], xavier, [new GradientDescent(), new GradientDescent()], rng)).Message);
        Assert.Contains("missing argument 'alpha'", Assert.Throws<InvalidSpecException>(() => NetworkBuilder.Build(["LeakyReLU"], [1, 2], [0], xavier, gd, rng)).Message);
    }
}
