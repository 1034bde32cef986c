using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Nerva.Data;
using Nerva.Distributed;
using Nerva.Losses;
using Nerva.Optimizers;
using Nerva.Schedulers;

namespace Nerva.Training;

/// <summary>
/// Mini-batch stochastic gradient descent, the original's <c>stochastic_gradient_descent_algorithm</c>:
/// <code>
/// statistics before training                                       ("epoch   0 …")
/// for every epoch:
///     lr = scheduler(epoch); epoch hooks (data reload); clip
///     shuffle the training indices (unless --no-shuffle)
///     for every batch, the last partial one included:
///         prune and grow sparse layers when due (not counted in the epoch time)
///         renew dropout masks; Y = feedforward(X)
///         DY = ∇_Y loss(Y, T) / N                                   (N = rows of this batch)
///         backpropagate(Y, DY); optimize(lr)
///     statistics in evaluation mode                                 ("epoch   e lr: … time: …s")
/// </code>
/// A loss or gradient that is not finite stops training with the epoch and batch in the message.
/// <para>
/// Data-parallel (<see cref="Communicator"/> of P ranks, every rank a replica with the same generator): each batch of
/// B rows, the same rows as one process takes, is split into P contiguous shards (a batch of fewer than P rows is taken
/// whole by every rank, each weighing it 1/P); each rank backpropagates its shard with DY = ∇_Y loss / B, the gradients
/// of every parameter are summed over the ranks (large ones in place, small ones fused into buckets; a sparse layer's W
/// contributes its nnz stored values), each layer's sums started as soon as backpropagation has computed its gradients
/// (<see cref="OverlapCommunication"/>), and every replica applies the same update. Batch normalization
/// synchronizes its statistics, gradient growth sums its dense gradient over the ranks, and dropout masks, shuffles and
/// prune/grow steps are drawn alike on every rank.
/// Statistics are computed on a shard each and summed. After every epoch a hash of every replica's weights, supports,
/// running statistics and generator is compared; a difference stops the run.
/// </para>
/// </summary>
public sealed class StochasticGradientDescent(
    MultilayerPerceptron<float> mlp, ILossFunction loss, ILearningRateScheduler scheduler, TrainingOptions options, Rng rng, TextWriter output)
{
    /// <summary>A trainer that prints nothing, with its own generator seeded by <paramref name="seed"/> (shuffling, dropout masks, growth).</summary>
    public StochasticGradientDescent(MultilayerPerceptron<float> mlp, ILossFunction loss, ILearningRateScheduler scheduler, TrainingOptions options, ulong seed = 0)
        : this(mlp, loss, scheduler, options, new Rng(seed), TextWriter.Null)
    {
    }

    private readonly Matrix<float> _X = new(0, 0);
    private readonly Matrix<float> _T = new(0, 0);
    private readonly Matrix<float> _Y = new(0, 0);
    private readonly Matrix<float> _DY = new(0, 0);
    private readonly Dictionary<string, (double Seconds, int Calls)> _timings = [];
    /// <summary>Batches trained so far, over all epochs (prune-and-grow steps every k batches count them); a resumed run sets it from its checkpoint.</summary>
    public long BatchesDone { get; set; }
    private double _untimedSeconds;

    /// <summary>The ranks of a data-parallel run (see the class remarks); one process by default.</summary>
    public ICommunicator Communicator
    {
        get => _communicator;
        init
        {
            _communicator = value ?? throw new ArgumentNullException(nameof(value));
            _exchange = new GradientExchange(mlp, value);
        }
    }

    private readonly ICommunicator _communicator = SingleProcess.Instance;
    private readonly GradientExchange? _exchange;

    /// <summary>
    /// Whether a data-parallel run starts summing a layer's gradients as soon as backpropagation has computed them, while
    /// it goes on with the layers below (on by default); off, every sum starts after backpropagation. Either way the same
    /// spans are summed in the same order: the same bits.
    /// </summary>
    public bool OverlapCommunication { get; init; } = true;

    /// <summary>Called at the start of every epoch with its index, after the learning rate is set.</summary>
    public event Action<int>? EpochStarting;

    private CancellationToken _cancellation;
    private double _batchLoss;

    /// <summary>Called after every batch's update (progress displays); not raised when nobody listens.</summary>
    public event Action<BatchProgress>? BatchCompleted;

    /// <summary>Called after every epoch's line is printed (and for epoch 0, before training) with the epoch's numbers.</summary>
    public event Action<EpochMetrics>? EpochCompleted;

    /// <summary>The data; an <see cref="EpochStarting"/> handler may replace it (preprocessed epochs).</summary>
    public Dataset? Data { get; set; }

    /// <summary>The learning rate of the current epoch.</summary>
    public double LearningRate { get; private set; }

    /// <summary>
    /// Trains for the configured epochs and returns the final test accuracy and the summed epoch times. A run resumed from a
    /// checkpoint (<see cref="Checkpoint"/>) passes the epochs already done and goes on with epoch
    /// <paramref name="completedEpochs"/> + 1; its first line is the loaded network's. <paramref name="cancellation"/> is
    /// looked at between batches, those of the statistics included (an <see cref="OperationCanceledException"/> then ends
    /// the run; the network keeps the batches done).
    /// </summary>
    public (double TestAccuracy, double Seconds) Train(Dataset data, int completedEpochs = 0, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegative(completedEpochs);
        options.Validate();
        for (int epoch = completedEpochs; epoch < options.Epochs; epoch++)
        {
            double rate = scheduler.LearningRate(epoch);
            if (!(rate > 0 && rate <= float.MaxValue))
                throw new ArgumentOutOfRangeException(nameof(scheduler), string.Create(CultureInfo.InvariantCulture, $"the learning rate of epoch {epoch + 1} is {rate}; it must be a positive number a float can hold ({scheduler})"));
        }
        if (Communicator.Size > 1 && options.GradientStep > 0) throw new NotSupportedException("the gradient check (GradientStep) runs in one process only");
        foreach (var layer in mlp.Layers) layer.Communicator = Communicator;
        Data = data;
        CheckShapes(data);
        if (options.ValidationSplit > 0 && (ValidationRows(data) < 1 || ValidationRows(data) >= data.Xtrain.Rows))
            throw new ArgumentException($"a validation split of {options.ValidationSplit} of {data.Xtrain.Rows} training rows leaves {ValidationRows(data)} rows to validate on, or none to train on");
        _cancellation = cancellation;
        LearningRate = scheduler.LearningRate(Math.Max(completedEpochs - 1, 0));
        var first = options.Statistics ? PrintStatistics(completedEpochs, 0) : Metrics(completedEpochs, 0);
        EpochCompleted?.Invoke(first);
        double accuracy = first.TestAccuracy, total = 0;
        int trained = 0;
        for (int epoch = completedEpochs; epoch < options.Epochs && !Stopped; epoch++)
        {
            LearningRate = scheduler.LearningRate(epoch);
            EpochStarting?.Invoke(epoch);
            CheckShapes(Data!);
            if (epoch > 0 && options.Clip > 0) Clip(options.Clip);
            long start = Stopwatch.GetTimestamp();
            _untimedSeconds = 0;
            TrainEpoch(epoch + 1, Data!);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds - _untimedSeconds;
            total += seconds;
            trained++;
            if (Communicator.Size > 1) CheckReplicas(epoch + 1);
            // the last update of an epoch is checked here (every other one by the next batch's loss)
            if (mlp.FirstNonFinite() is { } parameter)
                throw new TrainingDivergedException(string.Create(CultureInfo.InvariantCulture,
                    $"the weights became infinite or NaN ({parameter}) in epoch {epoch + 1}; lower the learning rate (now {LearningRate})"));
            EpochMetrics metrics;
            if (options.Statistics) metrics = PrintStatistics(epoch + 1, seconds);
            else
            {
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch + 1,3} time: {seconds:F8}s"));
                metrics = Metrics(epoch + 1, seconds);
            }
            accuracy = metrics.TestAccuracy;
            // early stopping's bookkeeping before the handlers, so that a checkpoint written by one holds it
            Stopped = StopEarly(epoch + 1);
            EpochCompleted?.Invoke(metrics);
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Total training time for the {trained} epochs: {total:F8}s"));
        if (options.Timer != "disabled") PrintTimings();
        return (accuracy, total);
    }

    /// <summary>Whether early stopping has ended the run (the best epoch's weights are back in the network); a checkpoint keeps it.</summary>
    public bool Stopped { get; private set; }

    private void TrainEpoch(int epoch, Dataset data)
    {
        int N = TrainingRows(data), batchSize = options.BatchSize;
        var indices = Indices(N);
        if (options.Shuffle) rng.Shuffle(indices.AsSpan());
        mlp.IsTraining = true;
        var eta = (float)LearningRate;
        for (int start = 0, batch = 1; start < N; start += batchSize, batch++)
        {
            _cancellation.ThrowIfCancellationRequested();
            int n = Math.Min(batchSize, N - start);
            // this rank's shard of the batch; one process: all of it
            var (first, rows) = Shard(n);
            _batchRows = n < Communicator.Size ? n * Communicator.Size : n;
            Gather(data.Xtrain, indices, start + first, rows, _X);
            Gather(data.Ttrain, indices, start + first, rows, _T);
            if (SparseStepDue(epoch, batch)) SparseStep(epoch, batch);
            mlp.RenewDropoutMasks(rng);
            bool distributed = Communicator.Size > 1;
            ComputeGradients(epoch, batch, distributed && OverlapCommunication ? _exchange!.LayerDone : null);
            if (distributed) SumGradients();
            if (options.GradientStep > 0) GradientCheck.Run(mlp, loss, _X, _T, options.GradientStep, output, $"epoch {epoch} batch {batch}");
            long t = Now();
            mlp.Optimize(eta);
            Record("optimize", t);
            BatchesDone++;
            BatchCompleted?.Invoke(new BatchProgress(epoch, batch, (N + batchSize - 1) / batchSize, n, _batchLoss));
        }
    }

    /// <summary>Y = feedforward(X); DY = ∇_Y loss(Y, T)/N; backpropagate(Y, DY), for the batch in _X, _T (<paramref name="layerDone"/>: see <see cref="MultilayerPerceptron{T}.Backpropagate"/>).</summary>
    private void ComputeGradients(int epoch, int batch, Action<int>? layerDone = null)
    {
        long t = Now();
        mlp.Feedforward(_X, _Y);
        Record("feedforward", t);
        loss.Gradient(_Y, _T, _DY);
        double value = loss.Value(_Y, _T);
        _batchLoss = value / _X.Rows;
        if (!double.IsFinite(value) || !AllFinite(_DY))
            throw new TrainingDivergedException(string.Create(CultureInfo.InvariantCulture,
                $"the loss became {(double.IsFinite(value) ? "finite but its gradient did not" : value.ToString(CultureInfo.InvariantCulture))} in epoch {epoch}, batch {batch}; lower the learning rate (now {LearningRate})"));
        // DY = ∇_Y loss / N, N the rows of the whole batch (every rank's shard)
        var dy = _DY.AsSpan();
        float scale = 1f / _batchRows;
        for (int k = 0; k < dy.Length; k++) dy[k] *= scale;
        t = Now();
        mlp.Backpropagate(_Y, _DY, layerDone);
        Record("backpropagate", t);
    }

    /// <summary>
    /// Every parameter's gradient summed over the ranks (<see cref="GradientExchange"/>): started during backpropagation
    /// (<see cref="OverlapCommunication"/>) or now, then completed; the time recorded is what backpropagation did not hide.
    /// </summary>
    private void SumGradients()
    {
        long t = Now();
        if (!OverlapCommunication)
            for (int l = mlp.Layers.Count - 1; l >= 0; l--) _exchange!.LayerDone(l);
        _exchange!.Finish();
        Record("all-reduce", t);
    }

    /// <summary>The rows of the whole batch the gradients are divided by (every rank's shard counted).</summary>
    private int _batchRows;

    /// <summary>This rank's rows of a batch of <paramref name="n"/>: the r-th of P contiguous shards, or all of them when the batch has fewer rows than ranks.</summary>
    private (int First, int Rows) Shard(int n)
    {
        int P = Communicator.Size, r = Communicator.Rank;
        if (P == 1 || n < P) return (0, n);
        int first = (int)((long)n * r / P), end = (int)((long)n * (r + 1) / P);
        return (first, end - first);
    }

    /// <summary>Stops the run when the replicas differ: a hash of every rank's weights, supports, running statistics and generator, compared.</summary>
    private void CheckReplicas(int epoch)
    {
        var hash = new System.IO.Hashing.XxHash64();
        foreach (var layer in mlp.Layers)
        {
            foreach (var p in layer.Parameters) hash.Append(MemoryMarshal.AsBytes(p.Value.AsSpan()));
            if (layer is Layers.LinearLayer<float> { SparseW: { } W })
            {
                hash.Append(MemoryMarshal.AsBytes(W.RowStart.AsSpan()));
                hash.Append(MemoryMarshal.AsBytes(W.Columns.AsSpan()));
            }
            if (layer is Layers.BatchNormalizationLayer<float> bn)
            {
                hash.Append(MemoryMarshal.AsBytes(bn.RunningMean.AsSpan()));
                hash.Append(MemoryMarshal.AsBytes(bn.RunningVariance.AsSpan()));
            }
        }
        hash.Append(MemoryMarshal.AsBytes(rng.State.AsSpan()));
        var all = new long[Communicator.Size];
        Communicator.AllGather([unchecked((long)hash.GetCurrentHashAsUInt64())], all);
        for (int r = 1; r < all.Length; r++)
            if (all[r] != all[0])
                throw new TrainingDivergedException($"the replicas of ranks 0 and {r} differ after epoch {epoch} (weights, supports, running statistics or generator): the ranks must run the same command on the same data");
    }

    /// <summary>Once per epoch before every epoch but the first, or every IntervalBatches batches; not after a cosine decay has ended.</summary>
    private bool SparseStepDue(int epoch, int batch)
    {
        var sparse = options.SparseTraining;
        if (sparse is null || SparseFactor() == 0) return false;
        return sparse.IntervalBatches == 0 ? epoch > 1 && batch == 1 : BatchesDone > 0 && BatchesDone % sparse.IntervalBatches == 0;
    }

    /// <summary>The prune fraction's factor now (<see cref="Sparse.DynamicSparseTraining.CosineDecay"/>), over the run's batches.</summary>
    private double SparseFactor()
    {
        int B = options.BatchSize;
        return options.SparseTraining!.Factor(BatchesDone, (long)options.Epochs * ((TrainingRows(Data!) + B - 1) / B));
    }

    /// <summary>Prunes and regrows the sparse layers; gradient growth first backpropagates the coming batch.</summary>
    private void SparseStep(int epoch, int batch)
    {
        long start = Stopwatch.GetTimestamp();
        var sparse = options.SparseTraining!;
        if (sparse.Grow.NeedsGradient) ComputeGradients(epoch, batch);
        sparse.Step(mlp, rng, output, SparseFactor());
        _untimedSeconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    /// <summary>
    /// Loss (average over the training set) and accuracies, in evaluation mode (the test set's alone without
    /// <see cref="TrainingOptions.TrainingSetStatistics"/>); prints the epoch line.
    /// </summary>
    private EpochMetrics PrintStatistics(int epoch, double seconds)
    {
        var data = Data!;
        mlp.IsTraining = false;
        var (trainLoss, trainAccuracy) = options.TrainingSetStatistics ? Evaluate(data.Xtrain, data.Ttrain, 0, TrainingRows(data), _cancellation) : (double.NaN, double.NaN);
        var (testLoss, testAccuracy) = Evaluate(data.Xtest, data.Ttest, 0, data.Xtest.Rows, _cancellation);
        mlp.IsTraining = true;
        // finite weights whose outputs overflow: the run has diverged as surely as with NaN weights
        var (set, loss) = options.TrainingSetStatistics ? ("training", trainLoss) : ("test", testLoss);
        if (!double.IsFinite(loss))
            throw new TrainingDivergedException(string.Create(CultureInfo.InvariantCulture,
                $"the loss on the {set} set became {loss} {(epoch == 0 ? "before training" : $"after epoch {epoch}")}; lower the learning rate (now {LearningRate})"));
        string training = options.TrainingSetStatistics ? string.Create(CultureInfo.InvariantCulture, $"loss: {trainLoss:F8}  train accuracy: {trainAccuracy:F8}  ") : "";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch,3} lr: {LearningRate:F8}  {training}test accuracy: {testAccuracy:F8} time: {seconds:F8}s"));
        return Metrics(epoch, seconds, trainLoss, trainAccuracy, testAccuracy);
    }

    /// <summary>The epoch's numbers, with the validation loss and accuracy when rows are held out (printed here).</summary>
    private EpochMetrics Metrics(int epoch, double seconds, double loss = double.NaN, double trainAccuracy = double.NaN, double testAccuracy = double.NaN)
    {
        _validationLoss = double.NaN;
        double validationAccuracy = double.NaN;
        if (options.ValidationSplit > 0)
        {
            var data = Data!;
            mlp.IsTraining = false;
            (_validationLoss, validationAccuracy) = Evaluate(data.Xtrain, data.Ttrain, TrainingRows(data), ValidationRows(data), _cancellation);
            mlp.IsTraining = true;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch,3} validation loss: {_validationLoss:F8}  validation accuracy: {validationAccuracy:F8}"));
        }
        return new EpochMetrics(epoch, LearningRate, loss, trainAccuracy, testAccuracy, seconds,
            [.. mlp.Layers.OfType<Layers.LinearLayer<float>>().Select(layer => layer.Density)], _validationLoss, validationAccuracy);
    }

    private double _validationLoss;

    /// <summary>Early stopping's memory: the epoch with the lowest validation loss so far, that loss, and its weights (null before the first).</summary>
    internal (int Epoch, double Loss, List<KeyValuePair<string, NpyArray>>? Weights) Best { get; set; } = (0, double.PositiveInfinity, null);

    /// <summary>
    /// Early stopping: keeps the weights of the epoch with the lowest validation loss so far; once it is
    /// <see cref="TrainingOptions.EarlyStoppingPatience"/> epochs old, gives them back to the network and says so.
    /// </summary>
    private bool StopEarly(int epoch)
    {
        if (options.EarlyStoppingPatience == 0) return false;
        if (_validationLoss < Best.Loss)
        {
            Best = (epoch, _validationLoss, [.. WeightsFile.ToArrays(mlp).Select(pair => new KeyValuePair<string, NpyArray>(pair.Key, pair.Value.Snapshot()))]);
            return false;
        }
        if (epoch - Best.Epoch < options.EarlyStoppingPatience || Best.Weights is null) return false;
        WeightsFile.Load(mlp, new Dictionary<string, NpyArray>(Best.Weights, StringComparer.Ordinal), "the best epoch's weights");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"early stopping after epoch {epoch}: the validation loss has not improved for {options.EarlyStoppingPatience} epochs; the weights of epoch {Best.Epoch} (validation loss {Best.Loss:F8}) are restored"));
        return true;
    }

    /// <summary>Sets what a checkpoint brings back beyond the network and the generator: the batches done and early stopping's state.</summary>
    internal void Restore(long batches, (int Epoch, double Loss, List<KeyValuePair<string, NpyArray>>? Weights) best, bool stopped)
    {
        BatchesDone = batches;
        Best = best;
        Stopped = stopped;
    }

    /// <summary>The network trained.</summary>
    public MultilayerPerceptron<float> Network => mlp;

    /// <summary>The generator of shuffles, dropout masks and growth (a checkpoint saves its state).</summary>
    internal Rng Random => rng;

    /// <summary>The rows held out for validation: the last ⌊split·N⌋ of the training set.</summary>
    private int ValidationRows(Dataset data) => (int)Math.Floor(options.ValidationSplit * data.Xtrain.Rows);

    /// <summary>The rows trained on: the training set but its held-out rows.</summary>
    private int TrainingRows(Dataset data) => data.Xtrain.Rows - ValidationRows(data);

    /// <summary>(loss summed over X / rows, accuracy) in batches of the batch size; in a data-parallel run a collective call (every rank calls it).</summary>
    public (double Loss, double Accuracy) Evaluate(Matrix<float> X, Matrix<float> T) => Evaluate(X, T, 0, X.Rows, CancellationToken.None);

    /// <summary>(loss summed over rows [first, first + count) / count, accuracy) in batches of the batch size.</summary>
    private (double Loss, double Accuracy) Evaluate(Matrix<float> X, Matrix<float> T, int first, int count, CancellationToken cancellation)
    {
        if (count == 0) return (double.NaN, double.NaN);   // no test set
        int total = count;
        if (Communicator.Size > 1)
        {
            // each rank evaluates its contiguous share of the rows; the sums are summed
            long P = Communicator.Size, r = Communicator.Rank;
            (first, count) = (first + (int)(total * r / P), (int)(total * (r + 1) / P) - (int)(total * r / P));
        }
        double sum = 0;
        int correct = 0;
        for (int start = first; start < first + count; start += options.BatchSize)
        {
            cancellation.ThrowIfCancellationRequested();   // statistics of a large set take long too
            int n = Math.Min(options.BatchSize, first + count - start);
            CopyRows(X, start, n, _X);
            CopyRows(T, start, n, _T);
            mlp.Feedforward(_X, _Y);
            sum += loss.Value(_Y, _T);
            for (int i = 0; i < n; i++)
                if (Dataset.SameClass(_Y.Row(i), _T.Row(i))) correct++;
        }
        if (Communicator.Size > 1)
        {
            Span<double> sums = [sum, correct];
            Communicator.AllReduceSum(sums);
            (sum, correct) = (sums[0], (int)sums[1]);
        }
        return (sum / total, correct / (double)total);
    }

    private void CheckShapes(Dataset data)
    {
        if (data.Features != mlp.InputSize)
            throw new ArgumentException($"the inputs have {data.Features} features but the network's first layer takes {mlp.InputSize}");
        if (data.Classes == 1 && mlp.OutputSize != 1)
            throw new ArgumentException($"the targets are one column (float targets of a one-output network) but the network's last layer gives {mlp.OutputSize} outputs: store class labels as integers");
        if (data.Classes != mlp.OutputSize)
            throw new ArgumentException($"the targets have {data.Classes} classes but the network's last layer gives {mlp.OutputSize} outputs");
    }

    private void Clip(double epsilon)
    {
        float e = (float)epsilon;
        foreach (var parameter in mlp.Layers.SelectMany(layer => layer.Parameters))
        {
            ZeroSmall(parameter.Value.AsSpan(), e);
            foreach (var state in parameter.Optimizer.State) ZeroSmall(state.AsSpan(), e);
        }
    }

    private static void ZeroSmall(Span<float> values, float epsilon)
    {
        for (int k = 0; k < values.Length; k++)
            if (MathF.Abs(values[k]) < epsilon) values[k] = 0;
    }

    private int[] _indices = [];

    private int[] Indices(int n)
    {
        if (_indices.Length != n) _indices = new int[n];
        for (int i = 0; i < n; i++) _indices[i] = i;
        return _indices;
    }

    private static void Gather(Matrix<float> source, int[] indices, int start, int n, Matrix<float> batch)
    {
        batch.Resize(n, source.Cols);
        for (int i = 0; i < n; i++) source.Row(indices[start + i]).CopyTo(batch.Row(i));
    }

    /// <summary>batch = rows start..start+n of source, which are contiguous.</summary>
    private static void CopyRows(Matrix<float> source, int start, int n, Matrix<float> batch)
    {
        batch.Resize(n, source.Cols);
        source.AsSpan().Slice(start * source.Cols, n * source.Cols).CopyTo(batch.AsSpan());
    }

    private static bool AllFinite(Matrix<float> M)
    {
        foreach (float x in M.AsSpan())
            if (!float.IsFinite(x)) return false;
        return true;
    }

    private long Now() => options.Timer == "disabled" ? 0 : Stopwatch.GetTimestamp();

    private void Record(string key, long start)
    {
        if (options.Timer == "disabled") return;
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var (total, calls) = _timings.GetValueOrDefault(key);
        _timings[key] = (total + seconds, calls + 1);
        if (options.Timer == "full") output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{key,15}-{calls + 1,-4} {seconds:F6}s"));
    }

    private void PrintTimings()
    {
        output.WriteLine("--- timing results ---");
        foreach (var (key, (seconds, _)) in _timings.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{key,-20} = {seconds:F4}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"total time",-20} = {_timings.Values.Sum(t => t.Seconds):F4}"));
    }
}
