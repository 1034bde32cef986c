namespace Nerva.Cli;

/// <summary>The values of the <c>mlp</c> options (§1.2 of the reference), after System.CommandLine.</summary>
internal sealed record MlpSettings
{
    public ulong? Seed { get; init; }
    public string? Layers { get; init; }
    public string? LayerSizes { get; init; }
    public string? InputShape { get; init; }
    public string? Densities { get; init; }
    public double OverallDensity { get; init; } = 1;
    public string? Dropouts { get; init; }
    public string LayerWeights { get; init; } = "Xavier";
    public string Optimizers { get; init; } = "GradientDescent";
    public double LearningRate { get; init; } = 0.01;
    public string? LearningRateScheduler { get; init; }
    public string? Loss { get; init; }
    public int Epochs { get; init; } = 100;
    public int BatchSize { get; init; } = 1;
    public bool NoShuffle { get; init; }
    public bool NoStatistics { get; init; }
    public bool TestStatisticsOnly { get; init; }
    public string? LoadWeights { get; init; }
    public string? SaveWeights { get; init; }
    public string? SaveInitialWeights { get; init; }
    public string? SaveModel { get; init; }
    public string? LoadModel { get; init; }
    public string? Predict { get; init; }
    public string? ExportOnnx { get; init; }
    public string? Log { get; init; }
    public string? Plot { get; init; }
    public string? CheckpointDirectory { get; init; }
    public int CheckpointEvery { get; init; } = 1;
    public string? Resume { get; init; }
    public double ValidationSplit { get; init; }
    public int EarlyStopping { get; init; }
    public string? Dataset { get; init; }
    public string? Idx { get; init; }
    public string? Cifar10 { get; init; }
    public string? Mnist { get; init; }
    public string? GenerateDataset { get; init; }
    public int DatasetSize { get; init; } = 2000;
    public string? LoadDataset { get; init; }
    public string? Csv { get; init; }
    public string? TestCsv { get; init; }
    public double TestSplit { get; init; }
    public string? LabelColumn { get; init; }
    public string? Separator { get; init; }
    public bool NoHeader { get; init; }
    public string? SaveDataset { get; init; }
    public bool Normalize { get; init; }
    public string? Preprocessed { get; init; }
    public int Precision { get; init; } = 4;
    public bool Info { get; init; }
    public string Timer { get; init; } = "disabled";
    public string? Prune { get; init; }
    public string? Grow { get; init; }
    public string GrowWeights { get; init; } = "Xavier";
    public int PruneInterval { get; init; }
    public double PruneCosineDecay { get; init; }
    public string Computation { get; init; } = "managed";
    public double Clip { get; init; }
    public int? Threads { get; init; }
    public double GradientStep { get; init; }
    public bool Verbose { get; init; }
    public bool Debug { get; init; }
    public bool Distributed { get; init; }
    public bool NoOverlap { get; init; }
}
