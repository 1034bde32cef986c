using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Nerva.Layers;
using Nerva.Optimizers;
using Nerva.Specs;

namespace Nerva.Data;

/// <summary>
/// The model file: an .npz with the weights file's arrays under their names (W1, b1, …, so that the original's tools and
/// NumPy read them as before), plus <c>model</c>, the architecture as UTF-8 JSON (layers in the <c>--layers</c> grammar,
/// sizes, dropout rates, densities, optimizers, pixel scaling, the loss, and for a CSV file the class and feature names
/// and the label column), and for standardised inputs <c>input_mean</c> and <c>input_scale</c> (float64). The JSON is stored as a uint8 array so that every member stays an .npy that
/// <c>np.load</c> takes (<c>json.loads(bytes(np.load(f)['model']))</c> reads it). A sparse layer's support is its CSR
/// arrays; batch normalization's running statistics are arrays too.
/// </summary>
/// <remarks>
/// Loading trusts nothing in the file: every member is read only as far as it really holds data, the description is
/// parsed and checked (at most 1 MB, known layers, sizes that the weight arrays confirm) before any layer is allocated,
/// so a description that claims a huge layer without the arrays to fill it is refused with one line.
/// </remarks>
internal static class ModelFile
{
    /// <summary>The member that holds the description.</summary>
    public const string DescriptionKey = "model";

    private const string FormatName = "Nerva.NET model";
    /// <summary>
    /// Version 2 adds the loss and writes All-ReLU layers with the α they have (seed 000 §5's alternation done); version 1 files
    /// still load. Optional members that a reader of version 2 without them ignores: the class and feature names and the label
    /// column of a model trained on a CSV file.
    /// </summary>
    private const int FormatVersion = 2;
    internal const int MaxDescriptionBytes = 1 << 20;

    /// <summary>The architecture as the file's JSON holds it.</summary>
    internal sealed record Description(string? Format, int Version, string[]? Layers, int[]? Sizes, double[]? Dropouts, double[]? Densities, string[]? Optimizers, bool ScalePixels, int[]? InputShape = null, string? Loss = null,
        string[]? Classes = null, string[]? Features = null, string? Label = null);

    public static void Save(Model model, string path) => Npz.Write(path, ToArrays(model));

    /// <summary>The model as the file's arrays (weights as views of its matrices: write or copy them at once); a diverged network is not <paramref name="refused"/>.</summary>
    private static List<KeyValuePair<string, NpyArray>> ToArrays(Model model, string refused = "saved")
    {
        var mlp = model.Network;
        var linear = mlp.Layers.OfType<LinearLayer<float>>().ToArray();
        // the input images: those of the first convolution or pooling layer (an activation before it keeps their shape)
        var image = mlp.Layers.Select(layer => layer switch
        {
            ConvolutionLayer<float> c => c.Input,
            PoolingLayer<float> p => p.Input,
            _ => (ImageShape?)null,
        }).FirstOrDefault(shape => shape is not null);
        var description = new Description(FormatName, FormatVersion, LayerSpecs(mlp), [mlp.InputSize, .. linear.Select(l => l.OutputSize)],
            [.. linear.Select(l => l.DropoutRate)], [.. linear.Select(l => l.Density)], [.. mlp.Layers.Where(HasParameters).Select(l => OptimizerText(l.Optimizer))],
            model.Preprocessing.ScalePixels, image is { } shape ? [shape.Channels, shape.Height, shape.Width] : null, model.Loss,
            model.ClassNames?.ToArray(), model.FeatureNames?.ToArray(), model.LabelName);
        var json = JsonSerializer.SerializeToUtf8Bytes(description, ModelJsonContext.Default.Description);
        // a table of very many columns: its feature names would pass the description's limit, and are left out
        if (json.Length > MaxDescriptionBytes) json = JsonSerializer.SerializeToUtf8Bytes(description with { Features = null }, ModelJsonContext.Default.Description);
        if (json.Length > MaxDescriptionBytes) throw new InvalidOperationException($"the model's description takes {json.Length} bytes, more than the {MaxDescriptionBytes} a model file may hold (long class names?)");
        var arrays = WeightsFile.ToArrays(mlp, refused);
        arrays.Add(new(DescriptionKey, NpyArray.FromBytes(json, json.Length)));
        if (model.Preprocessing is { Mean: { } mean, Scale: { } scale })
        {
            arrays.Add(new("input_mean", NpyArray.FromDoubles(mean, mean.Length)));
            arrays.Add(new("input_scale", NpyArray.FromDoubles(scale, scale.Length)));
        }
        return arrays;
    }

