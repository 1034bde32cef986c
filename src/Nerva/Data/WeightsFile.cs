using Nerva.Layers;

namespace Nerva.Data;

/// <summary>
/// The weights file: an .npz with W1, b1, W2, b2, … numbered over the linear layers (W as (out, in) in C
/// order, b 1-D), as the original intends (its writer scrambled non-square W). Beyond the original it
/// also holds beta&lt;j&gt;, gamma&lt;j&gt;, running_mean&lt;j&gt;, running_var&lt;j&gt; for the j-th batch normalization
/// layer and srelu&lt;k&gt; = [al, tl, ar, tr] for an SReLU linear layer k. Loading checks every shape.
/// </summary>
public static class WeightsFile
{
    public static void Save(MultilayerPerceptron<float> mlp, string path) => Npz.Write(path, Arrays(mlp).Select(entry =>
        new KeyValuePair<string, NpyArray>(entry.Key, NpyArray.FromFloats(entry.Matrix.AsSpan().ToArray(), entry.Shape))));

    public static void Load(MultilayerPerceptron<float> mlp, string path)
    {
        var arrays = Npz.Read(path);
        foreach (var (key, matrix, shape, optional) in Arrays(mlp))
        {
            if (!arrays.TryGetValue(key, out var array))
            {
                if (optional) continue; // files of the original hold W and b only
                throw new DataFormatException($"{path}: no array '{key}' (the file has: {string.Join(", ", arrays.Keys.Order(StringComparer.Ordinal))})");
            }
            if (!array.Shape.SequenceEqual(shape))
                throw new DataFormatException($"{path}: '{key}' has shape ({string.Join(", ", array.Shape)}), the network needs ({string.Join(", ", shape)})");
            array.ToFloats().CopyTo(matrix.AsSpan());
        }
        foreach (var parameter in mlp.Layers.SelectMany(layer => layer.Parameters)) parameter.Gradient.Fill(0);
    }

    /// <summary>Every array of the file; Optional marks the ones beyond the original's W and b.</summary>
    private static IEnumerable<(string Key, Matrix<float> Matrix, int[] Shape, bool Optional)> Arrays(MultilayerPerceptron<float> mlp)
    {
        int linear = 0, normalization = 0;
        foreach (var layer in mlp.Layers)
        {
            switch (layer)
            {
                case LinearLayer<float> dense:
                    linear++;
                    yield return ($"W{linear}", dense.W, [dense.W.Rows, dense.W.Cols], false);
                    yield return ($"b{linear}", dense.b, [dense.b.Cols], false);
                    if (dense is SReLULayer<float> srelu) yield return ($"srelu{linear}", srelu.A, [4], true);
                    break;
                case BatchNormalizationLayer<float> bn:
                    normalization++;
                    yield return ($"beta{normalization}", bn.beta, [bn.beta.Cols], true);
                    yield return ($"gamma{normalization}", bn.gamma, [bn.gamma.Cols], true);
                    yield return ($"running_mean{normalization}", bn.RunningMean, [bn.RunningMean.Cols], true);
                    yield return ($"running_var{normalization}", bn.RunningVariance, [bn.RunningVariance.Cols], true);
                    break;
            }
        }
    }
}
