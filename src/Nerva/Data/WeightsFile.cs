using Nerva.Layers;
using Nerva.Sparse;

namespace Nerva.Data;

/// <summary>
/// The weights file: an .npz with W1, b1, W2, b2, … numbered over the linear layers (W as (out, in) in C
/// order, b 1-D), as the original intends (its writer scrambled non-square W). Beyond the original it
/// also holds beta&lt;j&gt;, gamma&lt;j&gt;, running_mean&lt;j&gt;, running_var&lt;j&gt; for the j-th batch normalization
/// layer and srelu&lt;k&gt; = [al, tl, ar, tr] for an SReLU linear layer k. Loading checks every shape.
/// </summary>
/// <remarks>
/// A sparse layer k is saved in O(nnz) as the arrays of <c>scipy.sparse.save_npz</c> under the prefix W&lt;k&gt;_:
/// <c>W&lt;k&gt;_data</c> (float32, the stored weights), <c>W&lt;k&gt;_indices</c> (int32, their columns),
/// <c>W&lt;k&gt;_indptr</c> (int32, out + 1 row offsets) and <c>W&lt;k&gt;_shape</c> (int64, [out, in]), so that
/// <c>scipy.sparse.csr_matrix((f['W1_data'], f['W1_indices'], f['W1_indptr']), shape=f['W1_shape'])</c> rebuilds
/// it. Loading such arrays into a sparse layer restores its exact support (stored zeros included); into a dense
/// layer, the dense matrix. A dense W&lt;k&gt; (ours or the original's) loads into a dense layer as it is and into a
/// sparse one as its non-zeros. Optimizer state (momentum) is not saved: a loaded layer starts it from zero.
/// </remarks>
public static class WeightsFile
{
    private static readonly string[] SparseSuffixes = ["_data", "_indices", "_indptr", "_shape"];

    /// <summary>Writes the network's weights (atomically), each array straight from the network's memory.</summary>
    /// <exception cref="InvalidOperationException">a weight is not finite: a diverged network is never saved</exception>
    public static void Save(MultilayerPerceptron<float> mlp, string path) => Npz.Write(path, ToArrays(mlp));

    /// <summary>
    /// The network's weights as the file's arrays, by name: views of the network's matrices for writing at once
    /// (<see cref="NpyArray.Snapshot"/> to keep them). A network with a value that is not finite is refused: the message
    /// says it is not <paramref name="refused"/> ("saved", or "served" for a predictor's copy).
    /// </summary>
    internal static List<KeyValuePair<string, NpyArray>> ToArrays(MultilayerPerceptron<float> mlp, string refused = "saved")
    {
        ArgumentNullException.ThrowIfNull(mlp);
        if (mlp.FirstNonFinite() is { } parameter) throw new InvalidOperationException($"the network's {parameter} holds values that are not finite (NaN or ±∞): a diverged network is not {refused}");
        var arrays = new List<KeyValuePair<string, NpyArray>>();
        foreach (var (key, linear, vector, _, shape) in Arrays(mlp))
        {
            if (vector is not null) arrays.Add(new(key, NpyArray.View(vector, shape)));
            else if (linear!.SparseW is { } W)
            {
                arrays.Add(new(key + "_data", NpyArray.View(W.Values, W.NonZeroCount)));
                arrays.Add(new(key + "_indices", NpyArray.View(W.Columns, W.NonZeroCount)));
                arrays.Add(new(key + "_indptr", NpyArray.View(W.RowStart, W.Rows + 1)));
                arrays.Add(new(key + "_shape", NpyArray.FromInt64([W.Rows, W.Cols], 2)));
            }
            else arrays.Add(new(key, NpyArray.View(linear.W, linear.OutputSize, linear.InputSize)));
        }
        return arrays;
    }

