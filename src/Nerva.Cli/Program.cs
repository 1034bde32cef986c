using System.CommandLine;
using Nerva.Cli;
using Nerva.Data;
using Nerva.Distributed;
using Nerva.Specs;
using Nerva.Training;

if (MpiCommunicator.Launched)
{
    // a rank of an mpirun job: Ctrl-C is mpirun's (it ends every rank), and the output goes through mpirun's
    // pseudo-terminal as plain lines (.NET's console streams would first write terminal set-up codes into the job's output)
    using var output = new StreamWriter(new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(1, ownsHandle: false), FileAccess.Write, 1)) { AutoFlush = true };
    using var errors = new StreamWriter(new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(2, ownsHandle: false), FileAccess.Write, 1)) { AutoFlush = true };
    return Mlp.Run(args, output, errors);
}
using (var interruption = new Interruption())
    return Mlp.Run(args, Console.Out, Console.Error, interruption.Token);

namespace Nerva.Cli
{
    /// <summary>The command line: options with the original's names, defaults and grammar.</summary>
    public static class Mlp
    {
        /// <summary>
        /// Runs the tool on <paramref name="args"/>; returns the exit code (0, 1 for bad input, 2 for a defect, 130 when
        /// <paramref name="cancellation"/> stopped training).
        /// </summary>
        public static int Run(string[] args, TextWriter output, TextWriter error, CancellationToken cancellation = default)
        {
            var o = new
            {
                Seed = new Option<ulong?>("--seed") { Description = "seed of the one random generator (default: random, printed with --verbose)" },
                Layers = new Option<string?>("--layers") { Description = "';'-separated layers: " + string.Join(", ", NetworkBuilder.LayerNames) },
                LayerSizes = new Option<string?>("--layer-sizes") { Description = "sizes separated by ';' or ',', e.g. 784;256;10" },
                InputShape = new Option<string?>("--input-shape") { Description = "C,H,W of the input images, for Conv, MaxPool and AvgPool layers (default 1,28,28 for --dataset, --idx and --mnist; 3,32,32 for --cifar10)" },
                Densities = new Option<string?>("--densities") { Description = "density per linear layer; below 1 the layer is sparse (CSR)" },
                OverallDensity = new Option<double>("--overall-density") { DefaultValueFactory = _ => 1, Description = "overall density, spread over the layers by the Erdős–Rényi rule" },
                Dropouts = new Option<string?>("--dropouts") { Description = "dropout rate per linear layer: the probability of dropping a weight" },
                LayerWeights = new Option<string>("--layer-weights") { DefaultValueFactory = _ => "Xavier", Description = "initializer per linear layer: " + string.Join(", ", SpecParser.WeightNames) },
                Optimizers = new Option<string>("--optimizers") { DefaultValueFactory = _ => "GradientDescent", Description = "optimizer per layer: " + string.Join(", ", SpecParser.OptimizerNames) },
                LearningRate = new Option<double>("--learning-rate") { DefaultValueFactory = _ => 0.01, Description = "constant learning rate (the default lr of a scheduler)" },
                Scheduler = new Option<string?>("--learning-rate-scheduler") { Description = string.Join(", ", SpecParser.SchedulerNames) },
                Loss = new Option<string?>("--loss") { Description = string.Join(", ", SpecParser.LossNames) + " (default SquaredError; with --load-model, the model's)" },
                Epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 100, Description = "training epochs (0: only evaluate)" },
                BatchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => 1, Description = "samples per batch (the last batch of an epoch may be smaller)" },
                NoShuffle = new Option<bool>("--no-shuffle") { Description = "train on the samples in their order instead of a new random order every epoch" },
                NoStatistics = new Option<bool>("--no-statistics") { Description = "print only each epoch's time, not its loss and accuracies (saves the evaluation passes)" },
                TestStatisticsOnly = new Option<bool>("--test-statistics-only") { Description = "after every epoch evaluate only the test set (its accuracy), not the training set's loss and accuracy (saves most of the evaluation passes)" },
                LoadWeights = new Option<string?>("--load-weights") { Description = "load W1, b1, … (dense W<k>, or a sparse layer's CSR arrays W<k>_data, _indices, _indptr, _shape) from an .npz before training" },
                SaveWeights = new Option<string?>("--save-weights") { Description = "save the trained weights to an .npz (sparse layers as SciPy CSR arrays W<k>_data, _indices, _indptr, _shape)" },
                SaveInitialWeights = new Option<string?>("--save-initial-weights") { Description = "save the initial weights to an .npz" },
                SaveModel = new Option<string?>("--save-model") { Description = "save the trained model to an .npz: the weights (as --save-weights) with the architecture and the input preprocessing, so that --load-model (or Model.Load) needs nothing else" },
                LoadModel = new Option<string?>("--load-model") { Description = "take the network (architecture and weights) and the input standardisation from a model file instead of --layers, --layer-sizes and --load-weights; with --epochs 0 it evaluates" },
                Predict = new Option<string?>("--predict") { Description = "write the test set's predictions as CSV: index, label, predicted, one probability per class" },
                ExportOnnx = new Option<string?>("--export-onnx") { Description = "write the trained model as ONNX (opset 17): input 'input' (raw rows, preprocessing included), output 'output'" },
                Log = new Option<string?>("--log") { Description = "write one row per epoch (epoch, lr, loss, train and test accuracy, seconds, densities) to a .csv, or a .jsonl of one JSON object per epoch" },
                Checkpoint = new Option<string?>("--checkpoint") { Description = "after every --checkpoint-every epochs, write DIR/checkpoint.npz (weights, optimizer state, random generator, epochs done), atomically" },
                CheckpointEvery = new Option<int>("--checkpoint-every") { DefaultValueFactory = _ => 1, Description = "epochs between checkpoints" },
                Resume = new Option<string?>("--resume") { Description = "go on from DIR/checkpoint.npz with the command of the run that wrote it: the final weights are those of the run without the stop" },
                ValidationSplit = new Option<double>("--validation-split") { DefaultValueFactory = _ => 0, Description = "hold out this fraction of the training set (its last rows) and print its loss after every epoch" },
                EarlyStopping = new Option<int>("--early-stopping") { DefaultValueFactory = _ => 0, Description = "with --validation-split: stop when the validation loss has not improved for this many epochs, and keep the best epoch's weights" },
                Plot = new Option<string?>("--plot") { Description = "draw the loss and accuracies per epoch to a PNG (redrawn after every epoch)" },
                Dataset = new Option<string?>("--dataset") { Description = "a known dataset: fashion-mnist (Debian's dataset-fashion-mnist)" },
                Idx = new Option<string?>("--idx") { Description = "directory with MNIST-format idx files (raw or .gz)" },
                Cifar10 = new Option<string?>("--cifar10") { Description = "directory with cifar-10-batches-bin" },
                Mnist = new Option<string?>("--mnist") { Description = "directory with mnist.npz" },
                GenerateDataset = new Option<string?>("--generate-dataset") { Description = "checkerboard or mini" },
                DatasetSize = new Option<int>("--dataset-size") { DefaultValueFactory = _ => 2000, Description = "training samples of --generate-dataset (the test set has a fifth as many)" },
                LoadDataset = new Option<string?>("--load-dataset") { Description = ".npz with Xtrain, Ttrain, Xtest, Ttest" },
                Csv = new Option<string?>("--csv") { Description = "a CSV or TSV file (or .gz of one) with a header row: numeric feature columns and the label column (--label-column): class names or numbers, or values for a network of one output; with --load-model --epochs 0 and no label column, the rows whose predictions --predict writes" },
                TestCsv = new Option<string?>("--test-csv") { Description = "the test set for --csv, with the same columns" },
                TestSplit = new Option<double>("--test-split") { DefaultValueFactory = _ => 0, Description = "with --csv: hold out this fraction of its rows, drawn at random with the seed, as the test set" },
                LabelColumn = new Option<string?>("--label-column") { Description = "with --csv: the label column's name (or 0-based index); default with --load-model: the model's" },
                Separator = new Option<string?>("--separator") { Description = "with --csv: the separator, one of ',', ';', '|', tab (default: detected from the first line)" },
                NoHeader = new Option<bool>("--no-header") { Description = "with --csv: the first line is data; the columns are named 0, 1, 2, …" },
                SaveDataset = new Option<string?>("--save-dataset") { Description = "save the loaded (and normalised) dataset to an .npz with Xtrain, Ttrain, Xtest, Ttest" },
                Normalize = new Option<bool>("--normalize") { Description = "standardise every feature with the training set's mean and deviation" },
                Preprocessed = new Option<string?>("--preprocessed") { Description = "directory of epoch<k>.npz datasets, one per epoch" },
                Precision = new Option<int>("--precision") { DefaultValueFactory = _ => 4, Description = "decimals of the parameter norms that --info prints (1..17)" },
                Info = new Option<bool>("--info") { Description = "print the data's shapes and every parameter's norm before and after training" },
                Timer = new Option<string>("--timer") { DefaultValueFactory = _ => "disabled", Description = "disabled, brief or full" },
                Prune = new Option<string?>("--prune") { Description = "dynamic sparse training, prune step: " + string.Join(", ", SpecParser.PruneNames) },
                Grow = new Option<string?>("--grow") { Description = "grow step (default Random): " + string.Join(", ", SpecParser.GrowNames) },
                GrowWeights = new Option<string>("--grow-weights") { DefaultValueFactory = _ => "Xavier", Description = "initializer of grown weights" },
                PruneInterval = new Option<int>("--prune-interval") { DefaultValueFactory = _ => 0, Description = "batches between prune-and-grow steps (0: once per epoch)" },
                PruneCosineDecay = new Option<double>("--prune-cosine-decay") { DefaultValueFactory = _ => 0, Description = "RigL's cosine decay of the prune fraction ζ to 0 over this share of the run's batches, no steps after it (RigL: 0.75; 0: ζ stays)" },
                Computation = new Option<string>("--computation") { DefaultValueFactory = _ => "managed", Description = "accepted for compatibility; there is one managed backend" },
                Clip = new Option<double>("--clip") { DefaultValueFactory = _ => 0, Description = "before every epoch after the first, set weights and optimizer state smaller than this to 0 (0: off)" },
                Threads = new Option<int?>("--threads") { Description = "threads for every kernel (default: all cores)" },
                GradientStep = new Option<double>("--gradient-step") { DefaultValueFactory = _ => 0, Description = "check gradients of every batch with this finite-difference step" },
                Verbose = new Option<bool>("--verbose", "-v") { Description = "print the command, the seed, the thread count, the GEMM kernel and the data loading time" },
                Debug = new Option<bool>("--debug", "-d") { Description = "verbose, and full exception details on errors" },
                Distributed = new Option<bool>("--distributed") { Description = "data-parallel over MPI (Open MPI or MPICH): run as 'mpirun -np P mlp …'; implied when mpirun starts several ranks" },
                NoOverlap = new Option<bool>("--no-overlap") { Description = "data-parallel: sum the gradients after backpropagation instead of during it (the same results; for measuring the overlap)" },
            };
            var root = new RootCommand("""
                A tool for training multilayer perceptrons (and small convolutional networks) with Nerva.NET.

                Examples:
                  mlp --dataset fashion-mnist --layers "ReLU;ReLU;Linear" --layer-sizes "784;256;128;10" --layer-weights He --optimizers "Nesterov(0.9)" --loss SoftmaxCrossEntropy --epochs 10 --batch-size 100 --save-model m.npz
                  mlp --dataset fashion-mnist --load-model m.npz --epochs 0 --predict predictions.csv --export-onnx m.onnx
                  mlp --csv iris.csv --label-column species --test-split 0.2 --normalize --layers "ReLU;Linear" --layer-sizes "4;16;3" --loss SoftmaxCrossEntropy --epochs 100 --batch-size 10 --save-model iris.npz
                  mlp --load-model iris.npz --csv new-rows.csv --epochs 0 --predict predictions.csv
                """);
            foreach (var property in o.GetType().GetProperties()) root.Options.Add((Option)property.GetValue(o)!);
            root.SetAction(parse =>
            {
                var settings = new MlpSettings
                {
                    Seed = parse.GetValue(o.Seed),
                    Layers = parse.GetValue(o.Layers),
                    LayerSizes = parse.GetValue(o.LayerSizes),
                    InputShape = parse.GetValue(o.InputShape),
                    Densities = parse.GetValue(o.Densities),
                    OverallDensity = parse.GetValue(o.OverallDensity),
                    Dropouts = parse.GetValue(o.Dropouts),
                    LayerWeights = parse.GetValue(o.LayerWeights)!,
                    Optimizers = parse.GetValue(o.Optimizers)!,
                    LearningRate = parse.GetValue(o.LearningRate),
                    LearningRateScheduler = parse.GetValue(o.Scheduler),
                    Loss = parse.GetValue(o.Loss),
                    Epochs = parse.GetValue(o.Epochs),
                    BatchSize = parse.GetValue(o.BatchSize),
                    NoShuffle = parse.GetValue(o.NoShuffle),
                    NoStatistics = parse.GetValue(o.NoStatistics),
                    TestStatisticsOnly = parse.GetValue(o.TestStatisticsOnly),
                    LoadWeights = parse.GetValue(o.LoadWeights),
                    SaveWeights = parse.GetValue(o.SaveWeights),
                    SaveInitialWeights = parse.GetValue(o.SaveInitialWeights),
                    SaveModel = parse.GetValue(o.SaveModel),
                    LoadModel = parse.GetValue(o.LoadModel),
                    Predict = parse.GetValue(o.Predict),
                    ExportOnnx = parse.GetValue(o.ExportOnnx),
                    Log = parse.GetValue(o.Log),
                    Plot = parse.GetValue(o.Plot),
                    CheckpointDirectory = parse.GetValue(o.Checkpoint),
                    CheckpointEvery = parse.GetValue(o.CheckpointEvery),
                    Resume = parse.GetValue(o.Resume),
                    ValidationSplit = parse.GetValue(o.ValidationSplit),
                    EarlyStopping = parse.GetValue(o.EarlyStopping),
                    Dataset = parse.GetValue(o.Dataset),
                    Idx = parse.GetValue(o.Idx),
                    Cifar10 = parse.GetValue(o.Cifar10),
                    Mnist = parse.GetValue(o.Mnist),
                    GenerateDataset = parse.GetValue(o.GenerateDataset),
                    DatasetSize = parse.GetValue(o.DatasetSize),
                    LoadDataset = parse.GetValue(o.LoadDataset),
                    SaveDataset = parse.GetValue(o.SaveDataset),
                    Csv = parse.GetValue(o.Csv),
                    TestCsv = parse.GetValue(o.TestCsv),
                    TestSplit = parse.GetValue(o.TestSplit),
                    LabelColumn = parse.GetValue(o.LabelColumn),
                    Separator = parse.GetValue(o.Separator),
                    NoHeader = parse.GetValue(o.NoHeader),
                    Normalize = parse.GetValue(o.Normalize),
                    Preprocessed = parse.GetValue(o.Preprocessed),
                    Precision = parse.GetValue(o.Precision),
                    Info = parse.GetValue(o.Info),
                    Timer = parse.GetValue(o.Timer)!,
                    Prune = parse.GetValue(o.Prune),
                    Grow = parse.GetValue(o.Grow),
                    GrowWeights = parse.GetValue(o.GrowWeights)!,
                    PruneInterval = parse.GetValue(o.PruneInterval),
                    PruneCosineDecay = parse.GetValue(o.PruneCosineDecay),
                    Computation = parse.GetValue(o.Computation)!,
                    Clip = parse.GetValue(o.Clip),
                    Threads = parse.GetValue(o.Threads),
                    GradientStep = parse.GetValue(o.GradientStep),
                    Verbose = parse.GetValue(o.Verbose),
                    Debug = parse.GetValue(o.Debug),
                    Distributed = parse.GetValue(o.Distributed),
                    NoOverlap = parse.GetValue(o.NoOverlap),
                };
                if (!(settings.Distributed || MpiCommunicator.Launched)) return Execute(settings, SingleProcess.Instance, output);
                MpiCommunicator mpi;
                try
                {
                    mpi = new MpiCommunicator();
                }
                catch (Exception e) when (e is MpiException or DllNotFoundException or EntryPointNotFoundException)
                {
                    error.WriteLine($"error: --distributed: {OneLine(e.Message)}");
                    return 1;
                }
                using (mpi)
                    return Execute(settings, mpi, mpi.Rank == 0 ? output : TextWriter.Null);
            });
            // The tool on one rank (or the one process): its exit code. In a run of several ranks only rank 0 writes output
            // and files, and a failing rank ends the whole job (MPI_Abort) after its one line, so that no rank waits forever.
            int Execute(MlpSettings settings, ICommunicator communicator, TextWriter output)
            {
                int Fail(string line, int code)
                {
                    bool ranks = communicator.Size > 1;
                    // every rank fails alike on bad input: rank 0's line comes first and its abort ends the others
                    if (ranks && communicator.Rank != 0) Thread.Sleep(2000);
                    error.WriteLine(ranks && communicator.Rank != 0 ? $"error: rank {communicator.Rank}: {line["error: ".Length..]}" : line);
                    error.Flush();
                    if (ranks) communicator.Abort(code);
                    return code;
                }
                if (settings.Verbose || settings.Debug) output.WriteLine("mlp " + string.Join(' ', args.Select(Quote)));
                try
                {
                    MlpTool.Run(settings, output, cancellation, communicator);
                    return 0;
                }
                catch (InterruptedException e)
                {
                    if (ReferenceEquals(output, Console.Out)) Interruption.RestoreCursor();
                    error.WriteLine($"interrupted: {e.Message}");
                    return Interruption.ExitCode;
                }
                catch (Exception e) when (e is InvalidSpecException or DataFormatException or IOException or TrainingDivergedException or ArgumentException or UnauthorizedAccessException or NotSupportedException or MpiException)
                {
                    if (settings.Debug) error.WriteLine(e);
                    return Fail($"error: {OneLine(e.Message)}", 1);
                }
                catch (OutOfMemoryException e)
                {
                    // a dataset or network larger than this process may hold (a container's limit, DOTNET_GCHeapHardLimit)
                    if (settings.Debug) error.WriteLine(e);
                    return Fail($"error: out of memory: the data or the network needs more than the {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes >> 20} MB this process may use", 1);
                }
                catch (Exception e)
                {
                    // anything else is a defect of ours, still one line (the stack trace with --debug)
                    if (settings.Debug) error.WriteLine(e);
                    return Fail($"error: internal error ({e.GetType().Name}): {e.Message.Split('\n', 2)[0].Trim()} (rerun with --debug for details)", 2);
                }
            }

