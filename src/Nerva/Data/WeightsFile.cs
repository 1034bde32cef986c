using Nerva.Layers;

namespace Nerva.Data;

/// <summary>
/// The weights file: an .npz with W1, b1, W2, b2, … numbered over the linear layers (W as (out, in) in C
/// order, b 1-D), as the original intends (its writer scrambled non-square W). Beyond the original it
/// also holds beta&lt;j&gt;, gamma&lt;j&gt;, running_mean&lt;j&gt;, running_var&lt;j&gt; for the j-th batch normalization
/// layer and srelu&lt;k&gt; = [al, tl, ar, tr] for an SReLU linear layer k. Loading checks every shape.
/// A sparse layer's W is saved densely with zeros outside its support (as the original, so NumPy reads it),
/// and loading one takes the non-zeros of the file's W as the layer's new support.
/// </summary>
public static class WeightsFile
{
    public static void Save(MultilayerPerceptron<float> mlp, string path) => Npz.Write(path, Arrays(mlp).Select(entry =>
        new KeyValuePair<string, NpyArray>(entry.Key, NpyArray.FromFloats(entry.Matrix().AsSpan().ToArray(), entry.Shape))));

    public static void Load(MultilayerPerceptron<float> mlp, string path)
    {
        var arrays = Npz.Read(path);
        foreach (var (key, matrix, shape, optional, load) in Arrays(mlp))
        {
            if (!arrays.TryGetValue(key, out var array))
            {
                if (optional) continue; // files of the original hold W and b only
                throw new DataFormatException($"{path}: no array '{key}' (the file has: {string.Join(", ", arrays.Keys.Order(StringComparer.Ordinal))})");
            }
            if (!array.Shape.SequenceEqual(shape))
                throw new DataFormatException($"{path}: '{key}' has shape ({string.Join(", ", array.Shape)}), the network needs ({string.Join(", ", shape)})");
            var values = array.ToFloats();
            if (load is null) values.CopyTo(matrix().AsSpan());
            else load(new Matrix<float>(shape[0], shape[1], values));
        }
        foreach (var parameter in mlp.Layers.SelectMany(layer => layer.Parameters)) parameter.Gradient.Fill(0);
    }

    /// <summary>
    /// Every array of the file: Matrix gives its contents for saving; Optional marks the ones beyond the
    /// original's W and b; Load, where set, takes a loaded W (otherwise the values are copied into Matrix).
    /// </summary>
    private static IEnumerable<(string Key, Func<Matrix<float>> Matrix, int[] Shape, bool Optional, Action<Matrix<float>>? Load)> Arrays(MultilayerPerceptron<float> mlp)
    {
        int linear = 0, normalization = 0;
        foreach (var layer in mlp.Layers)
        {
            switch (layer)
            {
                case LinearLayer<float> linearLayer:
                    linear++;
                    yield return ($"W{linear}", linearLayer.DenseWeights, [linearLayer.OutputSize, linearLayer.InputSize], false, linearLayer.LoadWeights);
                    yield return ($"b{linear}", () => linearLayer.b, [linearLayer.b.Cols], false, null);
                    if (linearLayer is SReLULayer<float> srelu) yield return ($"srelu{linear}", () => srelu.A, [4], true, null);
                    break;
                case BatchNormalizationLayer<float> bn:
                    normalization++;
                    yield return ($"beta{normalization}", () => bn.beta, [bn.beta.Cols], true, null);
                    yield return ($"gamma{normalization}", () => bn.gamma, [bn.gamma.Cols], true, null);
                    yield return ($"running_mean{normalization}", () => bn.RunningMean, [bn.RunningMean.Cols], true, null);
                    yield return ($"running_var{normalization}", () => bn.RunningVariance, [bn.RunningVariance.Cols], true, null);
                    break;
            }
        }
    }
}