    public static Model Load(string path)
    {
        // the description first: the arrays are then read only as large as the network it describes can use
        if (!Npz.Read(path, new Dictionary<string, long> { [DescriptionKey] = MaxDescriptionBytes }).TryGetValue(DescriptionKey, out var json))
            throw new DataFormatException($"{path}: not a model file (no '{DescriptionKey}' member): for a weights file, build the network and load it with --load-weights (WeightsFile.Load)");
        return Build(json, largest => Npz.Read(path, key => key == DescriptionKey ? null : largest), path);
    }

    /// <summary>
    /// A model of its own with <paramref name="model"/>'s architecture, weights and preprocessing: what Save writes, built as
    /// Load builds it, for a predictor (a diverged network is refused: <see cref="InvalidOperationException"/>, "not served").
    /// </summary>
    public static Model Copy(Model model)
    {
        var arrays = new Dictionary<string, NpyArray>(ToArrays(model, "served"));
        return Build(arrays[DescriptionKey], _ => arrays, "the model");
    }

    /// <summary>
    /// The model a file's description <paramref name="json"/> describes, with the arrays <paramref name="readArrays"/> gives
    /// when told the most elements an array of that network can hold; <paramref name="path"/> names the source in messages.
    /// </summary>
    private static Model Build(NpyArray json, Func<long, Dictionary<string, NpyArray>> readArrays, string path)
    {
        var d = Parse(json, path);
        if (d.Loss is not null)
        {
            try
            {
                SpecParser.Loss(d.Loss);
            }
            catch (InvalidSpecException e)
            {
                throw Invalid(path, e.Message);
            }
        }
        string[] layers = d.Version == 1 ? [.. d.Layers!.Select(FixedAllReLU)] : d.Layers!, optimizers = d.Optimizers!;
        int[] sizes = d.Sizes!;
        double[] dropouts = d.Dropouts!, described = d.Densities!;
        int linearCount = NetworkBuilder.LinearLayerCount(layers);
        if (sizes.Any(size => size < 1)) throw Invalid(path, $"layer sizes must be at least 1, got {string.Join(", ", sizes)}");
        if (d.InputShape is not null && (d.InputShape.Length != 3 || d.InputShape.Any(v => v < 1) || (long)d.InputShape[0] * d.InputShape[1] * d.InputShape[2] > Array.MaxLength))
            throw Invalid(path, $"'input_shape' must be three positive sizes C, H, W, got [{string.Join(", ", d.InputShape)}]");
        ImageShape? input = d.InputShape is [int C, int H, int W] ? new ImageShape(C, H, W) : null;
        IReadOnlyList<NetworkBuilder.Planned> plan;
        try
        {
            plan = NetworkBuilder.Plan(layers, sizes, input);
        }
        catch (InvalidSpecException e)
        {
            throw Invalid(path, e.Message);
        }
        var arrays = readArrays(LargestArray(plan, sizes));
        int withParameters = plan.Count(p => p.Kind is "Conv" or "Dense" or "BatchNormalization");
        if (dropouts.Length != linearCount || described.Length != linearCount || optimizers.Length != withParameters)
            throw Invalid(path, $"{linearCount} linear layers need {linearCount} dropout rates and densities, and {withParameters} layers with parameters as many optimizers; it has {dropouts.Length}, {described.Length}, {optimizers.Length}");
        // every layer's size confirmed by its weight arrays before anything is allocated for it
        var densities = new double[linearCount];
        foreach (var p in plan.Where(p => p.Kind == "Dense")) densities[p.Dense] = Density(arrays, $"W{p.Dense + 1}", p.Output, p.Input, described[p.Dense], path);
        // A sparse layer's inputs are the one size no array confirms (its column index takes D + 1 offsets): a kilobyte
        // that claims 2·10⁹ of them would allocate gigabytes. Up to 2²⁴ inputs, or as many as the file holds values.
        long held = arrays.Values.Sum(array => array.Count);
        foreach (var p in plan.Where(p => p.Kind == "Dense" && densities[p.Dense] < 1 && p.Input > Math.Max(1L << 24, held)))
            throw Invalid(path, $"layer {p.Dense + 1} is sparse with {p.Input} inputs, more than the {held} values the file holds");
        int convolution = 0;
        foreach (var p in plan.Where(p => p.Kind == "Conv"))
        {
            string key = $"conv{++convolution}_W";
            var (channels, kh, kw, _, _) = NetworkBuilder.ConvolutionArguments(FunctionCall.Parse(p.Spec));
            int[] expected = [channels, p.Image!.Value.Channels, kh, kw];
            if (!arrays.TryGetValue(key, out var kernels) || !kernels.Shape.SequenceEqual(expected))
                throw Invalid(path, $"layer '{p.Spec}' needs kernels '{key}' of shape ({string.Join(", ", expected)})");
        }
        MultilayerPerceptron<float> mlp;
        try
        {
            mlp = NetworkBuilder.Build(layers, sizes, dropouts, [WeightInitializer.Zero], [.. optimizers.Select(SpecParser.Optimizer)], new Rng(0), densities, input);
        }
        catch (Exception e) when (e is InvalidSpecException or ArgumentException)
        {
            throw Invalid(path, e.Message);
        }
        WeightsFile.Load(mlp, arrays, path, complete: true);
        var model = new Model(mlp, Preprocessing(arrays, d, path), d.Loss);
        try
        {
            if (d.Classes?.Any(name => name is null) == true || d.Features?.Any(name => name is null) == true) throw new ArgumentException("a class or feature name is null");
            model.ClassNames = d.Classes;
            model.FeatureNames = d.Features;
            model.LabelName = d.Label;
        }
        catch (ArgumentException e)
        {
            throw Invalid(path, e.Message);
        }
        return model;
    }