    /// <summary>
    /// Loads weights into a network of the same architecture; every mismatch is one <see cref="DataFormatException"/>
    /// naming it. A model file (<see cref="Model.Save"/>) also names its layers: weights of another architecture (ReLU
    /// weights into a Sigmoid network, say) are refused even where the shapes agree.
    /// </summary>
    public static void Load(MultilayerPerceptron<float> mlp, string path)
    {
        ArgumentNullException.ThrowIfNull(mlp);
        // only the arrays this network can take, none larger than it can use (refused before it is decompressed); and a
        // model's description
        var limits = Limits(mlp);
        limits[ModelFile.DescriptionKey] = ModelFile.MaxDescriptionBytes;
        var arrays = Npz.Read(path, limits);
        if (arrays.TryGetValue(ModelFile.DescriptionKey, out var description)) ModelFile.CheckArchitecture(mlp, description, path);
        Load(mlp, arrays, path);
    }

    /// <summary>The most elements each array of this network's file may hold, by name: a W as dense or CSR arrays, every vector.</summary>
    internal static Dictionary<string, long> Limits(MultilayerPerceptron<float> mlp)
    {
        var limits = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, linear, _, _, shape) in Arrays(mlp))
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            limits[key] = count;
            if (linear is null) continue;
            (limits[key + "_data"], limits[key + "_indices"], limits[key + "_indptr"], limits[key + "_shape"]) = (count, count, linear.OutputSize + 1L, 2);
        }
        return limits;
    }

    /// <summary>
    /// Loads the weights from arrays already read from <paramref name="path"/>, then checks them: every value finite,
    /// batch normalization's running variances at least 0. A <paramref name="complete"/> file (a model, a checkpoint) must
    /// hold every array; a weights file may lack those the original's files lack (batch normalization's, SReLU's).
    /// </summary>
    internal static void Load(MultilayerPerceptron<float> mlp, Dictionary<string, NpyArray> arrays, string path, bool complete = false)
    {
        foreach (var (key, linear, vector, optional, shape) in Arrays(mlp))
        {
            if (vector is not null)
            {
                if (!arrays.TryGetValue(key, out var array))
                {
                    if (optional && !complete) continue; // files of the original hold W and b only
                    throw Missing(arrays, key, path);
                }
                CheckShape(array, key, path, shape);
                array.ToFloats().CopyTo(vector.AsSpan());
            }
            else if (arrays.TryGetValue(key, out var dense))
            {
                if (arrays.ContainsKey(key + "_data")) throw new DataFormatException($"{path}: W has both a dense '{key}' and sparse '{key}_data' arrays; keep one");
                CheckShape(dense, key, path, linear!.OutputSize, linear.InputSize);
                linear.LoadWeights(new Matrix<float>(linear.OutputSize, linear.InputSize, dense.ToFloats()));
            }
            else if (arrays.ContainsKey(key + "_data")) LoadSparse(arrays, key, linear!, path);
            else throw Missing(arrays, key, path);
        }
        foreach (var parameter in mlp.Layers.SelectMany(layer => layer.Parameters)) parameter.Gradient.Fill(0);
        if (mlp.FirstNonFinite() is { } where) throw new DataFormatException($"{path}: {where} holds values that are not finite (NaN or ±∞)");
        int normalization = 0;
        foreach (var bn in mlp.Layers.OfType<BatchNormalizationLayer<float>>())
        {
            normalization++;
            if (bn.RunningVariance.AsSpan().IndexOfAnyInRange(float.NegativeInfinity, -float.Epsilon) is >= 0 and var at)
                throw new DataFormatException($"{path}: 'running_var{normalization}' holds {bn.RunningVariance.AsSpan()[at]} at {at}; a variance is at least 0");
        }
    }

    /// <summary>W&lt;k&gt; from its CSR arrays: checked, then the exact support into a sparse layer or the dense matrix into a dense one.</summary>
    private static void LoadSparse(Dictionary<string, NpyArray> arrays, string key, LinearLayer<float> layer, string path)
    {
        foreach (var suffix in SparseSuffixes)
            if (!arrays.ContainsKey(key + suffix)) throw Missing(arrays, key + suffix, path);
        var shape = Integers(arrays[key + "_shape"], key + "_shape", path);
        if (shape.Length != 2 || shape[0] != layer.OutputSize || shape[1] != layer.InputSize)
            throw new DataFormatException($"{path}: '{key}_shape' is [{string.Join(", ", shape)}], the network needs [{layer.OutputSize}, {layer.InputSize}]");
        var data = arrays[key + "_data"];
        if (data.Kind != 'f' || data.Shape.Length != 1) throw new DataFormatException($"{path}: '{key}_data' must be a 1-D float array, it is {data.Descr} of shape ({string.Join(", ", data.Shape)})");
        var rowStart = Integers(arrays[key + "_indptr"], key + "_indptr", path);
        var columns = Integers(arrays[key + "_indices"], key + "_indices", path);
        var values = data.ToFloats();
        try
        {
            if (layer.IsSparse)
            {
                layer.LoadWeights(rowStart, columns, values);
                return;
            }
            layer.LoadWeights(CsrMatrix<float>.FromCsr(layer.OutputSize, layer.InputSize, rowStart, columns, values).ToDense());
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException($"{path}: '{key}' is not a valid CSR matrix: {e.Message}", e);
        }
    }

    /// <summary>A 1-D integer array as int[], every value checked to fit.</summary>
    private static int[] Integers(NpyArray array, string key, string path)
    {
        if (array.Kind is not ('i' or 'u') || array.Shape.Length != 1)
            throw new DataFormatException($"{path}: '{key}' must be a 1-D integer array, it is {array.Descr} of shape ({string.Join(", ", array.Shape)})");
        return array.ToInt32(0, int.MaxValue, out long at)
            ?? throw new DataFormatException($"{path}: '{key}' holds a value outside [0, {int.MaxValue}] at {at}");
    }

    private static void CheckShape(NpyArray array, string key, string path, params int[] shape)
    {
        if (!array.Shape.SequenceEqual(shape))
            throw new DataFormatException($"{path}: '{key}' has shape ({string.Join(", ", array.Shape)}), the network needs ({string.Join(", ", shape)})");
    }

    private static DataFormatException Missing(Dictionary<string, NpyArray> arrays, string key, string path)
        => new($"{path}: no array '{key}' (the file has: {Npz.Keys(arrays)})");

    /// <summary>
    /// Every array of the file in order: a linear layer's W (Linear set; saved dense or sparse) or a row vector
    /// (Vector set: b, srelu, batch normalization); Optional marks the ones beyond the original's W and b.
    /// </summary>
    private static IEnumerable<(string Key, LinearLayer<float>? Linear, Matrix<float>? Vector, bool Optional, int[] Shape)> Arrays(MultilayerPerceptron<float> mlp)
    {
        int linear = 0, normalization = 0, convolution = 0;
        foreach (var layer in mlp.Layers)
        {
            switch (layer)
            {
                case LinearLayer<float> linearLayer:
                    linear++;
                    yield return ($"W{linear}", linearLayer, null, false, [linearLayer.OutputSize, linearLayer.InputSize]);
                    yield return ($"b{linear}", null, linearLayer.B, false, [linearLayer.B.Cols]);
                    if (linearLayer is SReLULayer<float> srelu) yield return ($"srelu{linear}", null, srelu.A, true, [srelu.A.Cols]);
                    break;
                case ConvolutionLayer<float> conv:
                    convolution++;
                    // the kernels as PyTorch stores them, (C', C, kh, kw)
                    yield return ($"conv{convolution}_W", null, conv.W, false, [conv.Output.Channels, conv.Input.Channels, conv.KernelHeight, conv.KernelWidth]);
                    yield return ($"conv{convolution}_b", null, conv.B, false, [conv.B.Cols]);
                    break;
                case BatchNormalizationLayer<float> bn:
                    normalization++;
                    yield return ($"beta{normalization}", null, bn.Beta, true, [bn.Beta.Cols]);
                    yield return ($"gamma{normalization}", null, bn.Gamma, true, [bn.Gamma.Cols]);
                    yield return ($"running_mean{normalization}", null, bn.RunningMean, true, [bn.RunningMean.Cols]);
                    yield return ($"running_var{normalization}", null, bn.RunningVariance, true, [bn.RunningVariance.Cols]);
                    break;
            }
        }
    }
}