            // an option given twice is one line of ours (System.CommandLine would say "expects a single argument but 2 were provided")
            var names = root.Options.SelectMany(option => option.Aliases.Prepend(option.Name)).ToHashSet(StringComparer.Ordinal);
            var given = args.TakeWhile(arg => arg != "--").Select(arg => arg.Split('=', 2)[0]).Where(names.Contains).ToList();
            var repeated = root.Options.FirstOrDefault(option => given.Count(name => name == option.Name || option.Aliases.Contains(name)) > 1);
            if (repeated is not null)
            {
                error.WriteLine($"error: {repeated.Name} is given more than once: give each option once (see 'mlp --help')");
                return 1;
            }
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                // One line, like every other failure, instead of System.CommandLine's errors and help text.
                error.WriteLine($"error: {OneLine(Suggest(args, names) ?? string.Join("; ", parsed.Errors.Select(e => e.Message)))} (see 'mlp --help')");
                return 1;
            }
            // no termination handler of System.CommandLine's: Ctrl-C is ours (Interruption), or mpirun's under mpirun
            return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null });
        }

        /// <summary>"unknown option '--epoch': did you mean --epochs?" for the first argument that looks like an option and is none, or null.</summary>
        internal static string? Suggest(string[] args, IReadOnlySet<string> names)
        {
            foreach (string arg in args.TakeWhile(arg => arg != "--"))
            {
                string name = arg.Split('=', 2)[0];
                if (!name.StartsWith("--", StringComparison.Ordinal) || names.Contains(name)) continue;
                var nearest = names.Where(n => n.StartsWith("--", StringComparison.Ordinal)).MinBy(n => Distance(n, name))!;
                return Distance(nearest, name) <= Math.Max(2, name.Length / 3) || nearest.StartsWith(name, StringComparison.Ordinal)
                    ? $"unknown option '{name}': did you mean {nearest}?"
                    : $"unknown option '{name}'";
            }
            return null;
        }

        /// <summary>The Levenshtein distance: the fewest insertions, deletions and substitutions that turn a into b.</summary>
        private static int Distance(string a, string b)
        {
            var previous = Enumerable.Range(0, b.Length + 1).ToArray();
            for (int i = 1; i <= a.Length; i++)
            {
                var current = new int[b.Length + 1];
                current[0] = i;
                for (int j = 1; j <= b.Length; j++)
                    current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
            return previous[b.Length];
        }

        /// <summary>A message on one line: line breaks and other control characters as escapes (a value may hold them).</summary>
        internal static string OneLine(string message) => string.Concat(message.Select(c => c switch
        {
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            _ when char.IsControl(c) => "?",
            _ => c.ToString(),
        }));

        private static string Quote(string arg) => arg.Any(c => char.IsWhiteSpace(c) || c is ';' or '(' or ')' or '|') ? $"\"{arg}\"" : arg;
    }
}
