using Nerva;
using Nerva.Data;
using Nerva.Layers;
using Nerva.Optimizers;
using Nerva.Specs;

namespace Nerva.Tests;

/// <summary>Sparse layers in the weights file as SciPy CSR arrays: exact round trips, and SciPy's matrices read back.</summary>
public sealed class SparseWeightsFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nerva-sparse-file-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static MultilayerPerceptron<float> Network(ulong seed, double density = 0.3)
        => NetworkBuilder.Build(["ReLU", "ReLU", "Linear"], [40, 30, 20, 3], [0], [WeightInitializer.Xavier], [new Momentum(0.9)], new Rng(seed), [density, 0.5, 1]);

    [Fact]
    public void A_round_trip_restores_support_and_values_bit_for_bit_zeros_on_the_support_included()
    {
        var saved = Network(1);
        var W = ((LinearLayer<float>)saved.Layers[0]).SparseW!;
        W.Values[0, 0] = 0f;           // a stored zero stays stored
        W.Values[0, 5] = -0f;
        W.Values[0, 7] = float.Epsilon; // the smallest subnormal survives too
        string path = Path.Combine(_directory, "w.npz");
        WeightsFile.Save(saved, path);

        var loaded = Network(2, density: 0.1); // another support and another size
        WeightsFile.Load(loaded, path);
        for (int l = 0; l < 2; l++)
        {
            var expected = ((LinearLayer<float>)saved.Layers[l]).SparseW!;
            var actual = ((LinearLayer<float>)loaded.Layers[l]).SparseW!;
            Assert.Equal(expected.RowStart, actual.RowStart);
            Assert.Equal(expected.Columns, actual.Columns);
            Assert.Equal(expected.Values.AsSpan().ToArray().Select(BitConverter.SingleToInt32Bits), actual.Values.AsSpan().ToArray().Select(BitConverter.SingleToInt32Bits));
            Assert.Equal(expected.NonZeroCount, ((LinearLayer<float>)loaded.Layers[l]).SparseDW!.Length);
        }
        // the column index is rebuilt for the new support: both networks give the same outputs and input gradients
        var X = TestData.Random(5, 40, new Rng(3)).Convert<float>();
        Matrix<float> Y1 = new(0, 0), Y2 = new(0, 0);
        saved.Feedforward(X, Y1);
        loaded.Feedforward(X, Y2);
        Assert.Equal(Y1.AsSpan().ToArray(), Y2.AsSpan().ToArray());
    }

    [Fact]
    public void SciPy_CSR_arrays_load_with_their_exact_support()
    {
        string path = Path.Combine(_directory, "scipy.npz");
        NpyTests.RunNumPy(
            "import numpy as np, scipy.sparse as sp; " +
            "m = sp.random(30, 40, density=0.3, format='csr', dtype=np.float32, random_state=3); m.data[0] = 0; " +
            "n = sp.random(20, 30, density=0.5, format='csr', dtype=np.float64, random_state=4); " +
            $"np.savez('{path}', W1_data=m.data, W1_indices=m.indices, W1_indptr=m.indptr, W1_shape=np.array(m.shape), b1=np.zeros(30, np.float32), " +
            "W2_data=n.data, W2_indices=n.indices.astype(np.int64), W2_indptr=n.indptr.astype(np.int64), W2_shape=np.array(n.shape), b2=np.zeros(20, np.float32), " +
            "W3=np.ones((3, 20), np.float32), b3=np.zeros(3, np.float32), dense1=m.toarray(), dense2=n.toarray().astype(np.float32), nnz=np.array([m.nnz, n.nnz]))");
        var arrays = Npz.Read(path);
        var mlp = Network(5);
        WeightsFile.Load(mlp, path);
        var nnz = arrays["nnz"].ToInt64();
        for (int l = 0; l < 2; l++)
        {
            var layer = (LinearLayer<float>)mlp.Layers[l];
            Assert.Equal(nnz[l], layer.WeightCount); // the stored zero of W1 counts
            Assert.Equal(arrays[$"dense{l + 1}"].ToFloats(), layer.DenseWeights().AsSpan().ToArray());
        }
        // and into a dense network, the same matrices
        var dense = NetworkBuilder.Build(["ReLU", "ReLU", "Linear"], [40, 30, 20, 3], [0], [WeightInitializer.Xavier], [new Momentum(0.9)], new Rng(6));
        WeightsFile.Load(dense, path);
        Assert.Equal(arrays["dense1"].ToFloats(), ((LinearLayer<float>)dense.Layers[0]).W.AsSpan().ToArray());
    }
}
