using Nerva.Activations;
using Nerva.Layers;
using Nerva.Optimizers;

namespace Nerva.Specs;

/// <summary>
/// Builds a float network from the <c>mlp</c> tool's layer list (the original's <c>make_layers</c>): every
/// entry except BatchNormalization is a linear layer with an activation and consumes one size step, one
/// density, one dropout rate and one weight initializer; every entry consumes one optimizer. A density
/// below 1 makes the layer sparse.
/// </summary>
public static class NetworkBuilder
{
    public static readonly string[] LayerNames =
        ["Linear", "ReLU", "Sigmoid", "HyperbolicTangent", "Softmax", "LogSoftmax", "LeakyReLU(alpha)", "AllReLU(alpha)", "TReLU(epsilon)", "ELU(alpha)", "SReLU(al, tl, ar, tr)", "BatchNormalization"];

    public static MultilayerPerceptron<float> Build(
        string[] layers, int[] sizes, double[] dropouts, WeightInitializer[] weights, OptimizerSpec[] optimizers, Rng rng, double[]? densities = null)
    {
        int linear = LinearLayerCount(layers);
        if (layers.Length == 0) throw new InvalidSpecException("--layers is empty: give one activation per linear layer, e.g. \"ReLU;ReLU;Linear\"");
        if (sizes.Length != linear + 1)
            throw new InvalidSpecException($"--layers has {linear} linear layers, so --layer-sizes needs {linear + 1} sizes, got {sizes.Length}");
        dropouts = SpecParser.Replicate("--dropouts", dropouts, linear);
        densities = SpecParser.Replicate("--densities", densities ?? [1.0], linear);
        weights = SpecParser.Replicate("--layer-weights", weights, linear);
        optimizers = SpecParser.Replicate("--optimizers", optimizers, layers.Length, "layers (BatchNormalization included)");
        var result = new List<Layer<float>>();
        int l = 0;
        for (int i = 0; i < layers.Length; i++)
        {
            if (IsBatchNormalization(layers[i]))
            {
                result.Add(new BatchNormalizationLayer<float>(sizes[l], optimizers[i]));
                continue;
            }
            result.Add(Layer(layers[i], sizes[l], sizes[l + 1], dropouts[l], densities[l], weights[l], optimizers[i], rng));
            l++;
        }
        return new MultilayerPerceptron<float>(result);
    }

    /// <summary>How many entries of the layer list are linear layers (all but BatchNormalization).</summary>
    public static int LinearLayerCount(string[] layers) => layers.Count(spec => !IsBatchNormalization(spec));

    private static bool IsBatchNormalization(string spec) => spec.Trim() == "BatchNormalization";

    private static Layer<float> Layer(string spec, int D, int K, double dropout, double density, WeightInitializer weights, OptimizerSpec optimizer, Rng rng)
    {
        var call = FunctionCall.Parse(spec);
        switch (call.Name)
        {
            case "Linear": call.Allow(); return new LinearLayer<float>(D, K, rng, weights, optimizer, dropout, density);
            case "ReLU": call.Allow(); return Activation(new ReLU<float>());
            case "Sigmoid": call.Allow(); return Activation(new Sigmoid<float>());
            case "HyperbolicTangent" or "Tanh": call.Allow(); return Activation(new HyperbolicTangent<float>());
            case "Softmax": call.Allow(); return new SoftmaxLayer<float>(D, K, rng, weights, optimizer, dropout, density);
            case "LogSoftmax": call.Allow(); return new LogSoftmaxLayer<float>(D, K, rng, weights, optimizer, dropout, density);
            case "LeakyReLU": call.Allow("alpha"); return Activation(new LeakyReLU<float>((float)call.Number(null, "alpha")));
            case "AllReLU": call.Allow("alpha"); return Activation(new AllReLU<float>((float)call.Number(null, "alpha")));
            case "TReLU": call.Allow("epsilon"); return Activation(new TReLU<float>((float)call.Number(null, "epsilon")));
            case "ELU": call.Allow("alpha"); return Activation(new ELU<float>((float)call.Number(1, "alpha")));
            case "SReLU":
                call.Allow("al", "tl", "ar", "tr");
                if (call.IsPositional) throw new InvalidSpecException("SReLU: name the parameters, e.g. SReLU(al=0, tl=0, ar=0, tr=1)");
                var srelu = new SReLU<float>((float)call.Number(0, "al"), (float)call.Number(0, "tl"), (float)call.Number(0, "ar"), (float)call.Number(1, "tr"));
                return new SReLULayer<float>(D, K, srelu, rng, weights, optimizer, dropout, density);
            default:
                throw new InvalidSpecException($"unknown layer '{spec}' (valid: {string.Join(", ", LayerNames)})");
        }

        Layer<float> Activation<TAct>(TAct act) where TAct : struct, IActivationFunction<float>
            => new ActivationLayer<float, TAct>(D, K, act, rng, weights, optimizer, dropout, density);
    }
}
