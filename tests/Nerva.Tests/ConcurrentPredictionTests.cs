namespace Nerva.Tests;

/// <summary>
/// Predictions from several threads at once run on inference replicas of the network (its parameters shared, its
/// buffers their own): every thread gets exactly the outputs that one thread alone gets, for every layer kind, the
/// sparse row and panel paths, and batch sizes that mix, and the replicas follow the network's weights as they change.
/// </summary>
[Collection(ThreadCountCollection.Name)]
public sealed class ConcurrentPredictionTests
{
    public static TheoryData<string, string, double, double, string?> Architectures => new()
    {
        { "ReLU;BatchNormalization;Sigmoid;Softmax", "64;512;256;3", 1, 0.3, null },
        { "LeakyReLU(0.1);ELU(0.5);LogSoftmax", "64;512;256;3", 0.4, 0, null },
        { "SReLU(al=0.1, tl=-0.2, ar=0.3, tr=0.9);AllReLU(0.2);Linear", "64;512;256;3", 0.5, 0.2, null },
        { "Conv(out=3, kernel=3, padding=1);ReLU;MaxPool(2);Conv(out=4, kernel=2x1, stride=1);ELU(0.5);AvgPool(kernel=1, stride=1);Flatten;ReLU;Linear", "512;64;3", 1, 0, "2,16,16" },
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Threads_predicting_at_once_get_the_outputs_of_one_thread(string layers, string sizes, double density, double dropout, string? inputShape)
    {
        var model = Model.Create(sizes, layers: layers, weights: "He", density: density, dropout: dropout, seed: 7, inputShape: inputShape);
        int D = model.InputSize;
        var rng = new Rng(11);
        // layers wide enough that calls overlap; 1–3 rows take a sparse layer's row path, more its panels
        var batches = new[] { 1, 2, 3, 5, 17, 40, 1, 64 }.Select(n =>
        {
            var X = new Matrix<float>(n, D);
            for (int i = 0; i < X.Length; i++) X.AsSpan()[i] = (float)rng.Uniform(-1, 1);
            return X;
        }).ToArray();
        var expected = batches.Select(X => model.Predict(X).AsSpan().ToArray()).ToArray();
        model.Network.IsTraining = true;   // as training leaves it: predictions are in evaluation mode all the same
        // threads of their own, started together (the test host's pool may run a Parallel.For's iterations one by one)
        int mismatches = 0;
        using var start = new Barrier(8);
        var threads = Enumerable.Range(0, 8).Select(thread => new Thread(() =>
        {
            start.SignalAndWait();
            for (int round = 0; round < 60; round++)
            {
                int b = (thread * 7 + round * 3) % batches.Length;
                try
                {
                    if (!model.Predict(batches[b]).AsSpan().SequenceEqual(expected[b])) Interlocked.Increment(ref mismatches);
                }
                catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or InvalidOperationException)
                {
                    Interlocked.Increment(ref mismatches);   // a shared buffer resized under another call
                }
            }
        })).ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());
        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void Replicas_follow_the_weights_as_they_change()
    {
        var model = Model.Create("8-16-3", weights: "He", density: 0.5, seed: 2);
        var X = new Matrix<float>(4, 8);
        for (int i = 0; i < X.Length; i++) X.AsSpan()[i] = i * 0.01f;
        var before = model.Predict(X).AsSpan().ToArray();
        var data = Data.Dataset.FromLabels(X, [0, 1, 2, 0]);
        model.Train(data, learningRate: 0.1, epochs: 1, batchSize: 2);
        var after = model.Predict(X).AsSpan().ToArray();
        Assert.NotEqual(before, after);
        // a fresh model with the trained weights predicts the same bits: no replica kept the old ones
        string path = Path.Combine(Path.GetTempPath(), $"nerva-replica-{Environment.ProcessId}.npz");
        model.Save(path);
        Assert.Equal(after, Model.Load(path).Predict(X).AsSpan().ToArray());
        File.Delete(path);
    }
}
