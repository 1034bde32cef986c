using CsCheck;
using Nerva;
using Nerva.Kernels;
using Nerva.Sparse;

namespace Nerva.Tests;

/// <summary>
/// A sparse layer's W prepared for the products of a few rows (<see cref="PreparedSparseRows"/>, AVX-512): the bits of the
/// product by rows (<see cref="SparseProducts.FeedforwardRows"/>) for any shape, any spread of the entries over the windows
/// of 31 columns and slices of 64 rows, values that are not finite where a row does not read them, zeros' signs, and any
/// thread count; and no preparing where it would be mostly padding.
/// </summary>
[Collection(ThreadCountCollection.Name)]
public sealed class PreparedSparseRowsTests
{
    [Fact]
    public void Prepared_rows_give_the_bits_of_the_product_by_rows()
    {
        if (!PreparedSparseRows.IsSupported) return;   // the CPU has no AVX-512: predictors use the product by rows itself
        // K across slices of 64 rows (1 to 200), D across windows of 31 columns (1 to 130), densities up to 1 (many steps a window)
        Gen.Select(Gen.Int[1, 200], Gen.Int[1, 130], Gen.Double[0.02, 1], Gen.Int[1, 3], Gen.ULong).Sample((K, D, density, N, seed) =>
        {
            var rng = new Rng(seed);
            var W = CsrMatrix<float>.Random(K, D, density, rng);
            for (int e = 0; e < W.NonZeroCount; e++) W.Values[0, e] = (float)rng.Uniform(-1, 1);
            var X = TestData.Random(N, D, rng).Convert<float>();
            var b = TestData.Random(1, K, rng).Convert<float>();
            var expected = new Matrix<float>(0, 0);
            SparseProducts.FeedforwardRows(W, W.Values, X, b, expected);
            var prepared = new PreparedSparseRowsProbe(W);
            var Z = new Matrix<float>(0, 0);
            prepared.Rows.Multiply(X, b, Z);
            Assert.True(expected.AsSpan().SequenceEqual(Z.AsSpan()), $"{K}×{D} at {density}, {N} rows");
        }, iter: 200);
    }