    /// <summary>A version-1 file's All-ReLU layer as it was built then: with its α as written, never alternated.</summary>
    private static string FixedAllReLU(string spec)
    {
        if (spec is null || !spec.TrimStart().StartsWith("AllReLU(", StringComparison.Ordinal)) return spec!;
        try
        {
            return FunctionCall.Parse(spec).Value("alpha") is { } alpha ? $"AllReLU(alpha={alpha}, alternate=false)" : spec;
        }
        catch (InvalidSpecException)
        {
            return spec;   // the plan names the problem with the layer's number
        }
    }

    /// <summary>The most elements one array of the planned network can hold: a dense W (K·D), a CSR indptr (K + 1), a convolution's kernels, a vector of inputs.</summary>
    private static long LargestArray(IReadOnlyList<NetworkBuilder.Planned> plan, int[] sizes)
    {
        long most = sizes.Max() + 1L;
        foreach (var p in plan)
        {
            if (p.Kind == "Dense") most = Math.Max(most, (long)p.Input * p.Output);
            if (p.Kind == "Conv" && p.Image is { } image)
            {
                var (channels, kh, kw, _, _) = NetworkBuilder.ConvolutionArguments(FunctionCall.Parse(p.Spec));
                most = Math.Max(most, (long)channels * image.Channels * kh * kw);
            }
        }
        return most;
    }

    /// <summary>Refuses weights of another architecture than <paramref name="mlp"/>'s: other layer kinds or activation parameters, other sizes.</summary>
    public static void CheckArchitecture(MultilayerPerceptron<float> mlp, NpyArray json, string path)
    {
        var d = Parse(json, path);
        var layers = LayerSpecs(mlp);
        int[] sizes = [mlp.InputSize, .. mlp.Layers.OfType<LinearLayer<float>>().Select(l => l.OutputSize)];
        // SReLU's parameters are trained (the file's srelu<k> holds them): only its name must agree
        static string Kind(string spec) => spec.StartsWith("SReLU", StringComparison.Ordinal) ? "SReLU" : spec;
        if (!d.Layers!.Select(Kind).SequenceEqual(layers.Select(Kind)) || !d.Sizes!.SequenceEqual(sizes))
            throw new DataFormatException($"{path}: the file's model is {string.Join(';', d.Layers!.Select(name => Npz.Printable(name)))} with sizes {string.Join(';', d.Sizes!)}, this network is {string.Join(';', layers)} with sizes {string.Join(';', sizes)}");
    }

    /// <summary>
    /// Every layer in the <c>--layers</c> grammar: "ReLU", "LeakyReLU(0.1)", "Linear", "BatchNormalization",
    /// "Conv(out=32, kernel=3, stride=1, padding=1)", "MaxPool(2)", …, with "Flatten" where a convolutional part ends.
    /// </summary>
    public static string[] LayerSpecs(MultilayerPerceptron<float> mlp)
    {
        var specs = new List<string>();
        bool convolutional = false;
        foreach (var layer in mlp.Layers)
        {
            bool image = layer is ConvolutionLayer<float> or PoolingLayer<float> || (convolutional && layer is not (LinearLayer<float> or BatchNormalizationLayer<float>));
            if (convolutional && !image) specs.Add("Flatten");
            convolutional = image;
            specs.Add(layer.LayerSpec);
        }
        return [.. specs];
    }

    /// <summary>Whether a layer has parameters, and so an optimizer.</summary>
    private static bool HasParameters(Layers.Layer<float> layer) => layer.Parameters.Count > 0;

    /// <summary>An optimizer in the <c>--optimizers</c> grammar, with every digit of its parameters (ToString rounds μ to 5 places).</summary>
    private static string OptimizerText(OptimizerSpec optimizer) => optimizer switch
    {
        Momentum m => string.Create(CultureInfo.InvariantCulture, $"Momentum({m.Mu:R})"),
        Nesterov n => string.Create(CultureInfo.InvariantCulture, $"Nesterov({n.Mu:R})"),
        Adam a => string.Create(CultureInfo.InvariantCulture, $"Adam(beta1={a.Beta1:R}, beta2={a.Beta2:R}, epsilon={a.Epsilon:R})"),
        _ => optimizer.ToString() ?? "",
    };

