using System.Globalization;
using Nerva.Losses;
using Nerva.Optimizers;
using Nerva.Schedulers;
using Nerva.Sparse;

namespace Nerva.Specs;

/// <summary>Parsers for the <c>mlp</c> tool's option values, with the original's names and grammar.</summary>
public static class SpecParser
{
    /// <summary>The losses <see cref="Loss"/> takes.</summary>
    public static IReadOnlyList<string> LossNames { get; } = Array.AsReadOnly<string>(["SquaredError", "MeanSquaredError", "CrossEntropy", "SoftmaxCrossEntropy", "LogisticCrossEntropy", "NegativeLogLikelihood", "BinaryCrossEntropy"]);
    /// <summary>The optimizers <see cref="Optimizer"/> takes.</summary>
    public static IReadOnlyList<string> OptimizerNames { get; } = Array.AsReadOnly<string>(["GradientDescent", "Momentum(mu)", "Nesterov(mu)", "Adam(beta1, beta2, epsilon)"]);
    /// <summary>The schedulers <see cref="Scheduler"/> takes.</summary>
    public static IReadOnlyList<string> SchedulerNames { get; } = Array.AsReadOnly<string>(["Constant(lr)", "TimeBased(lr, decay)", "StepBased(lr, drop_rate, change_rate)", "MultiStepLR(lr, milestones=m1|m2|..., gamma)", "Exponential(lr, change_rate)"]);
    /// <summary>The prune strategies.</summary>
    public static IReadOnlyList<string> PruneNames { get; } = Array.AsReadOnly<string>(["Magnitude(zeta)", "SET(zeta)", "Threshold(value)"]);
    /// <summary>The grow strategies.</summary>
    public static IReadOnlyList<string> GrowNames { get; } = Array.AsReadOnly<string>(["Random", "Gradient"]);
    /// <summary>The initializers <see cref="Weights"/> takes.</summary>
    public static IReadOnlyList<string> WeightNames { get; } = Array.AsReadOnly<string>(["Xavier", "XavierNormalized", "XavierLogistic", "He", "HeUniform", "Uniform", "PyTorch", "Zero"]);

