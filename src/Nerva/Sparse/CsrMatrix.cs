using System.Numerics;

namespace Nerva.Sparse;

/// <summary>
/// A rows × cols matrix in compressed sparse row form (the original's <c>mkl::sparse_matrix_csr</c>): the
/// stored entries e of row i are <c>RowStart[i] ≤ e &lt; RowStart[i+1]</c>, with column <c>Columns[e]</c>
/// (ascending within a row) and value <c>Values[0, e]</c>. The set of stored positions is the support.
/// </summary>
/// <remarks>
/// <see cref="Values"/> is a 1×nnz matrix so that optimizers, clipping and gradient checks treat the stored
/// values like any parameter; a gradient or momentum buffer "on the same support" is any other 1×nnz
/// matrix in the same entry order. A column index (the entries of each column, in row order) is kept next
/// to the rows, so that products with Wᵀ run column by column without a transposed copy of the values.
/// </remarks>
public sealed class CsrMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private CsrMatrix(int rows, int cols)
    {
        if (rows < 1 || cols < 1) throw new ArgumentOutOfRangeException(nameof(rows), $"a sparse matrix needs a positive shape, got {rows}×{cols}");
        Rows = rows;
        Cols = cols;
        RowStart = new int[rows + 1];
        ColumnStart = new int[cols + 1];
    }

    public int Rows { get; }

    public int Cols { get; }

    /// <summary>Row i holds the entries RowStart[i] … RowStart[i+1] − 1 (rows + 1 offsets).</summary>
    public int[] RowStart { get; }

    /// <summary>The column of every stored entry.</summary>
    public int[] Columns { get; private set; } = [];

    /// <summary>The row of every stored entry (the inverse of <see cref="RowStart"/>).</summary>
    public int[] EntryRows { get; private set; } = [];

    /// <summary>Column j holds the entries ColumnEntries[ColumnStart[j] … ColumnStart[j+1] − 1], in row order.</summary>
    public int[] ColumnStart { get; }

    /// <summary>Entry numbers grouped by column (see <see cref="ColumnStart"/>).</summary>
    public int[] ColumnEntries { get; private set; } = [];

    /// <summary>The row of every entry of <see cref="ColumnEntries"/>, in the same order.</summary>
    public int[] ColumnRows { get; private set; } = [];

    /// <summary>The stored values, 1×nnz.</summary>
    public Matrix<T> Values { get; } = new(1, 0);

    /// <summary>The number of stored entries.</summary>
    public int NonZeroCount => Columns.Length;

    /// <summary>nnz / (rows·cols).</summary>
    public double Density => NonZeroCount / ((double)Rows * Cols);

    /// <summary>The row-major position i·cols + j of entry e.</summary>
    public long Position(int e) => (long)EntryRows[e] * Cols + Columns[e];

    /// <summary>
    /// A random support of exactly round(density·rows·cols) positions, chosen by selection sampling in
    /// row-major order (the original's <c>make_random_matrix</c>: one uniform draw per position); values 0.
    /// </summary>
    public static CsrMatrix<T> Random(int rows, int cols, double density, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(density > 0 && density <= 1)) throw new ArgumentOutOfRangeException(nameof(density), $"a density must be in (0, 1], got {density}");
        long total = (long)rows * cols;
        long count = Math.Max(1, (long)Math.Round(density * total, MidpointRounding.AwayFromZero));
        var positions = new long[count];
        long chosen = 0;
        for (long p = 0; p < total && chosen < count; p++)
            if (rng.NextDouble() * (total - p) < count - chosen) positions[chosen++] = p;
        var result = new CsrMatrix<T>(rows, cols);
        result.SetSupport(positions);
        return result;
    }

    /// <summary>The matrix whose support is the non-zero entries of <paramref name="W"/> (the original's <c>to_csr</c>).</summary>
    public static CsrMatrix<T> FromDense(Matrix<T> W)
    {
        var result = new CsrMatrix<T>(W.Rows, W.Cols);
        result.Load(W);
        return result;
    }

    /// <summary>Replaces support and values by the non-zero entries of W (same shape).</summary>
    public void Load(Matrix<T> W)
    {
        if (W.Rows != Rows || W.Cols != Cols) throw new ArgumentException($"CsrMatrix.Load: W is {W.Shape}, the sparse matrix is {Rows}×{Cols}");
        var w = W.AsSpan();
        var positions = new List<long>();
        for (int p = 0; p < w.Length; p++)
            if (w[p] != T.Zero) positions.Add(p);
        SetSupport(positions.ToArray());
        var values = Values.AsSpan();
        for (int e = 0; e < values.Length; e++) values[e] = w[(int)Position(e)];
    }

    /// <summary>The dense matrix, zero outside the support.</summary>
    public Matrix<T> ToDense()
    {
        var result = new Matrix<T>(Rows, Cols);
        var values = Values.AsSpan();
        for (int e = 0; e < values.Length; e++) result[EntryRows[e], Columns[e]] = values[e];
        return result;
    }

    /// <summary>Whether (i, j) is in the support (binary search in row i).</summary>
    public bool Contains(int i, int j) => Array.BinarySearch(Columns, RowStart[i], RowStart[i + 1] - RowStart[i], j) >= 0;

    /// <summary>
    /// Makes the support the given row-major positions (strictly ascending). <see cref="Values"/> takes
    /// their count; its contents are unspecified afterwards.
    /// </summary>
    public void SetSupport(ReadOnlySpan<long> positions)
    {
        long total = (long)Rows * Cols;
        for (int e = 0; e < positions.Length; e++)
            if (positions[e] < 0 || positions[e] >= total || (e > 0 && positions[e] <= positions[e - 1]))
                throw new ArgumentException($"SetSupport: positions must be strictly ascending in [0, {total}), entry {e} is {positions[e]}");
        int nnz = positions.Length;
        if (Columns.Length != nnz)
        {
            Columns = new int[nnz];
            EntryRows = new int[nnz];
            ColumnEntries = new int[nnz];
            ColumnRows = new int[nnz];
        }
        Values.Resize(1, nnz);
        Array.Clear(RowStart);
        Array.Clear(ColumnStart);
        for (int e = 0; e < nnz; e++)
        {
            int i = (int)(positions[e] / Cols), j = (int)(positions[e] % Cols);
            EntryRows[e] = i;
            Columns[e] = j;
            RowStart[i + 1]++;
            ColumnStart[j + 1]++;
        }
        for (int i = 0; i < Rows; i++) RowStart[i + 1] += RowStart[i];
        for (int j = 0; j < Cols; j++) ColumnStart[j + 1] += ColumnStart[j];
        Span<int> next = Cols <= 4096 ? stackalloc int[Cols] : new int[Cols];
        ColumnStart.AsSpan(0, Cols).CopyTo(next);
        for (int e = 0; e < nnz; e++)
        {
            int slot = next[Columns[e]]++;
            ColumnEntries[slot] = e;
            ColumnRows[slot] = EntryRows[e];
        }
    }

    public override string ToString() => $"CsrMatrix({Rows}×{Cols}, nnz={NonZeroCount})";
}
