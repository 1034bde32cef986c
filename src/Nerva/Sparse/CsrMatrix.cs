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

    /// <summary>The rows (K).</summary>
    public int Rows { get; }

    /// <summary>The columns (D).</summary>
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
    /// A random support of exactly round(density·rows·cols) positions (at least one), uniform over all supports of
    /// that size, drawn in O(nnz) (<see cref="RandomSupport.Sample"/>); values 0.
    /// </summary>
    public static CsrMatrix<T> Random(int rows, int cols, double density, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(density > 0 && density <= 1)) throw new ArgumentOutOfRangeException(nameof(density), $"a density must be in (0, 1], got {density}");
        long count = Math.Max(1, (long)Math.Round(density * rows * cols, MidpointRounding.AwayFromZero));
        if (count > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(density), $"density {density} of a {rows}×{cols} matrix is {count} stored weights, more than one array holds ({Array.MaxLength})");
        var result = new CsrMatrix<T>(rows, cols);
        result.SetSupport(RandomSupport.Sample(rows, cols, (int)count, rng));
        return result;
    }

    /// <summary>
    /// The matrix with the given CSR arrays (as <c>scipy.sparse.csr_matrix((data, indices, indptr), shape)</c>):
    /// row i holds columns[rowStart[i] … rowStart[i+1] − 1], strictly ascending, with those values.
    /// </summary>
    /// <exception cref="ArgumentException">the arrays do not describe a valid CSR matrix of this shape</exception>
    public static CsrMatrix<T> FromCsr(int rows, int cols, ReadOnlySpan<int> rowStart, ReadOnlySpan<int> columns, ReadOnlySpan<T> values)
    {
        var result = new CsrMatrix<T>(rows, cols);
        result.SetSupport(rowStart, columns);
        if (values.Length != columns.Length) throw new ArgumentException($"CSR: {values.Length} values for {columns.Length} column indices");
        values.CopyTo(result.Values.AsSpan());
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
        var rowStart = new int[Rows + 1];
        var columns = new int[positions.Length];
        for (int e = 0; e < positions.Length; e++)
        {
            if (positions[e] < 0 || positions[e] >= total || (e > 0 && positions[e] <= positions[e - 1]))
                throw new ArgumentException($"SetSupport: positions must be strictly ascending in [0, {total}), entry {e} is {positions[e]}");
            rowStart[positions[e] / Cols + 1]++;
            columns[e] = (int)(positions[e] % Cols);
        }
        for (int i = 0; i < Rows; i++) rowStart[i + 1] += rowStart[i];
        SetSupport(rowStart, columns);
    }

    /// <summary>
    /// Makes the support the given CSR structure: row i holds columns[rowStart[i] … rowStart[i+1] − 1], strictly
    /// ascending in [0, cols). <see cref="Values"/> takes their count; its contents are unspecified afterwards.
    /// </summary>
    /// <exception cref="ArgumentException">the arrays are not a valid CSR structure of this shape (the message says where)</exception>
    public void SetSupport(ReadOnlySpan<int> rowStart, ReadOnlySpan<int> columns)
    {
        int nnz = columns.Length;
        if (rowStart.Length != Rows + 1) throw new ArgumentException($"CSR: indptr has {rowStart.Length} entries, a matrix of {Rows} rows needs {Rows + 1}");
        if (rowStart[0] != 0 || rowStart[Rows] != nnz) throw new ArgumentException($"CSR: indptr must run from 0 to the number of indices ({nnz}), it runs from {rowStart[0]} to {rowStart[Rows]}");
        for (int i = 0; i < Rows; i++)
            if (rowStart[i + 1] < rowStart[i]) throw new ArgumentException($"CSR: indptr decreases at row {i} ({rowStart[i]} → {rowStart[i + 1]})");
        for (int i = 0; i < Rows; i++)
        {
            for (int e = rowStart[i]; e < rowStart[i + 1]; e++)
            {
                if ((uint)columns[e] >= (uint)Cols) throw new ArgumentException($"CSR: column index {columns[e]} in row {i} is outside [0, {Cols})");
                if (e > rowStart[i] && columns[e] <= columns[e - 1]) throw new ArgumentException($"CSR: the column indices of row {i} are not strictly ascending ({columns[e - 1]}, {columns[e]})");
            }
        }
        if (Columns.Length != nnz)
        {
            Columns = new int[nnz];
            EntryRows = new int[nnz];
            ColumnEntries = new int[nnz];
            ColumnRows = new int[nnz];
        }
        Values.Resize(1, nnz);
        rowStart.CopyTo(RowStart);
        columns.CopyTo(Columns);
        Array.Clear(ColumnStart);
        for (int i = 0; i < Rows; i++)
            for (int e = RowStart[i]; e < RowStart[i + 1]; e++)
            {
                EntryRows[e] = i;
                ColumnStart[Columns[e] + 1]++;
            }
        for (int j = 0; j < Cols; j++) ColumnStart[j + 1] += ColumnStart[j];
        var next = new int[Cols];
        ColumnStart.AsSpan(0, Cols).CopyTo(next);
        for (int e = 0; e < nnz; e++)
        {
            int slot = next[Columns[e]]++;
            ColumnEntries[slot] = e;
            ColumnRows[slot] = EntryRows[e];
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"CsrMatrix({Rows}×{Cols}, nnz={NonZeroCount})";
}
