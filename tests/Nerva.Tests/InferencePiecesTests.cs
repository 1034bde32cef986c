namespace Nerva.Tests;

/// <summary>
/// A batch fed in pieces over the threads (<see cref="InferencePieces"/>) gives the bits of one thread, for every
/// fully connected layer kind, and a row's outputs are the same bits in any batch of 17 rows or more; the pieces are
/// taken where they pay and nowhere else.
/// </summary>
[Collection(ThreadCountCollection.Name)]
public sealed class InferencePiecesTests
{
    public static TheoryData<string, string, double, double> Architectures => new()
    {
        { "ReLU;ReLU;Linear", "64;512;256;3", 0.3, 0 },
        { "ReLU;BatchNormalization;Sigmoid;Softmax", "64;512;256;3", 0.3, 0.3 },
        { "LeakyReLU(0.1);ELU(0.5);LogSoftmax", "64;512;256;3", 0.4, 0 },
        { "SReLU(al=0.1, tl=-0.2, ar=0.3, tr=0.9);AllReLU(0.2);Linear", "64;512;256;3", 0.5, 0.2 },
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void A_batch_in_pieces_gives_the_bits_of_one_thread(string layers, string sizes, double density, double dropout)
    {
        var model = Model.Create(sizes, layers: layers, weights: "He", density: density, dropout: dropout, seed: 3);
        int before = Kernels.Parallelism.Threads;
        try
        {
            foreach (int rows in new[] { 64, 65, 100, 250, 1030, 2100 })
            {
                var X = Inputs(rows, model.InputSize, (ulong)rows);
                Kernels.Parallelism.Threads = 1;
                var expected = model.Predict(X).AsSpan().ToArray();
                foreach (int threads in new[] { 2, 3 })
                {
                    Kernels.Parallelism.Threads = threads;
                    Assert.True(InferencePieces.Count(model.Network, rows, threads) > 1, $"{rows} rows on {threads} threads are not fed in pieces");
                    Assert.True(model.Predict(X).AsSpan().SequenceEqual(expected), $"{rows} rows on {threads} threads");
                }
            }
        }
        finally
        {
            Kernels.Parallelism.Threads = before;
        }
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    [InlineData("ReLU;ReLU;Linear", "64;512;256;3", 1.0, 0)]
    public void A_row_has_the_same_bits_in_any_batch_of_17_rows_or_more(string layers, string sizes, double density, double dropout)
    {
        var model = Model.Create(sizes, layers: layers, weights: "He", density: density, dropout: dropout, seed: 5);
        var X = Inputs(1030, model.InputSize, 9);
        var whole = model.Predict(X).AsSpan().ToArray();   // two chunks of 515 rows
        foreach (var (first, count) in new[] { (0, 17), (17, 40), (57, 100), (157, 873) })
        {
            var part = new Matrix<float>(count, model.InputSize);
            X.AsSpan().Slice(first * model.InputSize, count * model.InputSize).CopyTo(part.AsSpan());
            Assert.True(model.Predict(part).AsSpan().SequenceEqual(whole.AsSpan(first * 3, count * 3)), $"rows {first}..{first + count}");
        }
    }

    [Fact]
    public void Pieces_are_taken_only_where_they_pay()
    {
        var sparse = Model.Create("64;512;256;3", weights: "He", density: 0.3, seed: 1).Network;
        var wide = Model.Create("16384;64;3", weights: "He", density: 0.01, seed: 1).Network;
        Assert.NotNull(((Layers.LinearLayer<float>)wide.Layers[0]).SparseW);
        Assert.Equal(2, InferencePieces.Count(sparse, 100, 2));
        Assert.Equal(3, InferencePieces.Count(sparse, 100, 8));                     // at least 32 rows a piece
        Assert.Equal(1, InferencePieces.Count(sparse, 100, 1));                     // one thread
        Assert.Equal(1, InferencePieces.Count(sparse, 63, 2));                      // too few rows
        Assert.Equal(1, InferencePieces.Count(Model.Create("64;512;256;3", weights: "He", seed: 1).Network, 100, 2));   // dense: 2-D tiles
        Assert.Equal(1, InferencePieces.Count(Model.Create("8;64;3", weights: "He", density: 0.3, seed: 1).Network, 64, 2));   // too little work
        // a sparse layer gathering from 16 384 rows: a piece's panel would take 8 MB
        Assert.Equal(1, InferencePieces.Count(wide, 1000, 2));
        var convolutional = Model.Create("512;64;3", layers: "Conv(out=3, kernel=3, padding=1);ReLU;MaxPool(2);Conv(out=4, kernel=2x1, stride=1);ELU(0.5);AvgPool(kernel=1, stride=1);Flatten;ReLU;Linear",
            weights: "He", density: 0.5, seed: 1, inputShape: "2,16,16").Network;
        Assert.Contains(convolutional.Layers, layer => layer is Layers.LinearLayer<float> { SparseW: not null });
        Assert.Equal(1, InferencePieces.Count(convolutional, 100, 2));
    }

    [Theory]
    [InlineData(100, 2, new[] { 0, 48, 100 })]         // 7 vectors of 16 rows: 3 and 4 (the last one short)
    [InlineData(65, 2, new[] { 0, 32, 65 })]
    [InlineData(1000, 3, new[] { 0, 336, 672, 1000 })]  // 63 vectors: 21 each (the last one short)
    public void Pieces_share_out_whole_vectors_of_16_rows(int rows, int pieces, int[] starts)
        => Assert.Equal(starts, Enumerable.Range(0, pieces + 1).Select(p => InferencePieces.Start(rows, pieces, p)));

    [Fact]
    public void Every_piece_of_a_batch_fed_in_pieces_has_at_least_the_minimum_rows()
    {
        var sparse = Model.Create("64;512;256;3", weights: "He", density: 0.3, seed: 1).Network;
        for (int rows = 1; rows <= 2100; rows++)
            foreach (int threads in new[] { 2, 3, 4, 8 })
            {
                int pieces = InferencePieces.Count(sparse, rows, threads);
                if (pieces == 1) continue;   // fed whole, as on one thread
                for (int p = 0; p < pieces; p++)
                    Assert.True(InferencePieces.Start(rows, pieces, p + 1) - InferencePieces.Start(rows, pieces, p) >= InferencePieces.MinimumRows,
                        $"{rows} rows in {pieces} pieces: piece {p} is short");
            }
    }

    [Theory]
    [InlineData(1030, new[] { 0, 515, 1030 })]
    [InlineData(1024, new[] { 0, 1024 })]
    [InlineData(2049, new[] { 0, 683, 1366, 2049 })]
    public void Chunks_are_as_even_as_they_go(int rows, int[] starts)
        => Assert.Equal(starts, Enumerable.Range(0, InferencePieces.Chunks(rows, 1024) + 1).Select(c => InferencePieces.ChunkStart(rows, 1024, c)));

    private static Matrix<float> Inputs(int rows, int cols, ulong seed)
    {
        var X = new Matrix<float>(rows, cols);
        var rng = new Rng(seed);
        for (int i = 0; i < X.Length; i++) X.AsSpan()[i] = (float)rng.Uniform(-1, 1);
        return X;
    }
}
