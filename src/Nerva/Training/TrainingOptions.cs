namespace Nerva.Training;

/// <summary>How <see cref="StochasticGradientDescent"/> trains (the original's <c>sgd_options</c>).</summary>
public sealed record TrainingOptions
{
    /// <summary>The epochs to train.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>The samples per batch (the last batch of an epoch may be smaller).</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Shuffle the training set at the start of every epoch.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Compute loss and accuracies before training and after every epoch.</summary>
    public bool Statistics { get; init; } = true;

    /// <summary>
    /// With <see cref="Statistics"/>: also the loss and accuracy on the training set, an evaluation pass over all of it
    /// (about a third of an epoch's work). Off: only the test set is evaluated (its accuracy; its loss is what detects a
    /// diverged run), and the training loss and accuracy are NaN.
    /// </summary>
    public bool TrainingSetStatistics { get; init; } = true;

    /// <summary>If &gt; 0, at the start of every epoch &gt; 0 zero the entries of the weights and optimizer state (momentum Δ, Adam m and v) with |x| &lt; Clip.</summary>
    public double Clip { get; init; }

    /// <summary>Time feedforward, backpropagation and optimization: "disabled", "brief" or "full".</summary>
    public string Timer { get; init; } = "disabled";

    /// <summary>Dynamic sparse training: prune and regrow the sparse layers (null: their supports stay fixed).</summary>
    public Sparse.DynamicSparseTraining? SparseTraining { get; init; }

    /// <summary>If &gt; 0, check the gradients of every batch with central differences of this step.</summary>
    public double GradientStep { get; init; }

    /// <summary>
    /// The fraction of the training set held out for validation: its last ⌊fraction·N⌋ rows (as Keras takes them), never
    /// trained on; their loss is computed after every epoch. 0: none.
    /// </summary>
    public double ValidationSplit { get; init; }

    /// <summary>
    /// With a validation split: stop when the validation loss has not improved for this many epochs, and give the network
    /// back the weights of its best epoch. 0: never stop early.
    /// </summary>
    public int EarlyStoppingPatience { get; init; }

    /// <summary>Refuses options the trainer cannot run: each message names the option, its value and the valid ones.</summary>
    public void Validate()
    {
        static void Require(bool valid, string name, string message)
        {
            if (!valid) throw new ArgumentOutOfRangeException(name, message);
        }
        Require(Epochs >= 0, nameof(Epochs), $"Epochs must be at least 0, got {Epochs}");
        Require(BatchSize >= 1, nameof(BatchSize), $"BatchSize must be at least 1, got {BatchSize}");
        Require(Clip >= 0 && double.IsFinite(Clip), nameof(Clip), $"Clip must be a number of at least 0 (0: off), got {Clip}");
        Require(GradientStep >= 0 && GradientStep <= 1, nameof(GradientStep), $"GradientStep must be in [0, 1] (0: off), got {GradientStep}");
        Require(Timer is "disabled" or "brief" or "full", nameof(Timer), $"Timer must be disabled, brief or full, got '{Timer}'");
        Require(ValidationSplit >= 0 && ValidationSplit < 1, nameof(ValidationSplit), $"ValidationSplit must be in [0, 1), got {ValidationSplit}");
        Require(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), $"EarlyStoppingPatience must be at least 0 (0: off), got {EarlyStoppingPatience}");
        if (EarlyStoppingPatience > 0 && ValidationSplit == 0) throw new ArgumentException("early stopping needs a validation split (the held-out rows whose loss it watches)");
    }
}

/// <summary>Training stopped because the loss or its gradient stopped being finite.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
