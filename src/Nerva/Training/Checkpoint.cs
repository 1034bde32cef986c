using Nerva.Data;
using Nerva.Layers;
using Nerva.Optimizers;

namespace Nerva.Training;

/// <summary>
/// A training run's state after an epoch, everything its future depends on, so that it goes on as if it had never
/// stopped: the weights (as the weights file holds them, sparse supports and batch normalization's running statistics
/// included), every optimizer's state (momentum, Adam's moments) as <c>state_&lt;layer&gt;_&lt;parameter&gt;_&lt;k&gt;</c> and
/// its step count (Adam's t, in <c>steps</c>), every dropout layer's last mask (<c>mask_&lt;layer&gt;</c>: gradient growth on
/// the first batch after the resume reads it), the random generator's four words (<c>rng</c>), the epochs and batches
/// done, and early stopping's memory (<c>early_stopping</c>: best epoch, its validation loss, whether the run has
/// stopped; the best epoch's weights under the prefix <c>best_</c>). One .npz, written atomically, so a run killed while
/// it is written keeps the previous checkpoint. Resuming builds the same network from the same command (the same seed
/// draws the same data and initial weights), loads this, and trains on from the next epoch: the final weights are bit for
/// bit those of the run without the stop.
/// </summary>
public static class Checkpoint
{
    /// <summary>The format written; a checkpoint of another version is refused (version 1 lacked Adam's t, the masks and early stopping).</summary>
    private const long Version = 2;

    private const string BestPrefix = "best_";

