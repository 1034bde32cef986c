using Nerva.Data;

namespace Nerva.Training;

/// <summary>
/// A training run's state after an epoch, enough to go on as if it had never stopped: the weights (as the weights file
/// holds them, sparse supports included), every optimizer state (momentum, Adam's moments) as <c>state_&lt;layer&gt;_&lt;parameter&gt;_&lt;k&gt;</c>,
/// the random generator's four words (<c>rng</c>), the epochs and batches done. One .npz, written atomically, so a run
/// killed while it is written keeps the previous checkpoint. Resuming builds the same network from the same command (the
/// same seed draws the same data and initial weights), loads this, and trains on from the next epoch: the final weights
/// are bit for bit those of the run without the stop.
/// </summary>
public static class Checkpoint
{
    /// <summary>Writes the state of <paramref name="mlp"/>, <paramref name="rng"/> and the counters to <paramref name="path"/>.</summary>
    public static void Save(string path, MultilayerPerceptron<float> mlp, Rng rng, int epochs, long batches)
    {
        ArgumentNullException.ThrowIfNull(mlp);
        ArgumentNullException.ThrowIfNull(rng);
        var arrays = WeightsFile.ToArrays(mlp);
        foreach (var (key, state) in States(mlp)) arrays.Add(new(key, NpyArray.FromFloats(state.AsSpan().ToArray(), state.Length)));
        arrays.Add(new("rng", NpyArray.FromInt64([.. rng.State.Select(word => unchecked((long)word))], 4)));
        arrays.Add(new("epochs", NpyArray.FromInt64([epochs], 1)));
        arrays.Add(new("batches", NpyArray.FromInt64([batches], 1)));
        Npz.Write(path, arrays);
    }

    /// <summary>
    /// Loads a checkpoint into a network of the same architecture and into <paramref name="rng"/>; returns the epochs and
    /// batches done. Every mismatch is one <see cref="DataFormatException"/>.
    /// </summary>
    public static (int Epochs, long Batches) Load(string path, MultilayerPerceptron<float> mlp, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(mlp);
        ArgumentNullException.ThrowIfNull(rng);
        var arrays = Npz.Read(path);
        WeightsFile.Load(mlp, arrays, path);   // the optimizer states start from zero here, then take the saved ones
        foreach (var (key, state) in States(mlp))
        {
            var saved = arrays.Get(key, path);
            if (saved.Kind != 'f' || saved.Count != state.Length)
                throw new DataFormatException($"{path}: '{key}' holds {saved.Count} values of {saved.Descr}, the optimizer needs {state.Length} floats");
            saved.ToFloats().CopyTo(state.AsSpan());
        }
        var words = Integers(arrays, "rng", 4, path);
        try
        {
            rng.State = [.. words.Select(word => unchecked((ulong)word))];
        }
        catch (ArgumentException e)
        {
            throw new DataFormatException($"{path}: 'rng' is not a generator state: {e.Message}", e);
        }
        long epochs = Integers(arrays, "epochs", 1, path)[0], batches = Integers(arrays, "batches", 1, path)[0];
        if (epochs is < 0 or > int.MaxValue || batches < 0) throw new DataFormatException($"{path}: {epochs} epochs and {batches} batches done make no sense");
        return ((int)epochs, batches);
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

    private static long[] Integers(Dictionary<string, NpyArray> arrays, string key, int count, string path)
    {
        var array = arrays.Get(key, path);
        if (array.Kind != 'i' || array.Count != count) throw new DataFormatException($"{path}: '{key}' must hold {count} integers, it is {array.Descr} of {array.Count}");
        return array.ToInt64();
    }
}
