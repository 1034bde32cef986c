using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace Nerva.Bench;

/// <summary>
/// Serving (issue 28): <see cref="Predictor.Predict(Matrix{float})"/> (the model's weights packed once) and
/// <see cref="Model.Predict(Matrix{float})"/> against ONNX Runtime on the model's own ONNX export, in
/// one process, timed in turns: the dense 784-1024-512-10 (ReLU) and the same at overall density 0.05 (Erdős–Rényi), at
/// batches 1, 8, 100 and 1000, on 1 and 2 threads (ours: <c>Parallelism.Threads</c>; ORT: intra-op threads, sequential
/// execution, all graph optimizations, its default spinning, preallocated input and output tensors). Median of rounds of
/// about 150 ms, the sides in turns, each alone in the process (see <see cref="InTurns"/>); latency ratio predictor/ORT at
/// batches 1 and 8 (below 1: ours is faster), throughput ratio ORT time/predictor at 100
/// and 1000 (above 1: ours is faster). Then eight threads calling the predictor with one row each against the same calls
/// one after another.
/// </summary>
internal static class ServingBenchmark
{
    /// <summary>The models of the table, by name.</summary>
    public static readonly string[] Models = ["dense", "sparse"];

    /// <summary>The table's cells of the <paramref name="chosen"/> models, then, with the dense one, the concurrent calls.</summary>
    public static void Run(TextWriter output, double seconds, string[] chosen)
    {
        int threadsBefore = Kernels.Parallelism.Threads;
        output.WriteLine($"ONNX Runtime {typeof(InferenceSession).Assembly.GetName().Version}; about {seconds} s per cell and side");
        output.WriteLine();
        output.WriteLine("| model | batch | threads | Predictor (µs/call) | Model.Predict (µs/call) | ORT (µs/call) | Predictor / ORT | max |Δ| of the outputs |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var (name, density) in new[] { ("dense", 1.0), ("sparse 0.05", 0.05) })
        {
            if (!chosen.Contains(name.Split(' ')[0])) continue;
            var model = Model.Create("784-1024-512-10", weights: "He", density: density, seed: 1);
            var predictor = model.CreatePredictor();
            string path = Path.Combine(Path.GetTempPath(), $"nerva-serving-{density}.onnx");
            model.ExportOnnx(path);
            foreach (int threads in new[] { 1, 2 })
            {
                Kernels.Parallelism.Threads = threads;
                using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
                foreach (int batch in new[] { 1, 8, 100, 1000 })
                {
                    var X = new Matrix<float>(batch, 784);
                    var rng = new Rng((ulong)batch);
                    for (int i = 0; i < X.Length; i++) X.AsSpan()[i] = (float)rng.Uniform(0, 1);
                    var Y = new float[batch * 10];
                    using var input = OrtValue.CreateTensorValueFromMemory(X.AsSpan().ToArray(), [batch, 784]);
                    using var result = OrtValue.CreateTensorValueFromMemory(Y, [batch, 10]);
                    using var run = new RunOptions();
                    Matrix<float> ours = predictor.Predict(X);
                    if (!ours.AsSpan().SequenceEqual(model.Predict(X).AsSpan())) throw new InvalidOperationException($"{name}, batch {batch}: the predictor's outputs are not the model's");
                    using (var session = new InferenceSession(path, options)) session.Run(run, ["input"], [input], ["output"], [result]);
                    float difference = 0;
                    for (int i = 0; i < Y.Length; i++) difference = MathF.Max(difference, MathF.Abs(Y[i] - ours.AsSpan()[i]));
                    var (mine, theirs) = InTurns([() => predictor.Predict(X), () => model.Predict(X)], () =>
                    {
                        var session = new InferenceSession(path, options);
                        return (() => session.Run(run, ["input"], [input], ["output"], [result]), session);
                    }, seconds);
                    string ratio = batch <= 8 ? $"latency {mine[0] / theirs:F2}" : $"throughput {theirs / mine[0]:F2}";
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {batch} | {threads} | {1e6 * mine[0]:F1} | {1e6 * mine[1]:F1} | {1e6 * theirs:F1} | {ratio} | {difference:E1} |"));
                }
            }
        }
        output.WriteLine();
        foreach (int threads in chosen.Contains("dense") ? new[] { 1, 2 } : [])
        {
            Kernels.Parallelism.Threads = threads;
            Concurrent(output, seconds);
        }
        Kernels.Parallelism.Threads = threadsBefore;
    }

    /// <summary>Eight threads calling a predictor with one row each, against the same calls made one after another.</summary>
    private static void Concurrent(TextWriter output, double seconds)
    {
        var predictor = Model.Create("784-1024-512-10", weights: "He", seed: 1).CreatePredictor();
        var row = new float[784];
        for (int j = 0; j < row.Length; j++) row[j] = (j % 17) / 17f;
        const int calls = 400;
        double Serial()
        {
            long start = Stopwatch.GetTimestamp();
            for (int c = 0; c < calls; c++) predictor.Predict(row);
            return calls / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        double Parallel8()
        {
            using var ready = new Barrier(9);
            var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
            {
                ready.SignalAndWait();
                for (int c = 0; c < calls / 8; c++) predictor.Predict(row);
            })).ToList();
            threads.ForEach(thread => thread.Start());
            ready.SignalAndWait();
            long start = Stopwatch.GetTimestamp();
            threads.ForEach(thread => thread.Join());
            return calls / Stopwatch.GetElapsedTime(start).TotalSeconds;
        }
        Serial();
        Parallel8();
        var serial = new List<double>();
        var parallel = new List<double>();
        for (long end = Stopwatch.GetTimestamp() + (long)(2 * seconds * Stopwatch.Frequency); Stopwatch.GetTimestamp() < end;)
        {
            serial.Add(Serial());
            parallel.Add(Parallel8());
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"- Eight threads calling a predictor with one row each (dense, {Kernels.Parallelism.Threads} kernel threads): {Median(parallel):F0} rows/s against {Median(serial):F0} rows/s one after another: {Median(parallel) / Median(serial):F2}×"));
    }

    /// <summary>
    /// The median seconds per call of each side (each of <paramref name="ours"/>, in an order reversed every round, then ORT), timed in alternating rounds of about 150 ms, each side alone in the
    /// process: ORT's session is opened for its round (then one untimed call) and closed after it, since its pool threads
    /// spin after a run by default (which serves its latency) and would take the core that our next call needs while
    /// the session lives; our round starts after a pause (our workers spin 200 µs) and one untimed call.
    /// </summary>
    private static (double[] Ours, double Theirs) InTurns(Action[] ours, Func<(Action Run, IDisposable Session)> open, double seconds)
    {
        ours[0]();
        long probe = Stopwatch.GetTimestamp();
        ours[0]();
        int repeats = Math.Max(1, (int)(0.15 / Math.Max(1e-7, Stopwatch.GetElapsedTime(probe).TotalSeconds)));
        var a = ours.Select(_ => new List<double>()).ToArray();
        var b = new List<double>();
        for (long end = Stopwatch.GetTimestamp() + (long)((1 + ours.Length) * seconds * Stopwatch.Frequency); Stopwatch.GetTimestamp() < end || b.Count < 3;)
        {
            // our sides in turn, each round's order the last one's reversed: the first after ORT's round ran 5–35 % slower
            // (sparse batch 8 on 1 thread, five runs), whichever it was
            for (int turn = 0; turn < ours.Length; turn++)
            {
                int side = b.Count % 2 == 0 ? turn : ours.Length - 1 - turn;
                Thread.Sleep(20);
                a[side].Add(Time(ours[side], repeats));
            }
            var (theirs, session) = open();
            using (session) b.Add(Time(theirs, repeats));
        }
        return ([.. a.Select(Median)], Median(b));
    }

    /// <summary>Seconds per call of <paramref name="action"/> over <paramref name="repeats"/> calls after one untimed call.</summary>
    private static double Time(Action action, int repeats)
    {
        action();
        long start = Stopwatch.GetTimestamp();
        for (int r = 0; r < repeats; r++) action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds / repeats;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
