namespace Nerva.ML;

/// <summary>
/// What a Nerva trainer builds and how it trains: the network in the <c>mlp</c> tool's grammar, the optimizer, the
/// schedule. The defaults train a tabular table of a few thousand rows well: one hidden layer of 100 ReLU units,
/// Adam at 0.001 (as scikit-learn's MLPClassifier), 100 epochs of batches of 32, standardised features.
/// </summary>
public sealed record NervaTrainerOptions
{
    /// <summary>The label column: a key (multiclass, as <c>MapValueToKey</c> makes it), a Boolean (binary) or a Single (regression).</summary>
    public string LabelColumnName { get; init; } = "Label";

    /// <summary>The features column: a vector of Single of known size.</summary>
    public string FeatureColumnName { get; init; } = "Features";

    /// <summary>The sizes of the hidden layers (none: a linear model).</summary>
    public IReadOnlyList<int> HiddenLayers { get; init; } = [100];

    /// <summary>The hidden layers' activation, in the tool's grammar: ReLU, LeakyReLU(0.1), Tanh, Sigmoid, AllReLU(0.3), …</summary>
    public string Activation { get; init; } = "ReLU";

    /// <summary>
    /// Every layer in the tool's <c>--layers</c> grammar instead of <see cref="Activation"/>, e.g.
    /// "ReLU;BatchNormalization;ReLU;Linear" (one linear layer per hidden size, and the output layer, which must be Linear).
    /// </summary>
    public string? Layers { get; init; }

    /// <summary>The overall density of the weights; below 1 the layers are sparse (CSR), spread by the Erdős–Rényi rule.</summary>
    public double Density { get; init; } = 1;

    /// <summary>The dropout rate of the hidden layers (a weight's probability of being dropped).</summary>
    public double Dropout { get; init; }

    /// <summary>The weight initializer: Xavier, XavierNormalized, XavierLogistic, He, HeUniform, Uniform, PyTorch.</summary>
    public string Weights { get; init; } = "He";

    /// <summary>The optimizer of every layer: GradientDescent, Momentum(0.9), Nesterov(0.9), Adam, Adam(beta1=0.9, beta2=0.999, epsilon=1e-8).</summary>
    public string Optimizer { get; init; } = "Adam";

    /// <summary>The learning rate (the scheduler's initial one when <see cref="LearningRateScheduler"/> is given).</summary>
    public double LearningRate { get; init; } = 0.001;

    /// <summary>A learning-rate scheduler in the tool's grammar, e.g. "Exponential(0.01, 0.05)" or "MultiStepLR(0.01, milestones=50|75, gamma=0.1)"; null: constant.</summary>
    public string? LearningRateScheduler { get; init; }

    /// <summary>Training epochs.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Rows per batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The seed of the weights, the shuffles and the dropout masks: the same seed and thread count give the same model.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Threads for the matrix products while training (null: all cores).</summary>
    public int? Threads { get; init; }

    /// <summary>
    /// Whether the trainer standardises every feature with the training set's mean and deviation (kept in the model, so
    /// that raw rows are scored alike). Regression targets are always standardised for training and scaled back.
    /// </summary>
    public bool StandardizeFeatures { get; init; } = true;

    /// <summary>With validation data (<c>Fit(train, validation)</c>): stop when its loss has not improved for this many epochs, and keep the best epoch's weights (0: train every epoch).</summary>
    public int EarlyStoppingPatience { get; init; } = 10;

    /// <summary>Whether every epoch's loss and accuracy are computed and logged (ML.NET's log, channel "Nerva"); the epoch times are logged always.</summary>
    public bool LogStatistics { get; init; }
}
