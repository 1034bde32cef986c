using System.Globalization;
using Nerva.Data;
using Nerva.Distributed;
using Nerva.Kernels;
using Nerva.Layers;
using Nerva.Schedulers;
using Nerva.Sparse;
using Nerva.Specs;
using Nerva.Training;

namespace Nerva.Cli;

/// <summary>What <c>mlp</c> does, in the original's order: data, network, weights, summary, training, results.</summary>
internal static class MlpTool
{
    public static IReadOnlyList<string> DatasetNames { get; } = Array.AsReadOnly<string>(["fashion-mnist"]);

    /// <summary>The most samples --generate-dataset draws (two features each: 800 MB of training inputs).</summary>
    private const int MaxDatasetSize = 100_000_000;

    public static double Run(MlpSettings s, TextWriter output, CancellationToken cancellation = default, ICommunicator? communicator = null)
    {
        communicator ??= SingleProcess.Instance;
        // a data-parallel run: only rank 0 writes files (every rank reads what it is given, --resume included)
        if (communicator.Rank != 0)
            s = s with { SaveWeights = null, SaveInitialWeights = null, SaveDataset = null, SaveModel = null, Predict = null, ExportOnnx = null, Log = null, Plot = null, CheckpointDirectory = null, Info = false };
        if (s.Epochs < 0) throw new InvalidSpecException($"--epochs must be at least 0, got {s.Epochs}");
        if (s.BatchSize < 1) throw new InvalidSpecException($"--batch-size must be at least 1, got {s.BatchSize}");
        if (s.Threads is < 1) throw new InvalidSpecException($"--threads must be at least 1, got {s.Threads}");
        if (s.Timer is not ("disabled" or "brief" or "full")) throw new InvalidSpecException($"--timer '{s.Timer}' (valid: disabled, brief, full)");
        if (s.Grow is not null && s.Prune is null) throw new InvalidSpecException("--grow needs --prune (a grow step puts back the weights a prune step removed)");
        if (s.DatasetSize is < 1 or > MaxDatasetSize) throw new InvalidSpecException($"--dataset-size must be in 1..{MaxDatasetSize}, got {s.DatasetSize}");
        if (s.PruneInterval < 0) throw new InvalidSpecException($"--prune-interval must be at least 0 batches, got {s.PruneInterval}");
        if (!(s.PruneCosineDecay is >= 0 and <= 1)) throw new InvalidSpecException(string.Create(CultureInfo.InvariantCulture, $"--prune-cosine-decay must be a share of the run in [0, 1] (RigL: 0.75), got {s.PruneCosineDecay}"));
        if (s.PruneCosineDecay > 0 && s.Prune is null) throw new InvalidSpecException("--prune-cosine-decay decays the prune fraction of --prune: give --prune Magnitude(ζ) or SET(ζ)");
        if (!(s.LearningRate > 0 && double.IsFinite(s.LearningRate))) throw new InvalidSpecException(string.Create(CultureInfo.InvariantCulture, $"--learning-rate must be a positive number, got {s.LearningRate}"));
        if (!(s.Clip >= 0 && double.IsFinite(s.Clip))) throw new InvalidSpecException(string.Create(CultureInfo.InvariantCulture, $"--clip must be a number of at least 0 (0: no clipping), got {s.Clip}"));
        if (!(s.GradientStep >= 0 && s.GradientStep <= 1)) throw new InvalidSpecException(string.Create(CultureInfo.InvariantCulture, $"--gradient-step must be in (0, 1] (0: no gradient check), got {s.GradientStep}"));
        SpecParser.Weights(s.GrowWeights);   // refused now even without --prune, not after the data loaded
        // the output paths before the data load and the training, so that a typo does not cost a run
        if (s.LoadModel is not null && (s.Layers ?? s.LayerSizes ?? s.Densities ?? s.Dropouts ?? s.LoadWeights) is not null)
            throw new InvalidSpecException("--load-model brings the network: give it without --layers, --layer-sizes, --densities, --dropouts and --load-weights");
        if (s.Log is not null && !MetricsLog.IsKnown(s.Log)) throw new InvalidSpecException($"--log '{s.Log}': the name must end in .csv or .jsonl");
        if (!(s.ValidationSplit >= 0 && s.ValidationSplit < 1)) throw new InvalidSpecException(string.Create(CultureInfo.InvariantCulture, $"--validation-split must be in [0, 1), got {s.ValidationSplit}"));
        if (s.EarlyStopping < 0) throw new InvalidSpecException($"--early-stopping must be at least 1 epoch (0: off), got {s.EarlyStopping}");
        if (s.EarlyStopping > 0 && s.ValidationSplit == 0) throw new InvalidSpecException("--early-stopping needs --validation-split (the held-out rows whose loss it watches)");
        if (s.CheckpointEvery < 1) throw new InvalidSpecException($"--checkpoint-every must be at least 1 epoch, got {s.CheckpointEvery}");
        string? checkpoint = s.CheckpointDirectory is null ? null : Path.Combine(CheckpointDirectory(s.CheckpointDirectory), "checkpoint.npz");
        string? resume = s.Resume is null ? null : Path.Combine(s.Resume, "checkpoint.npz");
        if (resume is not null && !File.Exists(resume)) throw new DataFormatException($"--resume: {resume}: file not found (a checkpoint written by --checkpoint DIR)");
        if (s.Plot is not null && !s.Plot.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new InvalidSpecException($"--plot '{s.Plot}': the name must end in .png");
        foreach (var target in new[] { s.SaveWeights, s.SaveInitialWeights, s.SaveDataset, s.SaveModel, s.Predict, s.ExportOnnx, s.Log, s.Plot, checkpoint })
            if (target is not null) AtomicFile.CheckWritable(target);
        // a model file is read, and the layers' shapes are checked, before the data: their problems do not wait for a data load
        var loaded = s.LoadModel is null ? null : From("--load-model", () => Model.Load(s.LoadModel));
        if (loaded is null) Plan(s);
        // a model file says which loss it was trained with: evaluating it reports that loss unless --loss says otherwise
        var loss = SpecParser.Loss(s.Loss ?? loaded?.Loss ?? "SquaredError");
        ILearningRateScheduler scheduler = s.LearningRateScheduler is null
            ? new ConstantScheduler(s.LearningRate)
            : SpecParser.Scheduler(s.LearningRateScheduler, s.LearningRate);
        if (s.Precision is < 1 or > 17) throw new InvalidSpecException($"--precision must be in 1..17 digits, got {s.Precision}");
        if (s.Threads is int threads) Parallelism.Threads = threads;
        else if (communicator.Size > 1) Parallelism.Threads = Math.Max(1, Environment.ProcessorCount / LocalRanks(communicator));   // the machine's cores shared by its ranks
        ulong seed = s.Seed ?? (ulong)Random.Shared.NextInt64();
        if (communicator.Size > 1)
        {
            // every replica draws from rank 0's seed: the same data, weights, shuffles and masks
            Span<byte> bytes = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, seed);
            communicator.Broadcast(bytes, 0);
            seed = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        }
        var rng = new Rng(seed);

        // idx images whose size is not the network's input are refused from their header, before gigabytes are decompressed
        string? idx = s.Idx ?? (s.Dataset == "fashion-mnist" && Directory.Exists(ImageDatasets.DebianFashionMnist) ? ImageDatasets.DebianFashionMnist : null);
        int inputs = loaded?.InputSize ?? (s.LayerSizes is null ? 0 : SpecParser.LayerSizes(s.LayerSizes)[0]);
        if (idx is not null && Directory.Exists(idx) && inputs > 0 && From(SourceOption(s), () => ImageDatasets.IdxFeatures(idx)) is var pixels && pixels != inputs)
            throw new DataFormatException($"{SourceOption(s)}: the images have {pixels} pixels but the network's first layer takes {inputs}");
        long loading = System.Diagnostics.Stopwatch.GetTimestamp();
        CheckSources(s);
        Dataset data;
        if (s.Csv is null) data = From(SourceOption(s), () => LoadData(s, rng, output));
        else
        {
            int outputs = loaded?.OutputSize ?? (s.LayerSizes is null ? 0 : SpecParser.LayerSizes(s.LayerSizes)[^1]);
            var (labeled, rows) = CsvData(s, loaded, inputs, outputs, seed);
            if (rows is not null)
            {
                // rows without labels, for a loaded model: only their predictions
                Written(s.Predict, $"the predictions of {rows.Rows} rows", () => WritePredictions(loaded!, loaded!.Predict(rows.X), null, s.Predict!));
                return double.NaN;
            }
            data = labeled!;
        }
        double loadSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(loading).TotalSeconds;
        // a loaded model's inputs are standardised with its own statistics, never with new ones
        if (loaded?.Preprocessing.Mean is not null) From("--load-model", () => data.Standardize(loaded.Preprocessing));
        else if (s.Normalize) data.Normalize();
        if (s.SaveDataset is not null) data.Save(s.SaveDataset);

        var mlp = loaded?.Network ?? BuildNetwork(s, rng);
        var sparseTraining = SparseTraining(s, mlp);
        if (s.LoadWeights is not null) From("--load-weights", () => WeightsFile.Load(mlp, s.LoadWeights));
        if (s.SaveInitialWeights is not null) WeightsFile.Save(mlp, s.SaveInitialWeights);

        if (s.Verbose || s.Debug)
        {
            output.WriteLine($"seed = {seed}, threads = {Parallelism.Threads}, matrix products: {Kernels<float>.Gemm}");
            if (communicator.Size > 1)
            {
                long floats = mlp.Layers.SelectMany(layer => layer.Parameters).Sum(p => (long)p.Gradient.Length);
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{communicator.Size} ranks{(communicator is MpiCommunicator ? $" over {MpiCommunicator.Library}" : "")}: each step sums {floats} gradient values ({4.0 * floats / 1048576:F2} MB) over the ranks"));
            }
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"loaded {data.Xtrain.Rows} training and {data.Xtest.Rows} test examples of {data.Features} features in {loadSeconds:F3}s"));
        }
        if (s.Info) PrintInfo(data, mlp, "before training", s.Precision, output);
        output.WriteLine("=== Nerva.NET model ===");
        output.WriteLine(mlp.ToString());
        output.WriteLine($"loss = {loss}");
        if (s.LearningRateScheduler is not null) output.WriteLine($"learning rate scheduler = {scheduler}");
        output.WriteLine("layer densities: " + string.Join(", ", mlp.Layers.OfType<LinearLayer<float>>().Select(DensityText)));
        output.WriteLine();

        var options = new TrainingOptions
        {
            Epochs = s.Epochs,
            BatchSize = s.BatchSize,
            Shuffle = !s.NoShuffle,
            Statistics = !s.NoStatistics,
            TrainingSetStatistics = !s.TestStatisticsOnly,
            Clip = s.Clip,
            Timer = s.Timer,
            GradientStep = s.GradientStep,
            ValidationSplit = s.ValidationSplit,
            EarlyStoppingPatience = s.EarlyStopping,
            SparseTraining = sparseTraining,
        };
        // on a terminal, the epoch lines go through the progress display; redirected, straight to the output as ever
        var lines = communicator.Size == 1 && TerminalProgress.Wanted(output) ? new LineWriter() : null;   // ranks print plain lines (mpirun forwards them)
        var sgd = new StochasticGradientDescent(mlp, loss, scheduler, options, rng, lines ?? output) { Communicator = communicator, OverlapCommunication = !s.NoOverlap };
        if (s.Preprocessed is not null)
            sgd.EpochStarting += epoch =>
            {
                if (epoch > 0) sgd.Data = From("--preprocessed", () => Preprocessed(s, epoch));
            };
        if (s.Log is not null)
        {
            var log = new MetricsLog(s.Log);
            sgd.EpochCompleted += log.Add;
        }
        if (s.Plot is not null) sgd.EpochCompleted += new MetricsPlot(s.Plot).Add;
        int completed = 0;
        if (resume is not null)
        {
            completed = From("--resume", () => Checkpoint.Load(resume, sgd));
            if (completed > s.Epochs) throw new InvalidSpecException($"--resume: the checkpoint is of epoch {completed}, after the {s.Epochs} epochs asked for");
        }
        if (checkpoint is not null)
            sgd.EpochCompleted += metrics =>
            {
                if (metrics.Epoch > completed && (metrics.Epoch % s.CheckpointEvery == 0 || sgd.Stopped)) Checkpoint.Save(checkpoint, sgd, metrics.Epoch);
            };
        double accuracy;
        try
        {
            (accuracy, _) = lines is null ? sgd.Train(data, completed, cancellation) : TerminalProgress.Run(Spectre.Console.AnsiConsole.Console, sgd, lines, () => sgd.Train(data, completed, cancellation));
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            string saved = checkpoint is not null && File.Exists(checkpoint)
                ? $"the last checkpoint is {checkpoint}: the same command with --resume {s.CheckpointDirectory} goes on from it"
                : "no checkpoint was written (--checkpoint DIR keeps one to resume from)";
            throw new InterruptedException($"training stopped after {sgd.BatchesDone} batches; nothing else was saved; {saved}");
        }
        var model = new Model(mlp, sgd.Data!.Preprocessing, s.Loss ?? loaded?.Loss ?? "SquaredError")
        {
            ClassNames = data.ClassNames ?? loaded?.ClassNames,
            FeatureNames = data.FeatureNames ?? loaded?.FeatureNames,
            LabelName = data.LabelName ?? loaded?.LabelName,
        };
        Written(s.SaveWeights, "the trained weights", () => WeightsFile.Save(mlp, s.SaveWeights!));
        Written(s.SaveModel, "the model", () => model.Save(s.SaveModel!));
        Written(s.Predict, "the test set's predictions", () => WritePredictions(model, model.Predict(sgd.Data!.Xtest, prepared: true), sgd.Data!.Ttest, s.Predict!));
        Written(s.ExportOnnx, "the ONNX model", () => model.ExportOnnx(s.ExportOnnx!));
        if (s.Log is not null) output.WriteLine($"wrote the metrics of every epoch to {s.Log}");
        if (s.Plot is not null) output.WriteLine($"wrote the training curves to {s.Plot}");
        if (checkpoint is not null && File.Exists(checkpoint)) output.WriteLine($"wrote the last checkpoint to {checkpoint} (--resume {s.CheckpointDirectory} goes on from it)");
        if (s.Info) PrintInfo(data, mlp, "after training", s.Precision, output);
        return accuracy;

        void Written(string? path, string what, Action write)
        {
            if (path is null) return;
            write();
            output.WriteLine($"wrote {what} to {path}");
        }
    }

    /// <summary>
    /// --csv (with --test-csv or --test-split): the dataset, read with a loaded model's classes and, from a file with a
    /// header, its feature columns by name; or, for a loaded model with --epochs 0 and a file without the label column, the
    /// rows to predict.
    /// </summary>
    private static (Dataset? Data, CsvTable? Rows) CsvData(MlpSettings s, Model? loaded, int inputs, int outputs, ulong seed)
    {
        if (s.TestCsv is not null && s.TestSplit != 0) throw new InvalidSpecException("give --test-csv or --test-split, not both");
        if (!(s.TestSplit >= 0 && s.TestSplit < 1)) throw new InvalidSpecException(string.Create(CultureInfo.InvariantCulture, $"--test-split must be in [0, 1), got {s.TestSplit}"));
        var options = new CsvOptions
        {
            Separator = s.Separator is null ? null : SeparatorChar(s.Separator),
            HasHeader = !s.NoHeader,
            LabelColumn = s.LabelColumn ?? loaded?.LabelName,
        };
        bool predicting = loaded is not null && s.Epochs == 0;
        if (options.LabelColumn is null && !predicting) throw new InvalidSpecException("--csv needs --label-column NAME: the column of the classes (or of the values, for regression)");
        var features = s.NoHeader ? null : loaded?.FeatureNames;
        var train = From("--csv", () => CsvTable.Read(s.Csv!, options, loaded?.ClassNames, features));
        if (inputs > 0 && train.X.Cols != inputs)
            throw new DataFormatException($"--csv: {s.Csv} has {train.X.Cols} feature columns, the network takes {inputs} inputs");
        if (train.LabelName is null)
        {
            if (predicting && s.Predict is not null) return (null, train);
            throw new DataFormatException($"--csv: {s.Csv} has no label column{(options.LabelColumn is null ? "" : $" '{options.LabelColumn}'")}: to predict its rows, give --load-model, --epochs 0 and --predict");
        }
        if (outputs == 0) outputs = train.ClassNames?.Count ?? 1;
        var labels = options with { Labels = train.Values is null ? CsvLabels.Classes : CsvLabels.Values };
        CsvTable? test = s.TestCsv is null ? null : From("--test-csv", () => CsvTable.Read(s.TestCsv, labels, train.ClassNames, s.NoHeader ? null : train.FeatureNames));
        if (s.TestSplit > 0) (train, test) = From("--test-split", () => train.Split(s.TestSplit, seed));
        return (From("--csv", () => Dataset.FromCsv(train, test, outputs)), null);
    }

    /// <summary>--separator: ',', ';', '|' or tab (also "tab" or "\t").</summary>
    private static char SeparatorChar(string separator) => separator switch
    {
        "," or ";" or "|" => separator[0],
        "tab" or "\t" or "\\t" => '\t',
        _ => throw new InvalidSpecException($"--separator '{separator}' (valid: ',', ';', '|', tab)"),
    };

    /// <summary>The ranks on this machine (Open MPI's OMPI_COMM_WORLD_LOCAL_SIZE, MPICH's MPI_LOCALNRANKS; all of them when neither says).</summary>
    private static int LocalRanks(ICommunicator communicator)
        => int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE") ?? Environment.GetEnvironmentVariable("MPI_LOCALNRANKS"), out int local) && local >= 1 ? local : communicator.Size;

    /// <summary>--checkpoint DIR, created when it does not exist (as Keras' and Lightning's checkpoint callbacks do).</summary>
    private static string CheckpointDirectory(string directory)
    {
        if (File.Exists(directory)) throw new InvalidSpecException($"--checkpoint '{directory}' is a file: give a directory (it is created when missing)");
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"--checkpoint: cannot create the directory '{directory}': {e.Message}", e);
        }
        return directory;
    }

    /// <summary>What <paramref name="load"/> returns; a file's problem is named with the option that brought the file.</summary>
    private static T From<T>(string option, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (DataFormatException e)
        {
            throw new DataFormatException($"{option}: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // a link loop, a dangling link, a permission: still named with the option
            throw new DataFormatException($"{option}: {e.Message}", e);
        }
    }

    private static void From(string option, Action load) => From(option, () =>
    {
        load();
        return true;
    });

    /// <summary>The option that names the data source (the first given, as <see cref="LoadData"/> takes it).</summary>
    private static string SourceOption(MlpSettings s) =>
        s.Cifar10 is not null ? "--cifar10" : s.Csv is not null ? "--csv" : s.Mnist is not null ? "--mnist" : s.Idx is not null ? "--idx" : s.GenerateDataset is not null ? "--generate-dataset"
        : s.Preprocessed is not null ? "--preprocessed" : s.LoadDataset is not null ? "--load-dataset" : "--dataset";

    /// <summary>Exactly one data source, and the CSV options only with --csv.</summary>
    private static void CheckSources(MlpSettings s)
    {
        var sources = new[] { s.Cifar10, s.Mnist, s.Dataset, s.Idx, s.GenerateDataset, s.LoadDataset, s.Preprocessed, s.Csv }.Count(x => x is not null);
        if (sources == 0) throw new InvalidSpecException("no data: give one of --dataset fashion-mnist, --idx DIR, --mnist DIR, --cifar10 DIR, --csv FILE, --generate-dataset checkerboard|mini, --load-dataset FILE, --preprocessed DIR");
        if (sources > 1) throw new InvalidSpecException("give only one data source (--dataset, --idx, --mnist, --cifar10, --csv, --generate-dataset, --load-dataset or --preprocessed)");
        if (s.Csv is null)
            foreach (var (given, name) in new[] { (s.TestCsv is not null, "--test-csv"), (s.TestSplit != 0, "--test-split"), (s.LabelColumn is not null, "--label-column"), (s.Separator is not null, "--separator"), (s.NoHeader, "--no-header") })
                if (given) throw new InvalidSpecException($"{name} goes with --csv FILE");
    }

    private static Dataset LoadData(MlpSettings s, Rng rng, TextWriter output)
    {
        if (s.Cifar10 is not null) return IsConvolutional(s) ? ImageDatasets.LoadCifar10ChannelsFirst(s.Cifar10) : ImageDatasets.LoadCifar10(s.Cifar10);
        if (s.Mnist is not null) return ImageDatasets.LoadMnistNpz(Directory.Exists(s.Mnist) ? Path.Combine(s.Mnist, "mnist.npz") : s.Mnist);
        if (s.Idx is not null) return ImageDatasets.LoadIdxDirectory(s.Idx);
        if (s.GenerateDataset is not null) return GeneratedDatasets.Generate(s.GenerateDataset, s.DatasetSize, rng);
        if (s.Preprocessed is not null) return Preprocessed(s, 0);
        if (s.LoadDataset is not null)
        {
            output.WriteLine($"Loading dataset from file {s.LoadDataset}");
            return Dataset.Load(s.LoadDataset);
        }
        if (s.Dataset != "fashion-mnist") throw new InvalidSpecException($"unknown dataset '{s.Dataset}' (valid: {string.Join(", ", DatasetNames)})");
        if (!Directory.Exists(ImageDatasets.DebianFashionMnist))
            throw new DataFormatException($"Fashion-MNIST is not in {ImageDatasets.DebianFashionMnist}: install it with 'apt-get install dataset-fashion-mnist', or pass --idx DIR with the four idx files");
        return ImageDatasets.LoadIdxDirectory(ImageDatasets.DebianFashionMnist);
    }

    private static Dataset Preprocessed(MlpSettings s, int epoch)
    {
        string path = Path.Combine(s.Preprocessed!, $"epoch{epoch}.npz");
        var data = Dataset.Load(path);
        if (s.Normalize) data.Normalize();
        return data;
    }

    /// <summary>Whether the layer list has a convolutional part (which takes images channels-first).</summary>
    private static bool IsConvolutional(MlpSettings s) => NetworkBuilder.IsConvolutional(SpecParser.List(s.Layers));

    /// <summary>--input-shape, or the image datasets' own shape when the network is convolutional.</summary>
    private static ImageShape? InputShape(MlpSettings s)
    {
        if (s.InputShape is not null) return NetworkBuilder.InputShape(s.InputShape);
        if (!IsConvolutional(s)) return null;
        if (s.Dataset is not null || s.Idx is not null || s.Mnist is not null) return new ImageShape(1, 28, 28);
        if (s.Cifar10 is not null) return new ImageShape(3, 32, 32);
        return null;
    }

    /// <summary>Every layer's shapes, checked without allocating the network.</summary>
    private static void Plan(MlpSettings s)
    {
        if (s.Layers is null) throw new InvalidSpecException("--layers is required, e.g. --layers \"ReLU;ReLU;Linear\"");
        if (s.LayerSizes is null) throw new InvalidSpecException("--layer-sizes is required, e.g. --layer-sizes \"784;256;10\"");
        NetworkBuilder.Plan(SpecParser.List(s.Layers), SpecParser.LayerSizes(s.LayerSizes), InputShape(s));
    }

    private static MultilayerPerceptron<float> BuildNetwork(MlpSettings s, Rng rng)
    {
        if (s.Layers is null) throw new InvalidSpecException("--layers is required, e.g. --layers \"ReLU;ReLU;Linear\"");
        if (s.LayerSizes is null) throw new InvalidSpecException("--layer-sizes is required, e.g. --layer-sizes \"784;256;10\"");
        var layers = SpecParser.List(s.Layers);
        var sizes = SpecParser.LayerSizes(s.LayerSizes);
        int linear = NetworkBuilder.LinearLayerCount(layers);
        if (s.Densities is not null && s.OverallDensity != 1) throw new InvalidSpecException("give --densities or --overall-density, not both");
        if (!(s.OverallDensity > 0 && s.OverallDensity <= 1)) throw new InvalidSpecException($"--overall-density must be in (0, 1], got {s.OverallDensity}");
        var densities = s.Densities is not null
            ? SpecParser.Numbers("--densities", s.Densities, linear, 1, 0, 1)
            : ErdosRenyi.Densities(s.OverallDensity, sizes);
        if (densities.Any(d => d == 0)) throw new InvalidSpecException("--densities: a layer needs a density above 0 (1 = dense)");
        var dropouts = SpecParser.Numbers("--dropouts", s.Dropouts, linear, 0, 0, 0.999999);
        var weights = SpecParser.List(s.LayerWeights).Select(SpecParser.Weights).ToArray();
        var optimizers = SpecParser.List(s.Optimizers).Select(SpecParser.Optimizer).ToArray();
        if (weights.Length == 0) throw new InvalidSpecException("--layer-weights is empty");
        if (optimizers.Length == 0) throw new InvalidSpecException("--optimizers is empty");
        return NetworkBuilder.Build(layers, sizes, dropouts, weights, optimizers, rng, densities, InputShape(s));
    }

    private static DynamicSparseTraining? SparseTraining(MlpSettings s, MultilayerPerceptron<float> mlp)
    {
        if (s.Prune is null) return null;
        if (!mlp.Layers.OfType<LinearLayer<float>>().Any(layer => layer.IsSparse))
            throw new InvalidSpecException("--prune needs sparse layers: give --densities or --overall-density below 1");
        var prune = SpecParser.Prune(s.Prune);
        if (s.PruneCosineDecay > 0 && prune is ThresholdPruning)
            throw new InvalidSpecException($"--prune-cosine-decay decays a prune fraction ζ, which {prune} has not: give Magnitude(ζ) or SET(ζ)");
        return new DynamicSparseTraining(prune, SpecParser.Grow(s.Grow ?? "Random"), SpecParser.Weights(s.GrowWeights), s.PruneInterval) { CosineDecay = s.PruneCosineDecay };
    }

    /// <summary>
    /// Predictions as CSV: index, label (the target's class, when <paramref name="T"/> is given), predicted class, one
    /// probability per class — with the model's class names where it has them (columns p_&lt;name&gt;), else numbers
    /// (p0, p1, …). A regression model (one output, squared error, no classes) writes its value instead.
    /// </summary>
    private static void WritePredictions(Model model, Matrix<float> Y, Matrix<float>? T, string path)
    {
        bool values = model.ClassNames is null && model.OutputSize == 1 && model.Loss is "SquaredError" or "MeanSquaredError";
        var names = model.ClassNames ?? [.. Enumerable.Range(0, Math.Max(model.OutputSize, 2)).Select(j => j.ToString(CultureInfo.InvariantCulture))];
        string Number(float v) => v.ToString("R", CultureInfo.InvariantCulture);
        string Class(ReadOnlySpan<float> row) => Field(names[Dataset.ClassOf(row)]);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            var probability = Enumerable.Range(0, Y.Cols).Select(j => model.ClassNames is null ? $"p{j}" : Field("p_" + names[Y.Cols == 1 ? 1 : j]));
            writer.WriteLine(string.Join(',', ["index", .. T is null ? Array.Empty<string>() : ["label"], "predicted", .. values ? [] : probability]));
            var P = new float[Y.Cols];
            for (int i = 0; i < Y.Rows; i++)
            {
                var y = Y.Row(i);
                y.CopyTo(P);
                if (!values) model.ToProbabilities(P);
                string label = T is null ? "" : (values ? Number(T[i, 0]) : Class(T.Row(i))) + ",";
                writer.WriteLine(string.Join(',', [$"{i.ToString(CultureInfo.InvariantCulture)},{label}{(values ? Number(y[0]) : Class(y))}", .. values ? [] : P.Select(Number)]));
            }
        });
    }

    /// <summary>A CSV field: quoted (with its quotes doubled) when it holds a comma, a quote or a line break.</summary>
    private static string Field(string text) => text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    /// <summary>"nnz/N (p%)" as the original prints it: "N/N (100%)" for a dense layer.</summary>
    private static string DensityText(LinearLayer<float> layer)
    {
        long total = (long)layer.InputSize * layer.OutputSize;
        return layer.IsSparse
            ? string.Create(CultureInfo.InvariantCulture, $"{layer.WeightCount}/{total} ({100 * layer.Density:F3}%)")
            : $"{total}/{total} (100%)";
    }

    /// <summary>--info: the data's shapes and every parameter's norm, with <paramref name="precision"/> decimals (the original's --precision).</summary>
    private static void PrintInfo(Dataset data, MultilayerPerceptron<float> mlp, string name, int precision, TextWriter output)
    {
        output.WriteLine($"Xtrain {data.Xtrain.Shape}, Ttrain {data.Ttrain.Shape}, Xtest {data.Xtest.Shape}, Ttest {data.Ttest.Shape}");
        output.WriteLine("==================================");
        output.WriteLine($" MLP {name}");
        output.WriteLine("==================================");
        int i = 0;
        foreach (var layer in mlp.Layers)
        {
            i++;
            output.WriteLine(layer.ToString());
            foreach (var p in layer.Parameters)
            {
                double norm = Math.Sqrt(p.Value.AsSpan().ToArray().Sum(x => (double)x * x));
                output.WriteLine($"{p.Name}{i} ({p.Value.Shape}) norm = {norm.ToString("F" + precision.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture)}");
            }
        }
    }
}
