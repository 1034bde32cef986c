using System.Globalization;
using Nerva.Activations;
using Nerva.Layers;
using Nerva.Optimizers;

namespace Nerva.Specs;

/// <summary>
/// Builds a float network from the <c>mlp</c> tool's layer list (the original's <c>make_layers</c>), extended with a
/// convolutional part:
/// <list type="bullet">
/// <item>Every entry of the dense part except BatchNormalization is a linear layer with an activation and consumes one
/// size step, one density, one dropout rate; a density below 1 makes it sparse.</item>
/// <item>A convolutional part comes first, when the list has <c>Conv(out=C', kernel=k, stride=s, padding=p)</c>,
/// <c>MaxPool(k)</c> or <c>AvgPool(k)</c> (<c>kernel=k, stride=s</c> for overlapping windows), and ends at <c>Flatten</c>
/// (or at the first entry after the last convolution or pooling layer that is none of those nor an activation). In it, an
/// activation name is the activation of the layer before it (a layer of its own), not a dense layer. It needs the input
/// shape C,H,W.</item>
/// <item>The sizes are the network's input size followed by every dense layer's output size; the first dense layer takes
/// what the convolutional part gives.</item>
/// <item>Initializers go one per convolution and linear layer, optimizers one per convolution, batch normalization and
/// linear layer (or one value for all).</item>
/// </list>
/// Every shape is checked by <see cref="Plan"/> before anything is allocated, with the layer's number and text.
/// </summary>
public static class NetworkBuilder
{
    /// <summary>The layer kinds the grammar takes, with their arguments.</summary>
    public static IReadOnlyList<string> LayerNames { get; } = Array.AsReadOnly<string>(
        ["Linear", "ReLU", "Sigmoid", "HyperbolicTangent", "Softmax", "LogSoftmax", "LeakyReLU(alpha)", "AllReLU(alpha, alternate)", "TReLU(epsilon)", "ELU(alpha)", "SReLU(al, tl, ar, tr)", "BatchNormalization",
         "Conv(out, kernel, stride, padding)", "MaxPool(kernel, stride)", "AvgPool(kernel, stride)", "Flatten"]);

    private static readonly string[] ActivationNames = ["ReLU", "Sigmoid", "HyperbolicTangent", "Tanh", "LeakyReLU", "AllReLU", "TReLU", "ELU"];

    /// <summary>One entry of the list, checked: what it builds and the shapes around it.</summary>
    /// <param name="Spec">The entry's text.</param>
    /// <param name="Kind">Conv, MaxPool, AvgPool, Activation (in the convolutional part), BatchNormalization, Dense or Flatten.</param>
    /// <param name="Input">The number of values it takes per sample.</param>
    /// <param name="Output">The number of values it gives.</param>
    /// <param name="Image">The input images, in the convolutional part.</param>
    /// <param name="Dense">The index of the dense layer (for sizes, densities, dropouts), or −1.</param>
    public sealed record Planned(string Spec, string Kind, int Input, int Output, ImageShape? Image, int Dense);

    /// <summary>The dense (linear) layers of the list: the entries after the convolutional part, BatchNormalization and Flatten excepted.</summary>
    public static int LinearLayerCount(string[] layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        int end = ConvolutionalEnd(layers);
        return layers.Skip(end).Count(spec => Name(spec) is not ("BatchNormalization" or "Flatten"));
    }

    /// <summary>Checks the list against the sizes and input shape and gives every layer's shapes, allocating nothing.</summary>
    public static IReadOnlyList<Planned> Plan(string[] layers, int[] sizes, ImageShape? input = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        ArgumentNullException.ThrowIfNull(sizes);
        if (layers.Length == 0) throw new InvalidSpecException("--layers is empty: give one activation per linear layer, e.g. \"ReLU;ReLU;Linear\"");
        int linear = LinearLayerCount(layers), end = ConvolutionalEnd(layers);
        if (sizes.Length != linear + 1)
            throw new InvalidSpecException($"--layers has {linear} linear layers, so --layer-sizes needs {linear + 1} sizes, got {sizes.Length} (the input size and each linear layer's)");
        if (end > 0 && input is null) throw new InvalidSpecException($"layer 1 {layers[0]}: a convolutional network needs the input shape C,H,W (--input-shape)");
        if (input is { } shape && sizes[0] != shape.Size)
            throw new InvalidSpecException($"--layer-sizes starts with {sizes[0]} inputs, but the input shape {shape} has {shape.Size}");
        var plan = new List<Planned>();
        ImageShape? image = end > 0 ? input : null;
        int size = sizes[0], dense = 0;
        for (int i = 0; i < layers.Length; i++)
        {
            string spec = layers[i].Trim(), where = $"layer {i + 1} {spec}";
            var call = Parse(spec, where);
            if (i < end)
            {
                var next = Convolutional(call, image!.Value, where);
                plan.Add(new Planned(spec, call.Name == "Conv" || call.Name.EndsWith("Pool", StringComparison.Ordinal) ? call.Name : "Activation", size, next.Size, image, -1));
                (image, size) = (next, next.Size);
                continue;
            }
            if (call.Name == "Flatten")
            {
                call.Allow();
                plan.Add(new Planned(spec, "Flatten", size, size, null, -1));
                continue;
            }
            if (call.Name == "BatchNormalization")
            {
                call.Allow();
                plan.Add(new Planned(spec, "BatchNormalization", size, size, null, -1));
                continue;
            }
            if (call.Name is "Conv" or "MaxPool" or "AvgPool")
                throw new InvalidSpecException($"{where}: a convolution or pooling layer must come before the dense layers (and before Flatten)");
            try
            {
                Dense(call);   // its name and arguments
            }
            catch (InvalidSpecException e)
            {
                throw new InvalidSpecException(e.Message.StartsWith("unknown layer", StringComparison.Ordinal) ? e.Message : $"{where}: {e.Message}");
            }
            int K = sizes[dense + 1];
            plan.Add(new Planned(spec, "Dense", size, K, null, dense));
            size = K;
            dense++;
        }
        return plan;
    }

