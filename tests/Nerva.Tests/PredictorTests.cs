using CsCheck;
using Nerva;
using Nerva.Data;
using Nerva.Kernels;
using Nerva.Layers;

namespace Nerva.Tests;

/// <summary>
/// A predictor (<see cref="Model.CreatePredictor"/>) packs its dense layers' weights once: its outputs are the model's
/// bits for every layer kind, batch and thread count, it is a snapshot that later changes to the model do not reach, and
/// the packed product (<see cref="IPackingGemm"/>) gives the bits of the product that packs on every call.
/// </summary>
[Collection(ThreadCountCollection.Name)]
public sealed class PredictorTests
{
    public static TheoryData<string, string, double, string?> Architectures => new()
    {
        { "ReLU;ReLU;Linear", "784;1024;512;10", 1, null },
        { "ReLU;ReLU;Linear", "784;1024;512;10", 0.05, null },
        { "ReLU;BatchNormalization;Sigmoid;Softmax", "300;257;33;7", 1, null },
        { "ReLU;ReLU;Linear", "300;257;130;7", 0.2, null },
        { "Conv(out=3, kernel=3, padding=1);ReLU;MaxPool(2);Flatten;ReLU;Linear", "192;40;3", 1, "3,8,8" },
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void A_predictor_gives_the_bits_of_the_model_for_every_batch_and_thread_count(string layers, string sizes, double density, string? inputShape)
    {
        var model = Model.Create(sizes, layers: layers, weights: "He", density: density, seed: 5, inputShape: inputShape);
        var predictor = model.CreatePredictor();
        var rng = new Rng(9);
        int before = Parallelism.Threads;
        try
        {
            // below 12 rows the dense products are dot products of W's rows, from 12 the packed path, past 256 rows
            // several row tiles, past 1 024 several chunks; a sparse layer takes prepared rows below 4 rows, then panels
            foreach (int n in new[] { 1, 5, 11, 12, 13, 40, 100, 300, 1030 })
            {
                var X = new Matrix<float>(n, model.InputSize);
                for (int i = 0; i < X.Length; i++) X.AsSpan()[i] = (float)rng.Uniform(-1, 1);
                foreach (int threads in new[] { 1, 2, 3 })
                {
                    Parallelism.Threads = threads;
                    Assert.True(model.Predict(X).AsSpan().SequenceEqual(predictor.Predict(X).AsSpan()), $"batch {n}, {threads} threads");
                }
            }
        }
        finally
        {
            Parallelism.Threads = before;
        }
    }

    [Fact]
    public void Threads_predicting_at_once_with_a_predictor_get_the_outputs_of_one_thread()
    {
        // sparse layers large enough that a row's products split over the threads (prepared rows) and calls overlap
        var predictor = Model.Create("64-512-256-3", weights: "He", density: 0.5, seed: 7).CreatePredictor();
        var rng = new Rng(11);
        var batches = new[] { 1, 2, 3, 5, 17, 40, 1 }.Select(n => TestData.Random(n, 64, rng).Convert<float>()).ToArray();
        var expected = batches.Select(X => predictor.Predict(X).AsSpan().ToArray()).ToArray();
        int mismatches = 0;
        using var start = new Barrier(8);
        var threads = Enumerable.Range(0, 8).Select(thread => new Thread(() =>
        {
            start.SignalAndWait();
            for (int round = 0; round < 60; round++)
            {
                int b = (thread * 5 + round * 3) % batches.Length;
                if (!predictor.Predict(batches[b]).AsSpan().SequenceEqual(expected[b])) Interlocked.Increment(ref mismatches);
            }
        })).ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());
        Assert.Equal(0, mismatches);
    }

    [Fact]
    public void A_predictor_is_a_snapshot_of_the_weights_when_it_was_made()
    {
        var model = Model.Create("20-64-3", weights: "He", seed: 2);
        var predictor = model.CreatePredictor();
        var rng = new Rng(3);
        var X = TestData.Random(30, 20, rng).Convert<float>();   // 30 rows: the packed products
        var before = model.Predict(X);
        model.Train(Dataset.FromLabels(X, [.. Enumerable.Range(0, 30).Select(i => i % 3)]), learningRate: 0.1, epochs: 1, batchSize: 10);
        var W = ((LinearLayer<float>)model.Network.Layers[0]).W;
        W[0, 0] += 1;
        var after = model.Predict(X);
        Assert.False(before.AsSpan().SequenceEqual(after.AsSpan()));
        Assert.True(predictor.Predict(X).AsSpan().SequenceEqual(before.AsSpan()));
        Assert.True(model.CreatePredictor().Predict(X).AsSpan().SequenceEqual(after.AsSpan()));
    }

