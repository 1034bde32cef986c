using Nerva.Data;
using Nerva.Layers;
using Nerva.Losses;
using Nerva.Optimizers;
using Nerva.Schedulers;
using Nerva.Specs;
using Nerva.Training;

namespace Nerva.Tests;

/// <summary>The <c>--gradient-step</c> check is a diagnostic: a run with it must train to the same bits as a run without.</summary>
[Collection(ThreadCountCollection.Name)]
public sealed class GradientCheckTests
{
    [Fact]
    public void Checking_the_gradients_leaves_the_training_as_it_would_be_without_the_check()
    {
        // batch normalization keeps running estimates that every training-mode feedforward moves: the check's own
        // feedforwards (two per checked entry) must not move them
        var rng = new Rng(5);
        int N = 200;
        var X = new Matrix<float>(N, 2);
        var labels = new long[N];
        for (int i = 0; i < N; i++)
        {
            labels[i] = i % 2;
            X[i, 0] = (float)((labels[i] == 0 ? -1 : 1) + rng.Uniform(-1, 1));
            X[i, 1] = (float)rng.Uniform(-1, 1);
        }
        var data = Dataset.FromLabels(X, labels, X.Clone(), labels, 2);
        MultilayerPerceptron<float> Trained(double gradientStep)
        {
            var mlp = NetworkBuilder.Build(["ReLU", "BatchNormalization", "Linear"], [2, 16, 2], [0], [WeightInitializer.He], [new Momentum(0.9)], new Rng(2));
            var options = new TrainingOptions { Epochs = 2, BatchSize = 20, GradientStep = gradientStep };
            new StochasticGradientDescent(mlp, new SoftmaxCrossEntropyLoss(), new ConstantScheduler(0.05), options, seed: 3).Train(data);
            return mlp;
        }
        var plain = Trained(0);
        var checkedRun = Trained(1e-3);
        var normalization = (BatchNormalizationLayer<float>)plain.Layers[1];
        var normalizationChecked = (BatchNormalizationLayer<float>)checkedRun.Layers[1];
        Assert.Equal(normalization.RunningMean.AsSpan().ToArray(), normalizationChecked.RunningMean.AsSpan().ToArray());
        Assert.Equal(normalization.RunningVariance.AsSpan().ToArray(), normalizationChecked.RunningVariance.AsSpan().ToArray());
        for (int l = 0; l < plain.Layers.Count; l++)
            for (int p = 0; p < plain.Layers[l].Parameters.Count; p++)
                Assert.Equal(plain.Layers[l].Parameters[p].Value.AsSpan().ToArray(), checkedRun.Layers[l].Parameters[p].Value.AsSpan().ToArray());
    }
}