    /// <summary>A ';'-separated list; items are trimmed and empty items dropped (the original's <c>regex_split</c>).</summary>
    public static string[] List(string? text, bool allowCommas = false)
        => text is null ? [] : text.Split(allowCommas ? [';', ','] : [';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary><c>--layer-sizes</c>: natural numbers separated by ';', ',' or '-' (as <see cref="Model.Create"/> takes them).</summary>
    public static int[] LayerSizes(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var items = List(text, allowCommas: true).SelectMany(item => item.Split('-', StringSplitOptions.TrimEntries)).ToArray();
        if (items.Length < 2) throw new InvalidSpecException($"--layer-sizes '{text}': give at least two sizes, e.g. \"784;256;10\" or \"784-256-10\"");
        return [.. items.Select(item => int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : throw new InvalidSpecException($"--layer-sizes '{text}': '{item}' is not a positive integer"))];
    }

    /// <summary>A list of reals with one value per layer, or one value for all.</summary>
    public static double[] Numbers(string option, string? text, int count, double fallback, double min, double max)
    {
        var items = List(text);
        if (items.Length == 0) return [.. Enumerable.Repeat(fallback, count)];
        var values = items.Select(item => double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= min && v <= max
            ? v : throw new InvalidSpecException($"{option}: '{item}' is not a number in [{min}, {max}]")).ToArray();
        return Replicate(option, values, count);
    }

    /// <summary>One value for all, or exactly <paramref name="count"/> values.</summary>
    public static TItem[] Replicate<TItem>(string option, TItem[] items, int count, string what = "linear layers")
    {
        if (items.Length == 1) return [.. Enumerable.Repeat(items[0], count)];
        if (items.Length != count) throw new InvalidSpecException($"{option}: {items.Length} values for {count} {what} (give one value, or one per layer)");
        return items;
    }

    /// <summary>The loss named by <paramref name="text"/>, or one line listing the valid names.</summary>
    public static ILossFunction Loss(string text) => text.Trim() switch
    {
        "SquaredError" => new SquaredErrorLoss(),
        "MeanSquaredError" => new MeanSquaredErrorLoss(),
        "CrossEntropy" => new CrossEntropyLoss(),
        "SoftmaxCrossEntropy" => new SoftmaxCrossEntropyLoss(),
        "LogisticCrossEntropy" => new LogisticCrossEntropyLoss(),
        "NegativeLogLikelihood" or "NegativeLoglikelihood" => new NegativeLogLikelihoodLoss(),
        "BinaryCrossEntropy" => new BinaryCrossEntropyLoss(),
        _ => throw new InvalidSpecException($"unknown loss '{text}' (valid: {string.Join(", ", LossNames)})"),
    };

    /// <summary>The optimizer <paramref name="text"/> describes (NAME or NAME(arguments)), its arguments checked, or one line listing the valid names.</summary>
    public static OptimizerSpec Optimizer(string text)
    {
        var call = FunctionCall.Parse(text);
        switch (call.Name)
        {
            case "GradientDescent":
                call.Allow();
                return new GradientDescent();
            case "Momentum" or "Nesterov":
                call.Allow("mu|momentum");
                double mu = call.Number(null, "mu", "momentum");
                if (!(mu >= 0 && mu < 1)) throw new InvalidSpecException($"{call.Name}: mu must be in [0, 1), got {mu}");
                return call.Name == "Momentum" ? new Momentum(mu) : new Nesterov(mu);
            case "Adam":
                call.Allow("beta1", "beta2", "epsilon");
                if (call.IsPositional) throw new InvalidSpecException($"Adam: give all three parameters, Adam(beta1, beta2, epsilon), or name them, Adam(beta1={call.Value("beta1")})");
                try
                {
                    return new Adam(call.Number(0.9, "beta1"), call.Number(0.999, "beta2"), call.Number(1e-8, "epsilon"));
                }
                catch (ArgumentOutOfRangeException e)
                {
                    throw new InvalidSpecException(e.Message.Split(" (Parameter", 2)[0]);
                }
            default:
                throw new InvalidSpecException($"unknown optimizer '{text}' (valid: {string.Join(", ", OptimizerNames)})");
        }
    }

    /// <summary>
    /// A scheduler; a missing lr takes <paramref name="learningRate"/> (the --learning-rate value). Every parameter is checked
    /// where its equation needs it: lr, drop_rate, change_rate of StepBased and gamma positive; decay and Exponential's
    /// change_rate at least 0.
    /// </summary>
    public static ILearningRateScheduler Scheduler(string text, double learningRate)
    {
        var call = FunctionCall.Parse(text);
        double Positive(string key, double? fallback = null) => Checked(call, key, call.Number(fallback, key), v => v > 0, "positive");
        double NonNegative(string key) => Checked(call, key, call.Number(null, key), v => v >= 0, "at least 0");
        switch (call.Name)
        {
            case "Constant":
                call.Allow("lr");
                return new ConstantScheduler(Positive("lr", learningRate));
            case "TimeBased":
                call.Allow("lr", "decay");
                return new TimeBasedScheduler(Positive("lr", learningRate), NonNegative("decay"));
            case "StepBased":
                call.Allow("lr", "drop_rate", "change_rate");
                return new StepBasedScheduler(Positive("lr", learningRate), Positive("drop_rate"), Positive("change_rate"));
            case "MultiStepLR" or "MultistepLR":
                call.Allow("lr", "milestones", "gamma");
                string milestones = call.Value("milestones") ?? throw new InvalidSpecException($"{call.Name}: missing argument 'milestones' (write milestones=50|75)");
                var values = milestones.Split('|', StringSplitOptions.TrimEntries).Select(m => int.TryParse(m, NumberStyles.None, CultureInfo.InvariantCulture, out int v)
                    ? v : throw new InvalidSpecException($"{call.Name}: milestone '{m}' is not a positive integer (separate milestones with '|')")).ToArray();
                try
                {
                    return new MultiStepScheduler(Positive("lr", learningRate), values, Positive("gamma"));
                }
                catch (ArgumentException e)
                {
                    throw new InvalidSpecException($"{call.Name}: {e.Message.Split(" (Parameter", 2)[0]}");
                }
            case "Exponential":
                call.Allow("lr", "change_rate");
                return new ExponentialScheduler(Positive("lr", learningRate), NonNegative("change_rate"));
            default:
                throw new InvalidSpecException($"unknown learning rate scheduler '{text}' (valid: {string.Join(", ", SchedulerNames)})");
        }
    }

    private static double Checked(FunctionCall call, string key, double value, Func<double, bool> valid, string expected)
        => valid(value) ? value : throw new InvalidSpecException(string.Create(CultureInfo.InvariantCulture, $"{call.Name}: '{key}' must be {expected}, got {value}"));

    /// <summary>The initializer named by <paramref name="text"/>, or one line listing the valid names.</summary>
    public static WeightInitializer Weights(string text)
    {
        var call = FunctionCall.Parse(text);
        switch (call.Name)
        {
            case "Xavier": call.Allow(); return WeightInitializer.Xavier;
            case "XavierNormalized": call.Allow(); return WeightInitializer.XavierNormalized;
            case "XavierLogistic": call.Allow(); return WeightInitializer.XavierLogistic;
            case "He": call.Allow(); return WeightInitializer.He;
            case "HeUniform": call.Allow(); return WeightInitializer.HeUniform;
            case "PyTorch": call.Allow(); return WeightInitializer.PyTorch;
            case "Zero": call.Allow(); return WeightInitializer.Zero;
            case "Uniform":
                call.Allow("a", "b");
                return call.Count == 0 ? WeightInitializer.Uniform() : WeightInitializer.Uniform(call.Number(-1, "a"), call.Number(1, "b"));
            case "None":
                throw new InvalidSpecException("weight initializer 'None' fills W with NaN in the original; choose one of: " + string.Join(", ", WeightNames));
            default:
                throw new InvalidSpecException($"unknown weight initializer '{text}' (valid: {string.Join(", ", WeightNames)})");
        }
    }

    /// <summary><c>--prune</c>: Magnitude(ζ), SET(ζ) or Threshold(t).</summary>
    public static PruneStrategy Prune(string text)
    {
        var call = FunctionCall.Parse(text);
        try
        {
            switch (call.Name)
            {
                case "Magnitude": call.Allow("zeta"); return new MagnitudePruning(call.Number(null, "zeta"));
                case "SET": call.Allow("zeta"); return new SETPruning(call.Number(null, "zeta"));
                case "Threshold": call.Allow("value|threshold"); return new ThresholdPruning(call.Number(null, "value", "threshold"));
                default: throw new InvalidSpecException($"unknown prune strategy '{text}' (valid: {string.Join(", ", PruneNames)})");
            }
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidSpecException($"{call.Name}: {e.Message.Split(" (Parameter", 2)[0]}");
        }
    }

    /// <summary><c>--grow</c>: Random or Gradient.</summary>
    public static GrowStrategy Grow(string text)
    {
        var call = FunctionCall.Parse(text);
        call.Allow();
        return call.Name switch
        {
            "Random" => new RandomGrowth(),
            "Gradient" => new GradientGrowth(),
            _ => throw new InvalidSpecException($"unknown grow strategy '{text}' (valid: {string.Join(", ", GrowNames)})"),
        };
    }
}