    /// <summary>The density to build layer W&lt;k&gt; with, after checking that its arrays hold a K×D matrix: 1 for a dense W, nnz/(K·D) for CSR arrays.</summary>
    private static double Density(Dictionary<string, NpyArray> arrays, string key, int K, int D, double described, string path)
    {
        if (arrays.TryGetValue(key, out var dense))
        {
            if (!dense.Shape.SequenceEqual([K, D])) throw Invalid(path, $"'{key}' has shape ({string.Join(", ", dense.Shape)}), the description says ({K}, {D})");
            return 1;
        }
        if (!arrays.TryGetValue(key + "_data", out var data) || !arrays.TryGetValue(key + "_indptr", out var indptr) || !arrays.TryGetValue(key + "_shape", out var shape))
            throw Invalid(path, $"no weights for layer {key[1..]} ('{key}', or '{key}_data', '{key}_indices', '{key}_indptr', '{key}_shape')");
        if (shape.Count != 2 || shape.Kind is not ('i' or 'u') || !shape.ToInt64().SequenceEqual([K, (long)D]) || indptr.Count != K + 1L)
            throw Invalid(path, $"the CSR arrays of '{key}' are not those of a {K}×{D} matrix");
        if (!(described > 0 && described <= 1)) throw Invalid(path, $"the density of layer {key[1..]} must be in (0, 1], got {described}");
        if (described == 1 && (long)K * D > Array.MaxLength) throw Invalid(path, $"layer {key[1..]} of {K}×{D} weights is described as dense, which no array holds: its density must be below 1");
        if (described == 1) return 1;
        // the density the file's support really has: the random support the builder draws is replaced at once
        return Math.Clamp(Math.Max(data.Count, 1) / ((double)K * D), double.Epsilon, Math.BitDecrement(1.0));
    }

    private static InputPreprocessing Preprocessing(Dictionary<string, NpyArray> arrays, Description d, string path)
    {
        bool hasMean = arrays.TryGetValue("input_mean", out var mean), hasScale = arrays.TryGetValue("input_scale", out var scale);
        if (!hasMean && !hasScale) return new InputPreprocessing(d.ScalePixels);
        if (!hasMean || !hasScale) throw Invalid(path, "give both 'input_mean' and 'input_scale', or neither");
        foreach (var (array, key) in new[] { (mean!, "input_mean"), (scale!, "input_scale") })
            if (array.Shape.Length != 1 || array.Shape[0] != d.Sizes![0])
                throw Invalid(path, $"'{key}' has shape ({string.Join(", ", array.Shape)}), the network has {d.Sizes![0]} inputs");
            else if (!array.ToDoubles().All(double.IsFinite)) throw Invalid(path, $"'{key}' holds values that are not finite");
        try
        {
            return new InputPreprocessing(d.ScalePixels, mean!.ToDoubles(), scale!.ToDoubles());
        }
        catch (ArgumentException e)
        {
            throw Invalid(path, e.Message);
        }
    }

    private static Description Parse(NpyArray json, string path)
    {
        if (json.Kind != 'u' || json.ItemSize != 1 || json.Shape.Length != 1 || json.Count > MaxDescriptionBytes)
            throw new DataFormatException($"{path}: '{DescriptionKey}' must be UTF-8 JSON as a 1-D uint8 array of at most {MaxDescriptionBytes} bytes, it is {json.Descr} of shape ({string.Join(", ", json.Shape)})");
        Description? d;
        try
        {
            d = JsonSerializer.Deserialize(json.Data, ModelJsonContext.Default.Description);
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"not valid JSON ({e.Message.Split('\n', 2)[0].Trim()})");
        }
        if (d is null || d.Format != FormatName) throw Invalid(path, $"'format' must be \"{FormatName}\"");
        if (d.Version is < 1 or > FormatVersion) throw Invalid(path, $"version {d.Version} is not supported (this library reads versions 1 to {FormatVersion})");
        if (d.Layers is not { Length: > 0 } || d.Sizes is null || d.Dropouts is null || d.Densities is null || d.Optimizers is null)
            throw Invalid(path, "it needs 'layers', 'sizes', 'dropouts', 'densities' and 'optimizers'");
        if (d.Layers.Any(l => l is null) || d.Optimizers.Any(o => o is null)) throw Invalid(path, "a layer or optimizer is null");
        return d;
    }

    private static DataFormatException Invalid(string path, string problem) => new($"{path}: invalid model description: {Npz.Printable(problem, 300)}");
}

/// <summary>The model description's JSON, generated at compile time (no reflection, trimming-safe).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(ModelFile.Description))]
internal sealed partial class ModelJsonContext : JsonSerializerContext;
