using Nerva.Distributed;
using Nerva.Optimizers;
using Nerva.Specs;
using Nerva.Training;

namespace Nerva.Tests;

/// <summary>
/// The gradient sums of a data-parallel step (<see cref="GradientExchange"/>), in process with a communicator that stands
/// for two identical replicas (every sum doubles the values): each gradient summed exactly once, the large ones started
/// as soon as backpropagation has computed them, the small ones fused into one bucket.
/// </summary>
public sealed class GradientExchangeTests
{
    /// <summary>Two replicas holding the same values: a sum doubles them. Logs the length of every sum it starts.</summary>
    private sealed class TwoReplicas(List<string> log) : ICommunicator
    {
        private readonly List<Memory<float>> _started = [];
        public int Rank => 0;
        public int Size => 2;
        public void AllReduceSum(Span<float> values)
        {
            foreach (ref float v in values) v *= 2;
        }
        public void AllReduceSum(Span<double> values)
        {
            foreach (ref double v in values) v *= 2;
        }
        public void StartAllReduceSum(Memory<float> values)
        {
            log.Add($"start {values.Length}");
            _started.Add(values);
        }
        public void WaitAll()
        {
            log.Add("wait");
            foreach (var values in _started) AllReduceSum(values.Span);
            _started.Clear();
        }
        public void Broadcast(Span<byte> values, int root) => throw new NotSupportedException();
        public void AllGather(ReadOnlySpan<long> mine, Span<long> all) => throw new NotSupportedException();
        public void Barrier() => throw new NotSupportedException();
        public void Abort(int exitCode) => throw new NotSupportedException();
    }

    [Fact]
    public void Every_gradient_is_summed_once_and_each_layers_sums_start_before_the_layers_below_backpropagate()
    {
        // 8-300-250-3: W of layer 1 (250×300 = 75 000 values) is large; the rest (2 400 + 300, 250, 750 + 3) is fused
        var mlp = NetworkBuilder.Build(["ReLU", "ReLU", "Linear"], [8, 300, 250, 3], [0], [WeightInitializer.He], [new Momentum(0.9)], new Rng(5));
        var rng = new Rng(6);
        var X = new Matrix<float>(16, 8);
        foreach (ref float x in X.AsSpan()) x = (float)(2 * rng.NextDouble() - 1);
        var Y = new Matrix<float>(0, 0);
        mlp.Feedforward(X, Y);
        var DY = Y.Clone();
        mlp.Backpropagate(Y, DY);
        var expected = mlp.Layers.SelectMany(l => l.Parameters, (_, p) => p.Gradient.AsSpan().ToArray()).ToList();

        var log = new List<string>();
        var exchange = new GradientExchange(mlp, new TwoReplicas(log));
        for (int step = 0; step < 2; step++)   // the plan is made once and kept
        {
            log.Clear();
            mlp.Backpropagate(Y, DY, l =>
            {
                log.Add($"done {l}");
                exchange.LayerDone(l);
            });
            exchange.Finish();
            Assert.Equal(["done 2", "done 1", "start 75000", "done 0", $"start {2400 + 300 + 250 + 750 + 3}", "wait"], log);
            var summed = mlp.Layers.SelectMany(l => l.Parameters, (_, p) => p.Gradient.AsSpan().ToArray()).ToList();
            for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].Select(v => 2 * v), summed[i]);
        }
    }
}