    /// <summary>Writes the state of <paramref name="trainer"/> (its network, generator, batches done and early stopping) after <paramref name="epochs"/> epochs.</summary>
    /// <exception cref="InvalidOperationException">the network holds a value that is not finite: a diverged run is never saved</exception>
    public static void Save(string path, StochasticGradientDescent trainer, int epochs)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        var mlp = trainer.Network;
        var arrays = WeightsFile.ToArrays(mlp);
        foreach (var (key, state) in States(mlp)) arrays.Add(new(key, NpyArray.View(state, state.Length)));
        var steps = Optimizers(mlp).Select(optimizer => optimizer.Steps).ToArray();
        arrays.Add(new("steps", NpyArray.FromInt64(steps, steps.Length)));
        foreach (var (key, layer) in Masks(mlp)) arrays.Add(new(key, NpyArray.View(layer.R, layer.R.Length)));
        arrays.Add(new("rng", NpyArray.FromInt64([.. trainer.Random.State.Select(word => unchecked((long)word))], 4)));
        arrays.Add(new("epochs", NpyArray.FromInt64([epochs], 1)));
        arrays.Add(new("batches", NpyArray.FromInt64([trainer.BatchesDone], 1)));
        arrays.Add(new("version", NpyArray.FromInt64([Version], 1)));
        var (bestEpoch, bestLoss, bestWeights) = trainer.Best;
        arrays.Add(new("early_stopping", NpyArray.FromDoubles([bestEpoch, bestLoss, trainer.Stopped ? 1 : 0], 3)));
        foreach (var (key, array) in bestWeights ?? []) arrays.Add(new(BestPrefix + key, array));
        Npz.Write(path, arrays);
    }

    /// <summary>
    /// Loads a checkpoint into <paramref name="trainer"/>, whose network has the architecture of the one saved; returns the
    /// epochs done (pass them to <see cref="StochasticGradientDescent.Train"/>). Every mismatch is one
    /// <see cref="DataFormatException"/>.
    /// </summary>
    public static int Load(string path, StochasticGradientDescent trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var mlp = trainer.Network;
        var arrays = Npz.Read(path, Limits(trainer));
        var version = arrays.TryGetValue("version", out var v) && v.Kind == 'i' && v.Count == 1 ? v.ToInt64()[0] : 1;
        if (version != Version)
            throw new DataFormatException($"{path}: a checkpoint of format {version}; this version reads format {Version} (format 1 lacked Adam's step count, the dropout masks and early stopping's state): start the run again");
        WeightsFile.Load(mlp, arrays, path, complete: true);   // the optimizer states start from zero here, then take the saved ones
        foreach (var (key, state) in States(mlp)) Floats(arrays, key, state, path);
        var optimizers = Optimizers(mlp).ToArray();
        var steps = Integers(arrays, "steps", optimizers.Length, path);
        for (int p = 0; p < optimizers.Length; p++)
            optimizers[p].Steps = steps[p] >= 0 ? steps[p] : throw new DataFormatException($"{path}: 'steps' holds {steps[p]}, a negative step count");
        foreach (var (key, layer) in Masks(mlp)) Floats(arrays, key, layer.R, path);
        var words = Integers(arrays, "rng", 4, path);
        try
        {
            trainer.Random.State = [.. words.Select(word => unchecked((ulong)word))];
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException($"{path}: 'rng' is not a generator state: {e.Message}", e);
        }
        long epochs = Integers(arrays, "epochs", 1, path)[0], batches = Integers(arrays, "batches", 1, path)[0];
        if (epochs is < 0 or > int.MaxValue || batches < 0) throw new DataFormatException($"{path}: {epochs} epochs and {batches} batches done make no sense");
        var early = arrays.Get("early_stopping", path);
        if (early.Kind != 'f' || early.Count != 3) throw new DataFormatException($"{path}: 'early_stopping' must hold 3 floats, it is {early.Descr} of {early.Count}");
        var e3 = early.ToDoubles();
        if (e3[0] != Math.Floor(e3[0]) || e3[0] < 0 || e3[0] > epochs || double.IsNaN(e3[1]) || e3[2] is not (0 or 1))
            throw new DataFormatException($"{path}: 'early_stopping' holds [{string.Join(", ", e3)}], not a best epoch of at most {epochs}, a loss and 0 or 1");
        var best = arrays.Where(pair => pair.Key.StartsWith(BestPrefix, StringComparison.Ordinal))
            .Select(pair => new KeyValuePair<string, NpyArray>(pair.Key[BestPrefix.Length..], pair.Value)).ToList();
        if (best.Count > 0) CheckBest(best, mlp, path);
        trainer.Restore(batches, ((int)e3[0], e3[1], best.Count > 0 ? best : null), e3[2] == 1);
        return (int)epochs;
    }

    /// <summary>
    /// The most elements each member may hold, by name, for this trainer's network: its weights (and the best epoch's), its
    /// optimizer states and masks, the counters. Any other member is never decompressed; a larger one is refused from its header.
    /// </summary>
    private static Dictionary<string, long> Limits(StochasticGradientDescent trainer)
    {
        var mlp = trainer.Network;
        var limits = WeightsFile.Limits(mlp);
        foreach (var (key, limit) in limits.ToList()) limits[BestPrefix + key] = limit;
        foreach (var (key, state) in States(mlp)) limits[key] = state.Length;
        foreach (var (key, layer) in Masks(mlp)) limits[key] = layer.R.Length;
        limits["steps"] = Optimizers(mlp).Count();
        (limits["rng"], limits["epochs"], limits["batches"], limits["version"], limits["early_stopping"]) = (4, 1, 1, 1, 3);
        return limits;
    }

    /// <summary>Every optimizer state matrix, by its key: state_&lt;layer&gt;_&lt;parameter&gt;_&lt;k&gt;, counted from 1.</summary>
    private static IEnumerable<(string Key, Matrix<float> State)> States(MultilayerPerceptron<float> mlp)
    {
        for (int l = 0; l < mlp.Layers.Count; l++)
            for (int p = 0; p < mlp.Layers[l].Parameters.Count; p++)
            {
                var states = mlp.Layers[l].Parameters[p].Optimizer.State;
                for (int k = 0; k < states.Count; k++) yield return ($"state_{l + 1}_{p + 1}_{k + 1}", states[k]);
            }
    }

    /// <summary>Every parameter's optimizer, layer by layer.</summary>
    private static IEnumerable<IOptimizer<float>> Optimizers(MultilayerPerceptron<float> mlp) => mlp.Layers.SelectMany(layer => layer.Parameters).Select(p => p.Optimizer);

    /// <summary>
    /// The best epoch's weights must be this network's arrays (names, kinds, shapes) with finite values: checked when the
    /// checkpoint is read, not when early stopping restores them.
    /// </summary>
    private static void CheckBest(List<KeyValuePair<string, NpyArray>> best, MultilayerPerceptron<float> mlp, string path)
    {
        var expected = WeightsFile.ToArrays(mlp).ToDictionary(pair => pair.Key, pair => pair.Value, StringComparer.Ordinal);
        if (best.Count != expected.Count) throw new DataFormatException($"{path}: the best epoch's weights hold {best.Count} arrays, the network has {expected.Count}");
        foreach (var (key, array) in best)
        {
            if (!expected.TryGetValue(key, out var mine) || mine.Kind != array.Kind || mine.ItemSize != array.ItemSize || !mine.Shape.SequenceEqual(array.Shape))
                throw new DataFormatException($"{path}: '{BestPrefix}{Npz.Printable(key)}' is not an array of this network (or not of its shape)");
            if (array.Kind == 'f' && !array.ToFloats().All(float.IsFinite)) throw new DataFormatException($"{path}: '{BestPrefix}{key}' holds values that are not finite");
        }
    }

    /// <summary>Every dropout layer's mask R, by its key mask_&lt;layer&gt;.</summary>
    private static IEnumerable<(string Key, LinearLayer<float> Layer)> Masks(MultilayerPerceptron<float> mlp)
    {
        for (int l = 0; l < mlp.Layers.Count; l++)
            if (mlp.Layers[l] is LinearLayer<float> { DropoutRate: > 0 } layer) yield return ($"mask_{l + 1}", layer);
    }

    private static void Floats(Dictionary<string, NpyArray> arrays, string key, Matrix<float> target, string path)
    {
        var saved = arrays.Get(key, path);
        if (saved.Kind != 'f' || saved.Count != target.Length)
            throw new DataFormatException($"{path}: '{key}' holds {saved.Count} values of {saved.Descr}, the network needs {target.Length} floats");
        saved.ToFloats().CopyTo(target.AsSpan());
    }

    private static long[] Integers(Dictionary<string, NpyArray> arrays, string key, int count, string path)
    {
        var array = arrays.Get(key, path);
        if (array.Kind != 'i' || array.Count != count) throw new DataFormatException($"{path}: '{key}' must hold {count} integers, it is {array.Descr} of {array.Count}");
        return array.ToInt64();
    }
}