    [Fact]
    public void A_predictor_keeps_the_preprocessing_and_the_class_names()
    {
        var network = Model.Create("4-8-3", weights: "He", seed: 4).Network;
        var model = new Model(network, new InputPreprocessing(true, [1, 2, 3, 4], [0.5, 2, 1, 4])) { ClassNames = ["a", "b", "c"] };
        var predictor = model.CreatePredictor();
        var X = Matrix<float>.FromRows([10, 20, 30, 40], [0, 255, 1, 2]);
        Assert.Equal(["a", "b", "c"], predictor.ClassNames);
        Assert.Equal((4, 3), (predictor.InputSize, predictor.OutputSize));
        Assert.True(model.PredictProbabilities(X).AsSpan().SequenceEqual(predictor.PredictProbabilities(X).AsSpan()));
        Assert.Equal(model.PredictLabels(X), predictor.PredictLabels(X));
        Assert.Equal(model.Predict(X.Row(1)), predictor.Predict(X.Row(1)));
        Assert.Equal(model.PredictLabel(X.Row(0)), predictor.PredictLabel(X.Row(0)));
    }

    [Fact]
    public void A_diverged_network_is_not_served()
    {
        var model = Model.Create("4-8-3", seed: 4);
        ((LinearLayer<float>)model.Network.Layers[1]).B[0, 1] = float.NaN;
        var e = Assert.Throws<InvalidOperationException>(() => model.CreatePredictor());
        Assert.Contains("b of layer 2", e.Message);
        Assert.Contains("not finite", e.Message);
        Assert.Contains("not served", e.Message);
    }

    public static TheoryData<string> PackingKernels => new(new[]
    {
        "in use", PackedGemm<Avx512Kernel8x32>.IsSupported ? "avx512" : null, PackedGemm<Avx2Kernel6x16>.IsSupported ? "avx2" : null,
    }.OfType<string>());

    /// <summary>The packed GEMM of a kernel of <see cref="PackingKernels"/>; null for "in use".</summary>
    private static IPackingGemm? Packing(string kernel) => kernel switch
    {
        "avx512" => new PackedGemm<Avx512Kernel8x32>(),
        "avx2" => new PackedGemm<Avx2Kernel6x16>(),
        _ => null,
    };

    [Theory]
    [MemberData(nameof(PackingKernels))]
    public void Products_with_W_packed_once_are_the_bits_of_products_that_pack_it(string kernel)
    {
        // "in use": PreparedWeights with the GEMM of this process (the managed one, which packs nothing, where the CPU has no AVX2)
        IPackingGemm? packing = Packing(kernel);
        var gemm = packing as IGemm<float> ?? Kernels<float>.Gemm;
        // past one k-slice (256) with a partial last one, partial column panels, one row to several row tiles (256 rows)
        Gen.Select(Gen.Int[1, 300], Gen.Int[1, 200], Gen.Int[1, 600], Gen.ULong).Sample((m, n, k, seed) =>
        {
            var rng = new Rng(seed);
            var A = TestData.Random(m, k, rng).Convert<float>();
            var W = TestData.Random(n, k, rng).Convert<float>();
            var expected = new float[m * n];
            gemm.Multiply(false, true, m, n, k, A.AsSpan(), W.AsSpan(), expected);
            var C = new Matrix<float>(m, n);
            C.Fill(float.NaN);   // every element must be written
            if (packing is null) new PreparedWeights(W).Multiply(A, C);
            else
            {
                var packed = new float[packing.PackedLength(n, k)];
                packing.PackTransposed(W.AsSpan(), n, k, packed);
                packing.MultiplyPacked(m, n, k, A.AsSpan(), W.AsSpan(), packed, C.AsSpan());
            }
            Assert.True(expected.AsSpan().SequenceEqual(C.AsSpan()), $"{m}×{n}×{k}");
        }, iter: 60);
    }

    [Theory]
    [MemberData(nameof(PackingKernels))]
    public void Products_of_a_few_rows_read_from_the_rows_in_eights_are_the_bits_of_the_rows_themselves(string kernel)
    {
        // 1–11 rows of A (dot products of rows): B's rows in eights for all but the last n mod 8 rows and k mod 8 columns
        var packing = Packing(kernel) ?? Kernels<float>.Gemm as IPackingGemm;
        if (packing is null) return;   // the managed GEMM packs nothing
        Gen.Select(Gen.Int[1, 11], Gen.Int[1, 150], Gen.Int[1, 300], Gen.ULong).Sample((m, n, k, seed) =>
        {
            var rng = new Rng(seed);
            var A = TestData.Random(m, k, rng).Convert<float>();
            var W = TestData.Random(n, k, rng).Convert<float>();
            var expected = new float[m * n];
            ((IGemm<float>)packing).Multiply(false, true, m, n, k, A.AsSpan(), W.AsSpan(), expected);
            var packed = new float[packing.PackedLength(n, k)];
            packing.PackTransposed(W.AsSpan(), n, k, packed);
            var C = new float[m * n];
            C.AsSpan().Fill(float.NaN);   // every element must be written
            packing.MultiplyPacked(m, n, k, A.AsSpan(), W.AsSpan(), packed, C);
            Assert.True(expected.AsSpan().SequenceEqual(C), $"{m}×{n}×{k}");
        }, iter: 300);
    }
}
