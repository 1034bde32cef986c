using Nerva;
using Nerva.Activations;
using Nerva.Layers;
using Nerva.Losses;
using Nerva.Optimizers;

namespace Nerva.Tests;

/// <summary>The chain of layers: plumbing, allocation, determinism, precision and learning.</summary>
[Collection(ThreadCountCollection.Name)]
public sealed class MultilayerPerceptronTests
{
    private static MultilayerPerceptron<T> Network<T>(ulong seed, double dropout = 0) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var rng = new Rng(seed);
        var momentum = new Momentum(0.9);
        return new MultilayerPerceptron<T>(
        [
            new ActivationLayer<T, ReLU<T>>(2, 16, default, rng, WeightInitializer.He, momentum, dropout),
            new BatchNormalizationLayer<T>(16, momentum),
            new ActivationLayer<T, HyperbolicTangent<T>>(16, 8, default, rng, WeightInitializer.XavierNormalized, new Nesterov(0.9)),
            new SReLULayer<T>(8, 8, new SReLU<T>(T.Zero, T.Zero, T.One, T.One), rng, optimizer: momentum),
            new LinearLayer<T>(8, 2, rng, optimizer: momentum),
        ]);
    }

    /// <summary>Two classes: inside or outside a circle of radius 0.6 in [−1, 1]².</summary>
    private static (Matrix<T> X, Matrix<T> T) Circle<T>(int n, Rng rng) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var X = new Matrix<T>(n, 2);
        var targets = new Matrix<T>(n, 2);
        for (int i = 0; i < n; i++)
        {
            double a = rng.Uniform(-1, 1), b = rng.Uniform(-1, 1);
            X[i, 0] = T.CreateChecked(a);
            X[i, 1] = T.CreateChecked(b);
            targets[i, a * a + b * b < 0.36 ? 0 : 1] = T.One;
        }
        return (X, targets);
    }

    /// <summary>Mini-batch steps with DY = ∇L/N, the buffers kept across calls as a training loop keeps them.</summary>
    private sealed class Trainer<T>(MultilayerPerceptron<T> mlp, Rng rng) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        private readonly SoftmaxCrossEntropyLoss _loss = new();
        private readonly Matrix<T> _Y = new(0, 0);
        private readonly Matrix<T> _DY = new(0, 0);

        public double Train(Matrix<T> X, Matrix<T> targets, int steps)
        {
            double last = 0;
            for (int step = 0; step < steps; step++)
            {
                mlp.RenewDropoutMasks(rng);
                mlp.Feedforward(X, _Y);
                last = _loss.Value(_Y, targets) / X.Rows;
                _loss.Gradient(_Y, targets, _DY);
                var dy = _DY.AsSpan();
                T scale = T.One / T.CreateChecked(X.Rows);
                for (int k = 0; k < dy.Length; k++) dy[k] *= scale;
                mlp.Backpropagate(_Y, _DY);
                mlp.Optimize(T.CreateChecked(0.05));
            }
            return last;
        }
    }

    private static double Train<T>(MultilayerPerceptron<T> mlp, Matrix<T> X, Matrix<T> targets, int steps, Rng rng)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T> => new Trainer<T>(mlp, rng).Train(X, targets, steps);

    [Fact]
    public void Training_lowers_the_loss_and_separates_the_classes()
    {
        var rng = new Rng(1);
        var mlp = Network<float>(2);
        var (X, targets) = Circle<float>(256, rng);
        var Y = new Matrix<float>(0, 0);
        mlp.Feedforward(X, Y);
        double before = new SoftmaxCrossEntropyLoss().Value(Y, targets) / 256;
        double after = Train(mlp, X, targets, 300, rng);
        Assert.True(after < 0.5 * before, $"loss {before:F4} → {after:F4}");
        mlp.IsTraining = false;
        var (Xtest, Ttest) = Circle<float>(500, rng);
        mlp.Feedforward(Xtest, Y);
        int correct = 0;
        for (int i = 0; i < 500; i++) correct += (Y[i, 0] > Y[i, 1]) == (Ttest[i, 0] == 1) ? 1 : 0;
        Assert.True(correct >= 450, $"test accuracy {correct / 500.0:F3}");
    }

    [Fact]
    public void Same_seed_gives_bit_identical_weights()
    {
        float[] Run()
        {
            var rng = new Rng(7);
            var mlp = Network<float>(3, dropout: 0.2);
            var (X, targets) = Circle<float>(64, rng);
            Train(mlp, X, targets, 20, rng);
            return [.. mlp.Layers.SelectMany(layer => layer.Parameters).SelectMany(p => p.Value.AsSpan().ToArray())];
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Float_and_double_networks_agree_within_float_rounding()
    {
        var rng = new Rng(11);
        var (X, targets) = Circle<double>(32, rng);
        var md = Network<double>(5);
        var mf = Network<float>(5);
        Train(md, X, targets, 3, rng);
        Train(mf, X.Convert<float>(), targets.Convert<float>(), 3, rng);
        for (int l = 0; l < md.Layers.Count; l++)
            for (int p = 0; p < md.Layers[l].Parameters.Count; p++)
                TestData.AssertClose(md.Layers[l].Parameters[p].Value, mf.Layers[l].Parameters[p].Value.Convert<double>(), 1e-4, $"layer {l} {md.Layers[l].Parameters[p].Name}");
    }

    [Fact]
    public void A_step_of_a_large_dense_and_sparse_network_on_two_threads_allocates_nothing()
    {
        // large enough that the products, the optimizer steps and the sparse products take the parallel path
        var rng = new Rng(5);
        var mlp = new MultilayerPerceptron<float>(
        [
            new ActivationLayer<float, ReLU<float>>(600, 512, default, rng, WeightInitializer.He, new Momentum(0.9)),
            new ActivationLayer<float, ReLU<float>>(512, 512, default, rng, WeightInitializer.He, new Nesterov(0.9), density: 0.2),
            new LinearLayer<float>(512, 10, rng, optimizer: new Adam()),
        ]);
        var X = TestData.Random(100, 600, rng).Convert<float>();
        var targets = new Matrix<float>(100, 10);
        for (int i = 0; i < 100; i++) targets[i, i % 10] = 1;
        int saved = Kernels.Parallelism.Threads;
        try
        {
            Kernels.Parallelism.Threads = 2;
            var trainer = new Trainer<float>(mlp, rng);
            trainer.Train(X, targets, 2);
            long before = GC.GetAllocatedBytesForCurrentThread();
            trainer.Train(X, targets, 3);
            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        finally
        {
            Kernels.Parallelism.Threads = saved;
        }
    }

    [Fact]
    public void A_training_step_allocates_nothing_after_the_first_batch()
    {
        var rng = new Rng(3);
        var mlp = Network<float>(4, dropout: 0.3);
        var (X, targets) = Circle<float>(64, rng);
        var (Xsmall, Tsmall) = Circle<float>(40, rng);
        var trainer = new Trainer<float>(mlp, rng);
        trainer.Train(X, targets, 2);
        long before = GC.GetAllocatedBytesForCurrentThread();
        trainer.Train(X, targets, 3);
        trainer.Train(Xsmall, Tsmall, 2); // a smaller last batch reuses the storage
        trainer.Train(X, targets, 1);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Layers_are_chained_and_the_first_layer_skips_DX()
    {
        var mlp = Network<double>(6);
        var rng = new Rng(6);
        var (X, targets) = Circle<double>(10, rng);
        Train(mlp, X, targets, 1, rng);
        mlp.Feedforward(X, new Matrix<double>(0, 0));
        Assert.Same(X, mlp.Layers[0].X);
        Assert.Equal(0, mlp.Layers[0].DX.Length);
        for (int i = 1; i < mlp.Layers.Count; i++)
        {
            Assert.Equal((10, mlp.Layers[i].InputSize), (mlp.Layers[i].DX.Rows, mlp.Layers[i].DX.Cols));
            // Layer i's input is layer i−1's output, recomputed here independently.
            var Y = new Matrix<double>(0, 0);
            var previous = mlp.Layers[i - 1];
            var saved = previous.X;
            previous.Feedforward(saved, Y);
            TestData.AssertClose(Y, mlp.Layers[i].X, 0, $"input of layer {i + 1}");
        }
    }

    [Fact]
    public void Dropout_masks_and_evaluation_mode()
    {
        var rng = new Rng(8);
        var layer = new LinearLayer<double>(200, 100, rng, dropout: 0.25);
        Assert.All(layer.R.AsSpan().ToArray(), r => Assert.Equal(1.0, r));
        layer.RenewDropoutMask(rng);
        var r = layer.R.AsSpan().ToArray();
        Assert.All(r, v => Assert.True(v == 0 || Math.Abs(v - 1 / 0.75) < 1e-15));
        Assert.Equal(0.25, r.Count(v => v == 0) / (double)r.Length, 0.01);
        var X = TestData.Random(3, 200, rng);
        var Ytrain = new Matrix<double>(0, 0);
        var Yeval = new Matrix<double>(0, 0);
        layer.Feedforward(X, Ytrain);
        layer.IsTraining = false;
        layer.Feedforward(X, Yeval);
        TestData.AssertClose(MatrixOperations.Product(X, MatrixOperations.Transpose(layer.W)) + MatrixOperations.RowRepeat(layer.B, 3), Yeval, 1e-14, "evaluation uses W");
        Assert.True(TestData.RelativeError(Ytrain, Yeval) > 0.01, "training uses the mask");
        layer.RenewDropoutMask(rng);
    }

    [Fact]
    public void Batch_normalization_evaluation_uses_running_statistics()
    {
        var rng = new Rng(9);
        var layer = new BatchNormalizationLayer<double>(3, momentum: 0.1);
        var Y = new Matrix<double>(0, 0);
        for (int step = 0; step < 200; step++)
        {
            var X = TestData.Random(50, 3, rng);
            for (int i = 0; i < 50; i++) { X[i, 0] = 5 + 2 * X[i, 0]; X[i, 2] *= 0.1; }
            layer.Feedforward(X, Y);
        }
        Assert.Equal(5, layer.RunningMean[0, 0], 0.2);
        Assert.Equal(4.0 / 3, layer.RunningVariance[0, 0], 0.2);  // Var U(−2, 2)
        Assert.Equal(0.01 / 3, layer.RunningVariance[0, 2], 0.001);
        layer.IsTraining = false;
        var one = Matrix<double>.FromRows([5.0, 0.0, 0.0]);
        layer.Feedforward(one, Y);
        Assert.Equal(0, Y[0, 0], 0.2); // a single sample is normalised with the running statistics
        Assert.Equal("BatchNormalization(input_size=3, output_size=3)", layer.ToString());
    }

    [Fact]
    public void Bad_networks_and_inputs_are_named()
    {
        var rng = new Rng(1);
        var error = Assert.Throws<ArgumentException>(() => new MultilayerPerceptron<float>([new LinearLayer<float>(3, 4, rng), new LinearLayer<float>(5, 2, rng)]));
        Assert.Contains("layer 2 expects 5 inputs but layer 1 gives 4 outputs", error.Message);
        var mlp = new MultilayerPerceptron<float>([new LinearLayer<float>(3, 4, rng)]);
        error = Assert.Throws<ArgumentException>(() => mlp.Feedforward(new Matrix<float>(2, 5), new Matrix<float>(0, 0)));
        Assert.Contains("2×5", error.Message);
        Assert.Contains("N×3", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearLayer<float>(3, 4, rng, dropout: 1));
        Assert.Equal("Dense(input_size=3, output_size=4, optimizer=GradientDescent, activation=NoActivation())", mlp.ToString());
    }
}