    /// <summary>The network of <paramref name="layers"/> (the <c>--layers</c> grammar) with <paramref name="sizes"/>, after <see cref="Plan"/> checked them; one value of a list stands for all.</summary>
    public static MultilayerPerceptron<float> Build(
        string[] layers, int[] sizes, double[] dropouts, WeightInitializer[] weights, OptimizerSpec[] optimizers, Rng rng, double[]? densities = null, ImageShape? input = null)
    {
        var plan = Plan(layers, sizes, input);
        int linear = LinearLayerCount(layers);
        int weighted = plan.Count(p => p.Kind is "Conv" or "Dense"), optimized = plan.Count(p => p.Kind is "Conv" or "Dense" or "BatchNormalization");
        dropouts = SpecParser.Replicate("--dropouts", dropouts, linear);
        densities = SpecParser.Replicate("--densities", densities ?? [1.0], linear);
        weights = SpecParser.Replicate("--layer-weights", weights, weighted, "layers with weights (convolutions included)");
        optimizers = SpecParser.Replicate("--optimizers", optimizers, optimized, "layers with parameters (convolutions and BatchNormalization included)");
        var result = new List<Layer<float>>();
        int w = 0, o = 0, allReLU = 0;
        foreach (var p in plan)
        {
            var call = FunctionCall.Parse(p.Spec);
            switch (p.Kind)
            {
                case "Flatten":
                    break;
                case "BatchNormalization":
                    result.Add(new BatchNormalizationLayer<float>(p.Input, optimizers[o++]));
                    break;
                case "Conv":
                    var (outChannels, kh, kw, stride, padding) = ConvolutionArguments(call);
                    result.Add(new ConvolutionLayer<float>(p.Image!.Value, outChannels, kh, kw, stride, padding, rng, weights[w++], optimizers[o++]));
                    break;
                case "MaxPool":
                    var (k, s) = PoolingArguments(call);
                    result.Add(new MaxPoolingLayer<float>(p.Image!.Value, k, s));
                    break;
                case "AvgPool":
                    (k, s) = PoolingArguments(call);
                    result.Add(new AveragePoolingLayer<float>(p.Image!.Value, k, s));
                    break;
                case "Activation":
                    result.Add(ActivationFunction(call, p.Input));
                    break;
                default:
                    // seed 000 §5: the dense All-ReLU layers take −α, α, −α, … in turn
                    float sign = call.Name == "AllReLU" && ++allReLU % 2 == 1 ? -1 : 1;
                    result.Add(Dense(call, sign)(p.Input, p.Output, dropouts[p.Dense], densities[p.Dense], weights[w++], optimizers[o++], rng));
                    break;
            }
        }
        if (result.Count == 0) throw new InvalidSpecException("--layers holds no layer that computes anything (only Flatten)");
        return new MultilayerPerceptron<float>(result);
    }

