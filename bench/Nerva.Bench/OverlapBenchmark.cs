using System.Globalization;
using Nerva.Distributed;
using Nerva.Kernels;
using Nerva.Optimizers;
using Nerva.Schedulers;
using Nerva.Specs;
using Nerva.Training;

namespace Nerva.Bench;

/// <summary>
/// Data-parallel epochs of 3072-1024-512-10 (dense, and sparse at Erdős–Rényi overall density 0.01) on 10 000 synthetic
/// CIFAR-shaped samples, global batch 100, one thread per rank, with every gradient sum started during backpropagation
/// (overlapped) and after it, alternating epoch by epoch in one run: medians and their ratio, and whether both gave the
/// same weights. Run it under mpirun: <c>mpirun -np 2 --bind-to core dotnet Nerva.Bench.dll overlap [rounds]</c>.
/// </summary>
internal static class OverlapBenchmark
{
    public static void Run(TextWriter output, int rounds)
    {
        using var mpi = new MpiCommunicator();
        Parallelism.Threads = 1;
        int[] sizes = [3072, 1024, 512, 10];
        var data = EpochBenchmark.Synthetic(sizes[0], 10000, new Rng(1));
        if (mpi.Rank == 0)
            output.WriteLine($"| network ({mpi.Size} ranks × 1 thread) | overlapped (s/epoch) | after backpropagation (s/epoch) | ratio | same weights |\n|---|---|---|---|---|");
        foreach (double density in new[] { 1, 0.01 })
        {
            var times = (Overlapped: new List<double>(), After: new List<double>());
            bool same = true;
            ulong first = 0;
            for (int r = 0; r < 2 * rounds + 2; r++)
            {
                bool overlap = r % 4 is 0 or 3;   // ABBA turns
                var mlp = NetworkBuilder.Build(["ReLU", "ReLU", "Linear"], sizes, [0], [WeightInitializer.He], [new Momentum(0.9)], new Rng(2),
                    density < 1 ? Sparse.ErdosRenyi.Densities(density, sizes) : null);
                var sgd = new StochasticGradientDescent(mlp, new Losses.SoftmaxCrossEntropyLoss(), new ConstantScheduler(0.01),
                    new TrainingOptions { Epochs = 1, BatchSize = 100, Statistics = false }, new Rng(3), TextWriter.Null)
                { Communicator = mpi, OverlapCommunication = overlap };
                double seconds = sgd.Train(data).Seconds;
                if (r >= 2) (overlap ? times.Overlapped : times.After).Add(seconds);   // the first two warm up
                ulong checksum = Checksum(mlp);
                if (r == 0) first = checksum;
                same &= checksum == first;
            }
            double a = GemmBenchmark.Median(times.Overlapped), b = GemmBenchmark.Median(times.After);
            if (mpi.Rank == 0)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {(density == 1 ? "dense" : $"sparse, overall density {density}")} | {a:F3} | {b:F3} | {a / b:F2} | {(same ? "yes" : "NO")} |"));
        }
    }

    private static ulong Checksum(MultilayerPerceptron<float> mlp)
    {
        var hash = new System.IO.Hashing.XxHash64();
        foreach (var layer in mlp.Layers)
            foreach (var p in layer.Parameters) hash.Append(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.Value.AsSpan()));
        return hash.GetCurrentHashAsUInt64();
    }
}
