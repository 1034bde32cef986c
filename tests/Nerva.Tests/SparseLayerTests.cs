using Nerva;
using Nerva.Activations;
using Nerva.Kernels;
using Nerva.Layers;
using Nerva.Optimizers;
using Nerva.Sparse;
using Xunit.Abstractions;

namespace Nerva.Tests;

/// <summary>
/// Sparse (CSR) layers against dense layers with the same weights: the dense layer's W is the sparse W with
/// zeros off the support, and its DW, masked to the support, must equal the sparse DW. Covers every layer
/// kind, every optimizer, density 1 (full support) and the kernels' thread-count independence.
/// </summary>
[Collection(ThreadCountCollection.Name)]
public sealed class SparseLayerTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, Func<int, int, Rng, double, LinearLayer<double>>> Kinds = new()
    {
        ["Linear"] = (D, K, rng, d) => new LinearLayer<double>(D, K, rng, density: d),
        ["ReLU"] = (D, K, rng, d) => new ActivationLayer<double, ReLU<double>>(D, K, default, rng, density: d),
        ["LeakyReLU"] = (D, K, rng, d) => new ActivationLayer<double, LeakyReLU<double>>(D, K, new(0.1), rng, density: d),
        ["AllReLU"] = (D, K, rng, d) => new ActivationLayer<double, AllReLU<double>>(D, K, new(-0.3), rng, density: d),
        ["TReLU"] = (D, K, rng, d) => new ActivationLayer<double, TReLU<double>>(D, K, new(0.05), rng, density: d),
        ["Sigmoid"] = (D, K, rng, d) => new ActivationLayer<double, Sigmoid<double>>(D, K, default, rng, density: d),
        ["HyperbolicTangent"] = (D, K, rng, d) => new ActivationLayer<double, HyperbolicTangent<double>>(D, K, default, rng, density: d),
        ["ELU"] = (D, K, rng, d) => new ActivationLayer<double, ELU<double>>(D, K, new(0.7), rng, density: d),
        ["SReLU"] = (D, K, rng, d) => new SReLULayer<double>(D, K, new(0.1, -0.2, 0.3, 0.25), rng, density: d),
        ["Softmax"] = (D, K, rng, d) => new SoftmaxLayer<double>(D, K, rng, density: d),
        ["LogSoftmax"] = (D, K, rng, d) => new LogSoftmaxLayer<double>(D, K, rng, density: d),
    };

    public static TheoryData<string, string> KindsAndOptimizers()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in Kinds.Keys)
            foreach (var optimizer in Optimizers.Keys) data.Add(kind, optimizer);
        return data;
    }

    private static readonly Dictionary<string, OptimizerSpec> Optimizers = new()
    {
        ["GradientDescent"] = new GradientDescent(),
        ["Momentum"] = new Momentum(0.9),
        ["Nesterov"] = new Nesterov(0.8),
        ["Adam"] = new Adam(),
    };

    [Theory]
    [MemberData(nameof(KindsAndOptimizers))]
    public void Sparse_layer_equals_the_dense_layer_with_masked_weights(string kind, string optimizer)
    {
        foreach (var (N, D, K, density) in new[] { (7, 13, 5, 0.3), (1, 40, 17, 0.1), (3, 25, 11, 0.4), (20, 3, 9, 0.8) })
        {
            var rng = new Rng(11);
            var sparse = Kinds[kind](D, K, rng, density);
            var dense = Kinds[kind](D, K, rng, 1);
            Assert.True(sparse.IsSparse);
            Assert.False(dense.IsSparse);
            dense.LoadWeights(sparse.DenseWeights());
            TestData.Random(1, K, rng).CopyTo(sparse.B);
            sparse.B.CopyTo(dense.B);
            sparse.Optimizer = Optimizers[optimizer];
            dense.Optimizer = Optimizers[optimizer];
            var mask = sparse.DenseWeights();
            var X = TestData.Random(N, D, rng, -2, 2);
            // two steps, so that momentum and Adam's moments enter the second update
            for (int step = 0; step < 2; step++) CompareStep(sparse, dense, X, TestData.Random(N, K, rng), mask, $"{kind}/{optimizer} N={N} D={D} K={K} step {step}");
        }
    }

    private static void CompareStep(LinearLayer<double> sparse, LinearLayer<double> dense, Matrix<double> X, Matrix<double> DY, Matrix<double> support, string what)
    {
        var Ys = new Matrix<double>(0, 0);
        var Yd = new Matrix<double>(0, 0);
        sparse.Feedforward(X, Ys);
        dense.Feedforward(X, Yd);
        TestData.AssertClose(Yd, Ys, 1e-12, what + " Y");
        sparse.Backpropagate(Ys, DY);
        dense.Backpropagate(Yd, DY);
        TestData.AssertClose(dense.DX, sparse.DX, 1e-12, what + " DX");
        TestData.AssertClose(dense.Db, sparse.Db, 1e-12, what + " Db");
        var maskedDW = MatrixOperations.Hadamard(dense.DW, Indicator(support));
        var sparseDW = Spread(sparse.SparseW!, sparse.SparseDW!);
        TestData.AssertClose(maskedDW, sparseDW, 1e-12, what + " DW");
        // the dense layer's optimizer sees DW masked, as if W were dense with fixed zeros
        maskedDW.CopyTo(dense.DW);
        sparse.Optimize(0.1);
        dense.Optimize(0.1);
        TestData.AssertClose(dense.DenseWeights(), sparse.DenseWeights(), 1e-12, what + " W after the step");
        TestData.AssertClose(dense.B, sparse.B, 1e-12, what + " b after the step");
    }

    private static Matrix<double> Indicator(Matrix<double> W)
    {
        var result = new Matrix<double>(W.Rows, W.Cols);
        var w = W.AsSpan();
        var r = result.AsSpan();
        for (int k = 0; k < w.Length; k++) r[k] = w[k] != 0 ? 1 : 0;
        return result;
    }

    /// <summary>Values in W's entry order, spread into a dense matrix.</summary>
    internal static Matrix<double> Spread(CsrMatrix<double> W, Matrix<double> values)
    {
        var result = new Matrix<double>(W.Rows, W.Cols);
        for (int e = 0; e < W.NonZeroCount; e++) result[W.EntryRows[e], W.Columns[e]] = values[0, e];
        return result;
    }

    [Fact]
    public void Full_support_in_float_gives_the_dense_results_up_to_float_rounding()
    {
        var rng = new Rng(3);
        int N = 37, D = 150, K = 70;
        var sparse = new ActivationLayer<float, ReLU<float>>(D, K, default, rng, density: 0.5);
        var dense = new ActivationLayer<float, ReLU<float>>(D, K, default, rng);
        // every weight non-zero: loading takes all K·D positions as the support
        var W = TestData.Random(K, D, rng, 0.01, 1).Convert<float>();
        sparse.LoadWeights(W);
        dense.LoadWeights(W);
        Assert.Equal(K * D, sparse.WeightCount);
        var X = TestData.Random(N, D, rng).Convert<float>();
        var DY = TestData.Random(N, K, rng).Convert<float>();
        var Ys = new Matrix<float>(0, 0);
        var Yd = new Matrix<float>(0, 0);
        sparse.Feedforward(X, Ys);
        dense.Feedforward(X, Yd);
        sparse.Backpropagate(Ys, DY);
        dense.Backpropagate(Yd, DY);
        // float32 sums of D = 150 terms of size ≤ 1 in different orders: a few ulps of the largest partial sums
        AssertNear(Yd, Ys, 2e-4, "Y");
        AssertNear(dense.DX, sparse.DX, 2e-4, "DX");
        AssertNear(dense.DW, Reshape(sparse.SparseDW!, K, D), 2e-4, "DW");
    }

    private static Matrix<float> Reshape(Matrix<float> values, int rows, int cols) => new(rows, cols, values.AsSpan().ToArray());

    private static void AssertNear(Matrix<float> expected, Matrix<float> actual, double tolerance, string what)
    {
        var e = expected.AsSpan();
        var a = actual.AsSpan();
        Assert.Equal(e.Length, a.Length);
        for (int k = 0; k < e.Length; k++)
            Assert.True(Math.Abs(e[k] - a[k]) <= tolerance * Math.Max(1, Math.Abs(e[k])), $"{what}[{k}]: dense {e[k]}, sparse {a[k]}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    public void Sparse_products_are_bit_identical_for_any_thread_count(int vectors)
    {
        var rng = new Rng(5);
        // 126 000 entries × a batch of 112: above the 2²³ multiply-adds from which the products run on several threads
        int N = 100, D = 700, K = 300;
        var W = CsrMatrix<float>.Random(K, D, 0.6, rng);
        foreach (ref var w in W.Values.AsSpan()) w = (float)rng.Uniform(-1, 1);
        var X = TestData.Random(N, D, rng).Convert<float>();
        var DZ = TestData.Random(N, K, rng).Convert<float>();
        var b = TestData.Random(1, K, rng).Convert<float>();
        var results = new List<float[]>();
        int saved = Parallelism.Threads;
        try
        {
            foreach (int threads in new[] { 1, 2, 3 })
            {
                Parallelism.Threads = threads;
                Panels<float> Xt = new(), DZt = new(), Zt = new(), DXt = new();
                var DW = new Matrix<float>(1, W.NonZeroCount);
                SparseProducts.ToPanels(X, Xt, vectors);
                SparseProducts.ToPanels(DZ, DZt, vectors);
                SparseProducts.Feedforward(W, W.Values, Xt, b, Zt);
                SparseProducts.WeightGradient(W, DZt, Xt, DW);
                var byColumn = new Matrix<float>(0, 0);
                SparseProducts.ValuesByColumn(W, W.Values, byColumn);
                SparseProducts.InputGradient(W, byColumn, DZt, DXt);
                results.Add([.. Zt.AsSpan(), .. DW.AsSpan(), .. DXt.AsSpan()]);
            }
        }
        finally
        {
            Parallelism.Threads = saved;
        }
        Assert.Equal(results[0], results[1]);
        Assert.Equal(results[0], results[2]);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 9, 1)]
    [InlineData(8, 8, 2)]
    [InlineData(100, 3072, 7)]
    [InlineData(100, 3072, 3)]
    [InlineData(33, 17, 1)]
    [InlineData(300, 5, 8)]
    public void Transposes_to_and_from_the_panel_layout_are_exact(int N, int D, int vectors)
    {
        var X = TestData.Random(N, D, new Rng(9)).Convert<float>();
        var Xp = new Panels<float>();
        SparseProducts.ToPanels(X, Xp, vectors);
        int width = 16 * vectors;
        Assert.Equal(width, Xp.Width);
        Assert.Equal((N + width - 1) / width, Xp.Count);
        Assert.Equal(D, Xp.Rows);
        for (int p = 0; p < Xp.Count; p++)
        {
            unsafe
            {
                fixed (float* row = Xp.Panel(p)) Assert.Equal(0, (long)row % 64); // every row whole cache lines
            }
            for (int d = 0; d < D; d++)
            for (int l = 0; l < width; l++)
                Assert.Equal(p * width + l < N ? X[p * width + l, d] : 0f, Xp[p, d, l]);
        }
        var back = new Matrix<float>(0, 0);
        SparseProducts.FromPanels(Xp, N, back);
        Assert.Equal(X.AsSpan().ToArray(), back.AsSpan().ToArray());
    }

    [Fact]
    public void Dot_products_reduced_four_at_a_time_equal_those_reduced_alone()
    {
        var rng = new Rng(21);
        for (int trial = 0; trial < 1000; trial++)
        {
            var v = new System.Runtime.Intrinsics.Vector512<float>[4];
            for (int j = 0; j < 4; j++)
            {
                var lanes = new float[16];
                for (int l = 0; l < 16; l++) lanes[l] = (float)(rng.Uniform(-1, 1) * Math.Pow(10, rng.NextInt(12) - 6));
                v[j] = System.Runtime.Intrinsics.Vector512.Create(lanes);
            }
            var four = SparseProducts.Sum4(v[0], v[1], v[2], v[3]);
            for (int j = 0; j < 4; j++) Assert.Equal(BitConverter.SingleToInt32Bits(SparseProducts.Sum(v[j])), BitConverter.SingleToInt32Bits(four[j]));
        }
    }

    [Fact]
    public void Row_layout_products_sum_each_row_in_one_chain_in_column_order()
    {
        // rows of 0 to 19 entries, so that the four rows side by side end at every offset from one another
        var rng = new Rng(8);
        const int D = 40;
        var rowStart = new int[21];
        var columns = new List<int>();
        for (int k = 0; k < 20; k++)
        {
            columns.AddRange(Enumerable.Range(0, D).OrderBy(_ => rng.NextDouble()).Take((k * 7) % 20).Order());
            rowStart[k + 1] = columns.Count;
        }
        var values = Enumerable.Range(0, columns.Count).Select(_ => (float)rng.Uniform(-1, 1)).ToArray();
        var W = CsrMatrix<float>.FromCsr(20, D, rowStart, [.. columns], values);
        var X = new Matrix<float>(3, D);
        for (int i = 0; i < X.Length; i++) X.AsSpan()[i] = (float)rng.Uniform(-2, 2);
        var b = new Matrix<float>(1, 20);
        for (int k = 0; k < 20; k++) b[0, k] = k * 0.125f;
        var Z = new Matrix<float>(0, 0);
        SparseProducts.FeedforwardRows(W, new Matrix<float>(1, values.Length, values), X, b, Z);
        for (int i = 0; i < X.Rows; i++)
            for (int k = 0; k < 20; k++)
            {
                float a = 0;
                for (int e = rowStart[k]; e < rowStart[k + 1]; e++) a = MathF.FusedMultiplyAdd(values[e], X[i, columns[e]], a);
                Assert.Equal(BitConverter.SingleToInt32Bits(b[0, k] + a), BitConverter.SingleToInt32Bits(Z[i, k]));
                double exact = b[0, k] + Enumerable.Range(rowStart[k], rowStart[k + 1] - rowStart[k]).Sum(e => (double)values[e] * X[i, columns[e]]);
                Assert.Equal(exact, Z[i, k], 1e-5);
            }
    }

    [Fact]
    public void Panel_width_follows_the_gathered_rows_not_the_CPU()
    {
        Assert.Equal(7, SparseProducts.PanelVectors<float>(3072, 100));   // 1.4 MB: the whole batch in one panel
        Assert.Equal(8, SparseProducts.PanelVectors<float>(1024, 1000));  // at most 8 vectors
        Assert.Equal(1, SparseProducts.PanelVectors<float>(65536, 100));  // 4 MB per vector: one line per panel row
        Assert.Equal(1, SparseProducts.PanelVectors<float>(16384, 100));  // 1 MB per vector: room for 2, but two vectors a row are slower than one
        Assert.Equal(1, SparseProducts.PanelVectors<float>(8193, 100));   // room for 3
        Assert.Equal(4, SparseProducts.PanelVectors<float>(8192, 100));   // room for 4
        Assert.Equal(2, SparseProducts.PanelVectors<float>(1024, 20));    // what a batch of 20 needs
        Assert.Equal(1, SparseProducts.PanelVectors<float>(10, 1));
    }

    [Fact]
    public void Random_support_has_exactly_the_rounded_count_and_consistent_indices()
    {
        var rng = new Rng(1);
        foreach (var (K, D, density) in new[] { (1024, 3072, 0.0423828125), (10, 7, 0.5), (3, 3, 0.01), (50, 40, 1.0) })
        {
            var W = CsrMatrix<double>.Random(K, D, density, rng);
            long expected = Math.Max(1, (long)Math.Round(density * K * D, MidpointRounding.AwayFromZero));
            Assert.Equal(expected, W.NonZeroCount);
            for (int e = 1; e < W.NonZeroCount; e++) Assert.True(W.Position(e) > W.Position(e - 1));
            // the column index lists every entry once, in row order within a column
            var seen = new bool[W.NonZeroCount];
            for (int j = 0; j < D; j++)
                for (int i = W.ColumnStart[j]; i < W.ColumnStart[j + 1]; i++)
                {
                    int e = W.ColumnEntries[i];
                    Assert.False(seen[e]);
                    seen[e] = true;
                    Assert.Equal(j, W.Columns[e]);
                    Assert.Equal(W.EntryRows[e], W.ColumnRows[i]);
                    if (i > W.ColumnStart[j]) Assert.True(W.ColumnRows[i] > W.ColumnRows[i - 1]);
                }
            Assert.All(seen, Assert.True);
        }
        Assert.Equal(133325, CsrMatrix<float>.Random(1024, 3072, 0.0423828125, new Rng(2)).NonZeroCount);
    }

    [Fact]
    public void Dense_round_trip_keeps_support_and_values()
    {
        var rng = new Rng(4);
        var W = CsrMatrix<double>.Random(9, 11, 0.3, rng);
        foreach (ref var w in W.Values.AsSpan()) w = rng.Uniform(0.5, 1);
        var copy = CsrMatrix<double>.FromDense(W.ToDense());
        Assert.Equal(W.Columns, copy.Columns);
        Assert.Equal(W.RowStart, copy.RowStart);
        Assert.Equal(W.Values.AsSpan().ToArray(), copy.Values.AsSpan().ToArray());
        Assert.True(W.Contains(W.EntryRows[0], W.Columns[0]));
    }

    [Fact]
    public void Erdos_Renyi_densities_match_the_original()
    {
        Check([3072, 1024, 1024, 10], 0.05, [0.0423828125, 0.06357421875, 1]);
        Check([3072, 1024, 512, 10], 0.05, [0.041299715909090914, 0.09292436079545456, 1.0]);
        Check([3072, 1024, 512, 10], 0.01, [0.007776, 0.017496, 0.608859]);
        Check([784, 1024, 512, 10], 0.05, [0.041412, 0.053873, 1]);
        Assert.Equal([1.0, 1.0], ErdosRenyi.Densities(1, [5, 4, 3]));

        static void Check(int[] sizes, double overall, double[] expected)
        {
            var densities = ErdosRenyi.Densities(overall, sizes);
            Assert.True(densities.Zip(expected).Sum(p => Math.Abs(p.First - p.Second)) <= 2e-6, string.Join(", ", densities));
            // the layers together store the overall fraction of weights
            double stored = 0, total = 0;
            for (int i = 0; i < densities.Length; i++)
            {
                stored += densities[i] * sizes[i] * sizes[i + 1];
                total += (double)sizes[i] * sizes[i + 1];
            }
            Assert.Equal(overall, stored / total, 9);
        }
    }

    [Fact]
    public void Original_reference_model_prints_the_original_densities()
    {
        var mlp = Specs.NetworkBuilder.Build(["ReLU", "ReLU", "Linear"], [3072, 1024, 1024, 10], [0], [WeightInitializer.Xavier], [new Nesterov(0.9)], new Rng(1),
            ErdosRenyi.Densities(0.05, [3072, 1024, 1024, 10]));
        var layers = mlp.Layers.OfType<LinearLayer<float>>().ToArray();
        Assert.Equal([133325, 66662, 10240], layers.Select(l => l.WeightCount));
        Assert.StartsWith("Sparse(input_size=3072, output_size=1024, density=0.042382877, optimizer=Nesterov(0.90000), activation=ReLU())", layers[0].ToString());
        Assert.StartsWith("Dense(input_size=1024, output_size=10", layers[2].ToString());
        output.WriteLine(mlp.ToString());
    }

    [Fact]
    public void Dense_accessors_of_a_sparse_layer_explain_what_to_use()
    {
        var layer = new LinearLayer<float>(5, 4, new Rng(1), density: 0.5);
        var e = Assert.Throws<InvalidOperationException>(() => layer.W);
        Assert.Contains("SparseW", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearLayer<float>(5, 4, density: 0));
        Assert.Throws<ArgumentException>(() => layer.LoadWeights(new Matrix<float>(4, 6)));
    }

    /// <summary>
    /// A product of a few rows split over the threads by stored weights (batch-1 inference) gives the bits of one thread,
    /// empty rows first and last included (the parts' boundaries are searched in the row offsets).
    /// </summary>
    [Fact]
    public void A_few_rows_split_over_the_threads_give_the_bits_of_one()
    {
        var rng = new Rng(12);
        var dense = TestData.Random(300, 200, rng);
        for (int k = 0; k < 300; k++)
            for (int j = 0; j < 200; j++)
                if (k < 7 || k > 290 || (k % 5 == 0) || rng.NextDouble() > 0.1) dense[k, j] = 0;   // empty rows at both ends and between
        var W = CsrMatrix<float>.FromDense(dense.Convert<float>());
        var values = new Matrix<float>(1, W.NonZeroCount, W.Values.AsSpan().ToArray());
        var b = TestData.Random(1, 300, rng).Convert<float>();
        var Z = new Matrix<float>(0, 0);
        (int threads, long split) = (Kernels.Parallelism.Threads, SparseProducts.RowsSplitWork);
        try
        {
            foreach (int rows in new[] { 1, 3 })
            {
                var X = TestData.Random(rows, 200, rng).Convert<float>();
                Kernels.Parallelism.Threads = 1;
                SparseProducts.FeedforwardRows(W, values, X, b, Z);
                float[] one = Z.AsSpan().ToArray();
                SparseProducts.RowsSplitWork = 1;
                foreach (int t in new[] { 2, 3, 4 })
                {
                    Kernels.Parallelism.Threads = t;
                    Z.Fill(float.NaN);   // every output written again
                    SparseProducts.FeedforwardRows(W, values, X, b, Z);
                    Assert.Equal(one, Z.AsSpan().ToArray());
                }
                SparseProducts.RowsSplitWork = split;
            }
        }
        finally
        {
            (Kernels.Parallelism.Threads, SparseProducts.RowsSplitWork) = (threads, split);
        }
    }
}