    [Fact]
    public void Columns_a_row_does_not_read_never_reach_it_and_zeros_keep_their_signs()
    {
        if (!PreparedSparseRows.IsSupported) return;
        // row 0 reads columns 0 and 40; row 1 column 5 with a stored 0 (0·∞ = NaN, as the product by rows gives); row 2 a
        // product that rounds to −0 with b = −0; row 3 nothing (b alone); every other column of x is ∞ or NaN
        var W = CsrMatrix<float>.FromCsr(4, 70, [0, 2, 3, 4, 4], [0, 40, 5, 9], [2f, -1f, 0f, -1e-30f]);
        var X = new Matrix<float>(1, 70);
        for (int j = 0; j < 70; j++) X[0, j] = j % 2 == 0 ? float.PositiveInfinity : float.NaN;
        (X[0, 0], X[0, 40], X[0, 5], X[0, 9]) = (1.5f, 3f, float.PositiveInfinity, 1e-30f);
        var b = Matrix<float>.FromRows([0.5, 1, -0.0, 2]);
        var prepared = new PreparedSparseRowsProbe(W, fill: 0);
        var Z = new Matrix<float>(0, 0);
        prepared.Rows.Multiply(X, b, Z);
        Assert.Equal(0.5f + MathF.FusedMultiplyAdd(-1f, 3f, 2f * 1.5f), Z[0, 0]);
        Assert.True(float.IsNaN(Z[0, 1]));
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(Z[0, 2]));
        Assert.Equal(2f, Z[0, 3]);
    }

    [Fact]
    public void The_split_over_the_threads_changes_no_bit()
    {
        if (!PreparedSparseRows.IsSupported) return;
        // the first 200 rows (three slices and more) store nothing: their outputs are b alone, whichever part they fall in
        var rng = new Rng(4);
        var upper = CsrMatrix<float>.Random(500, 300, 0.05, rng);
        int[] rowStart = [.. Enumerable.Repeat(0, 200), .. upper.RowStart];
        var W = CsrMatrix<float>.FromCsr(700, 300, rowStart, upper.Columns, [.. Enumerable.Range(0, upper.NonZeroCount).Select(_ => (float)rng.Uniform(-1, 1))]);
        var prepared = new PreparedSparseRowsProbe(W).Rows;
        var X = TestData.Random(3, 300, rng).Convert<float>();
        var b = TestData.Random(1, 700, rng).Convert<float>();
        (int threads, long split) = (Parallelism.Threads, SparseProducts.RowsSplitWork);
        try
        {
            Parallelism.Threads = 1;
            var one = new Matrix<float>(0, 0);
            prepared.Multiply(X, b, one);
            var byRows = new Matrix<float>(0, 0);
            SparseProducts.FeedforwardRows(W, W.Values, X, b, byRows);
            Assert.True(byRows.AsSpan().SequenceEqual(one.AsSpan()));
            SparseProducts.RowsSplitWork = 1;
            foreach (int t in new[] { 2, 3, 8 })
            {
                Parallelism.Threads = t;
                var Z = new Matrix<float>(3, 700);
                Z.Fill(float.NaN);   // every output written
                prepared.Multiply(X, b, Z);
                Assert.True(one.AsSpan().SequenceEqual(Z.AsSpan()), $"{t} threads");
            }
        }
        finally
        {
            (Parallelism.Threads, SparseProducts.RowsSplitWork) = (threads, split);
        }
    }

    [Fact]
    public void Windows_that_follow_the_rows_pad_less_than_fixed_ones()
    {
        if (!PreparedSparseRows.IsSupported) return;
        // a window at multiples of 31 columns makes every row of a slice wait for the one with the most entries there:
        // about 30 % entries at this shape; windows from the first column a row has yet to take hold about 45 %
        var W = CsrMatrix<float>.Random(1024, 784, 0.045, new Rng(7));
        double fill = new PreparedSparseRowsProbe(W).Rows.Fill;
        Assert.InRange(fill, 0.40, 0.55);
        // even rows read columns 25 and 28, odd rows 30 and 33, across the boundary at 31: windows at 0 and 31 need three
        // steps (two for the even rows' pair, then one for 33), windows that start at 25, then 28, two with no padding
        int[] rowStart = [.. Enumerable.Range(0, 65).Select(k => 2 * k)];
        int[] columns = [.. Enumerable.Range(0, 64).SelectMany(k => k % 2 == 0 ? new[] { 25, 28 } : [30, 33])];
        var straddling = CsrMatrix<float>.FromCsr(64, 40, rowStart, columns, [.. Enumerable.Repeat(1f, 128)]);
        Assert.Equal(1.0, new PreparedSparseRowsProbe(straddling).Rows.Fill);
    }

    [Fact]
    public void A_layer_that_would_be_mostly_padding_is_not_prepared()
    {
        var rng = new Rng(6);
        var wide = CsrMatrix<float>.Random(20000, 20000, 0.0002, rng);   // about one entry per window a row has any in
        Assert.Null(PreparedSparseRows.TryCreate(wide, wide.Values));
        var dense = CsrMatrix<float>.Random(200, 200, 0.5, rng);
        Assert.Equal(PreparedSparseRows.IsSupported, PreparedSparseRows.TryCreate(dense, dense.Values) is not null);
    }

    /// <summary>W prepared whatever its fill (the tests' shapes include very sparse ones, which TryCreate leaves alone).</summary>
    private sealed class PreparedSparseRowsProbe(CsrMatrix<float> W, double fill = 0)
    {
        public PreparedSparseRows Rows { get; } = PreparedSparseRows.TryCreate(W, W.Values, fill) ?? throw new InvalidOperationException("not prepared");
    }
}
