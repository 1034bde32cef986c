namespace Nerva.Training;

/// <summary>One batch trained: where the epoch stands, for progress displays.</summary>
/// <param name="Epoch">The epoch, from 1.</param>
/// <param name="Batch">The batch of the epoch, from 1.</param>
/// <param name="Batches">The batches of the epoch.</param>
/// <param name="Samples">The samples of this batch.</param>
/// <param name="Loss">This batch's mean loss (in training mode, before the update).</param>
public sealed record BatchProgress(int Epoch, int Batch, int Batches, int Samples, double Loss);