    /// <summary>The input shape from its text, "C,H,W" (or with ';' or 'x').</summary>
    public static ImageShape InputShape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split([',', ';', 'x', '×'], StringSplitOptions.TrimEntries);
        var values = new int[3];
        if (parts.Length != 3 || !parts.Select((part, i) => int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out values[i]) && values[i] >= 1).All(ok => ok))
            throw new InvalidSpecException($"--input-shape '{text}': give channels, height and width as positive integers, e.g. 1,28,28");
        if ((long)values[0] * values[1] * values[2] > Array.MaxLength) throw new InvalidSpecException($"--input-shape '{text}' has more values than one row may hold");
        return new ImageShape(values[0], values[1], values[2]);
    }

    /// <summary>Whether the list has a convolutional part (Conv, MaxPool or AvgPool entries), whose images are channels-first.</summary>
    internal static bool IsConvolutional(string[] layers) => ConvolutionalEnd(layers) > 0;

    /// <summary>Where the convolutional part ends: after the last Conv or pooling entry and the activations right after it (0: none).</summary>
    private static int ConvolutionalEnd(string[] layers)
    {
        int last = -1;
        for (int i = 0; i < layers.Length; i++)
            if (Name(layers[i]) is "Conv" or "MaxPool" or "AvgPool") last = i;
        if (last < 0) return 0;
        int end = last + 1;
        while (end < layers.Length && ActivationNames.Contains(Name(layers[end]))) end++;
        // everything before the last convolution or pooling layer is convolutional too (activations between them)
        return end;
    }

    private static string Name(string spec)
    {
        string text = spec.Trim();
        int open = text.IndexOf('(', StringComparison.Ordinal);
        return (open < 0 ? text : text[..open]).Trim();
    }

    private static FunctionCall Parse(string spec, string where)
    {
        try
        {
            return FunctionCall.Parse(spec);
        }
        catch (InvalidSpecException e)
        {
            throw new InvalidSpecException($"{where}: {e.Message}");
        }
    }

    /// <summary>The image after a layer of the convolutional part, or one line naming the layer and the mismatch.</summary>
    private static ImageShape Convolutional(FunctionCall call, ImageShape image, string where)
    {
        try
        {
            switch (call.Name)
            {
                case "Conv":
                    var (outChannels, kh, kw, stride, padding) = ConvolutionArguments(call);
                    if (padding >= Math.Max(kh, kw)) throw new InvalidSpecException($"padding {padding} must be less than the kernel ({kh}×{kw})");
                    return image.Slide(outChannels, kh, kw, stride, padding)
                        ?? throw new InvalidSpecException($"a {kh}×{kw} kernel with padding {padding} does not fit the {image} images it gets");
                case "MaxPool" or "AvgPool":
                    var (k, s) = PoolingArguments(call);
                    return image.Slide(image.Channels, k, k, s ?? k, 0) ?? throw new InvalidSpecException($"a {k}×{k} window does not fit the {image} images it gets");
                case "Flatten" or "BatchNormalization":
                    throw new InvalidSpecException($"{call.Name} cannot come between convolution and pooling layers (per-channel batch normalization is not implemented)");
                default:
                    if (!ActivationNames.Contains(call.Name)) throw new InvalidSpecException($"unknown layer in the convolutional part (valid: Conv, MaxPool, AvgPool, an activation, Flatten)");
                    ActivationFunction(call, 1);   // its arguments checked
                    return image;
            }
        }
        catch (InvalidSpecException e) when (!e.Message.StartsWith(where, StringComparison.Ordinal))
        {
            throw new InvalidSpecException($"{where}: {e.Message}");
        }
    }

    internal static (int OutChannels, int Kh, int Kw, int Stride, int Padding) ConvolutionArguments(FunctionCall call)
    {
        call.Allow("out", "kernel", "stride", "padding");
        if (call.IsPositional) throw new InvalidSpecException("Conv: name the arguments, e.g. Conv(out=32, kernel=3, stride=1, padding=1)");
        int outChannels = Integer(call, "out", null, 1);
        string kernel = call.Value("kernel") ?? throw new InvalidSpecException("Conv: missing argument 'kernel' (write Conv(out=32, kernel=3))");
        var sides = kernel.Split('x', '×');
        if (sides.Length is not (1 or 2) || !sides.All(side => int.TryParse(side.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v >= 1))
            throw new InvalidSpecException($"Conv: 'kernel' must be k or kh x kw with positive integers, got '{kernel}'");
        int kh = int.Parse(sides[0].Trim(), CultureInfo.InvariantCulture), kw = int.Parse(sides[^1].Trim(), CultureInfo.InvariantCulture);
        return (outChannels, kh, kw, Integer(call, "stride", 1, 1), Integer(call, "padding", 0, 0));
    }

    private static (int Kernel, int? Stride) PoolingArguments(FunctionCall call)
    {
        call.Allow("kernel", "stride");
        int k = Integer(call, "kernel", null, 1);
        return (k, call.IsPositional || call.Value("stride") is null ? null : Integer(call, "stride", null, 1));
    }

    /// <summary>An integer argument; only a pooling window may be given without its key, as in MaxPool(2).</summary>
    private static int Integer(FunctionCall call, string key, int? fallback, int minimum)
    {
        string? text = !call.IsPositional || key == "kernel" ? call.Value(key) : null;
        if (text is null) return fallback ?? throw new InvalidSpecException($"{call.Name}: missing argument '{key}'");
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value) || value < minimum)
            throw new InvalidSpecException($"{call.Name}: '{key}' must be an integer of at least {minimum}, got '{text}'");
        return value;
    }

    /// <summary>An All-ReLU layer's <c>alternate</c> argument: true (the default) or false.</summary>
    private static bool Alternates(FunctionCall call) => (call.IsPositional ? null : call.Value("alternate")) switch
    {
        null or "true" => true,
        "false" => false,
        var text => throw new InvalidSpecException($"AllReLU: 'alternate' must be true or false, got '{text}'"),
    };

    /// <summary>An activation on its own (in the convolutional part), on rows of <paramref name="size"/> values.</summary>
    private static Layer<float> ActivationFunction(FunctionCall call, int size)
    {
        switch (call.Name)
        {
            case "ReLU": call.Allow(); return Make(new ReLU<float>());
            case "Sigmoid": call.Allow(); return Make(new Sigmoid<float>());
            case "HyperbolicTangent" or "Tanh": call.Allow(); return Make(new HyperbolicTangent<float>());
            case "LeakyReLU": call.Allow("alpha"); return Make(new LeakyReLU<float>(call.Single(null, "alpha")));
            case "AllReLU": call.Allow("alpha"); return Make(new AllReLU<float>(call.Single(null, "alpha")));
            case "TReLU": call.Allow("epsilon"); return Make(new TReLU<float>(call.Single(null, "epsilon")));
            case "ELU": call.Allow("alpha"); return Make(new ELU<float>(call.Single(1, "alpha")));
            default: throw new InvalidSpecException($"unknown activation '{call.Text}' (valid: {string.Join(", ", ActivationNames)})");
        }

        Layer<float> Make<TAct>(TAct act) where TAct : struct, IActivationFunction<float> => new ActivationFunctionLayer<float, TAct>(size, act);
    }

    /// <summary>A dense layer's maker: D, K, dropout, density, initializer, optimizer, rng.</summary>
    private delegate Layer<float> DenseMaker(int D, int K, double dropout, double density, WeightInitializer weights, OptimizerSpec optimizer, Rng rng);

    /// <summary>
    /// How to make the dense layer <paramref name="call"/> names, its arguments checked (nothing allocated yet). An All-ReLU
    /// layer's α is multiplied by <paramref name="sign"/> (seed 000 §5's alternation) unless it says <c>alternate=false</c>.
    /// </summary>
    private static DenseMaker Dense(FunctionCall call, float sign = 1)
    {
        switch (call.Name)
        {
            case "Linear": call.Allow(); return (D, K, p, d, w, o, rng) => new LinearLayer<float>(D, K, rng, w, o, p, d);
            case "ReLU": call.Allow(); return Activation(new ReLU<float>());
            case "Sigmoid": call.Allow(); return Activation(new Sigmoid<float>());
            case "HyperbolicTangent" or "Tanh": call.Allow(); return Activation(new HyperbolicTangent<float>());
            case "Softmax": call.Allow(); return (D, K, p, d, w, o, rng) => new SoftmaxLayer<float>(D, K, rng, w, o, p, d);
            case "LogSoftmax": call.Allow(); return (D, K, p, d, w, o, rng) => new LogSoftmaxLayer<float>(D, K, rng, w, o, p, d);
            case "LeakyReLU": call.Allow("alpha"); return Activation(new LeakyReLU<float>(call.Single(null, "alpha")));
            case "AllReLU":
                call.Allow("alpha", "alternate");
                return Activation(new AllReLU<float>(call.Single(null, "alpha") * (Alternates(call) ? sign : 1)));
            case "TReLU": call.Allow("epsilon"); return Activation(new TReLU<float>(call.Single(null, "epsilon")));
            case "ELU": call.Allow("alpha"); return Activation(new ELU<float>(call.Single(1, "alpha")));
            case "SReLU":
                call.Allow("al", "tl", "ar", "tr");
                if (call.IsPositional) throw new InvalidSpecException("SReLU: name the parameters, e.g. SReLU(al=0, tl=0, ar=0, tr=1)");
                var srelu = new SReLU<float>(call.Single(0, "al"), call.Single(0, "tl"), call.Single(0, "ar"), call.Single(1, "tr"));
                return (D, K, p, d, w, o, rng) => new SReLULayer<float>(D, K, srelu, rng, w, o, p, d);
            default:
                throw new InvalidSpecException($"unknown layer '{call.Text}' (valid: {string.Join(", ", LayerNames)})");
        }

        static DenseMaker Activation<TAct>(TAct act) where TAct : struct, IActivationFunction<float>
            => (D, K, p, d, w, o, rng) => new ActivationLayer<float, TAct>(D, K, act, rng, w, o, p, d);
    }
}
