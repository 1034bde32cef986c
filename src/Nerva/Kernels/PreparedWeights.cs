namespace Nerva.Kernels;

/// <summary>
/// A GEMM that can pack op(B) = Bᵀ once and reuse it (<see cref="PreparedWeights"/>): the layout its products pack on every
/// call, made beforehand, so that a product with a layer's weights only packs the batch.
/// </summary>
internal interface IPackingGemm
{
    /// <summary>The floats of Bᵀ packed whole, for B n×k: in the micro-kernel's panels, then B's rows in eights (for a single row).</summary>
    long PackedLength(int n, int k);

    /// <summary>Packs Bᵀ (B n×k, row-major) into <paramref name="packed"/> (<see cref="PackedLength"/> floats, 64-byte aligned).</summary>
    void PackTransposed(ReadOnlySpan<float> B, int n, int k, Span<float> packed);

    /// <summary>
    /// C = A·Bᵀ (A m×k, B n×k) with Bᵀ packed by <see cref="PackTransposed"/>: the same bits as Multiply(false, true, …); B itself
    /// serves the products of 2–11 rows, which read it in place, and what the eights leave out (the last n mod 8 rows and
    /// k mod 8 columns).
    /// </summary>
    void MultiplyPacked(int m, int n, int k, ReadOnlySpan<float> A, ReadOnlySpan<float> B, ReadOnlySpan<float> packed, Span<float> C);
}

/// <summary>
/// A dense layer's W (K×D) prepared for Z = X·Wᵀ: packed once in the panels the GEMM's micro-kernel reads (what every
/// product would pack again) and in eights of rows read as one stream by a single row (twice W's size in all), for inference
/// with weights that no longer change (<see cref="Predictor"/>). The products give
/// the same bits as <see cref="Kernels{T}.Gemm"/> on W; with a GEMM that does not pack, they are its products on W.
/// </summary>
internal sealed class PreparedWeights
{
    private readonly IGemm<float> _gemm;
    private readonly Matrix<float> _W;
    private readonly float[] _packed = [];
    private readonly int _offset;

    /// <summary>Prepares <paramref name="W"/>, which must not change afterwards, for the GEMM in use now.</summary>
    public PreparedWeights(Matrix<float> W)
    {
        _W = W;
        _gemm = Kernels<float>.Gemm;
        if (_gemm is not IPackingGemm packing) return;
        long length = packing.PackedLength(W.Rows, W.Cols);
        _packed = GC.AllocateUninitializedArray<float>(checked((int)(length + 16)), pinned: true);
        _offset = Sparse.Panels<float>.AlignmentOffset(_packed);
        packing.PackTransposed(W.AsSpan(), W.Rows, W.Cols, _packed.AsSpan(_offset, (int)length));
    }

    /// <summary>Z = X·Wᵀ (X N×D; Z takes the shape N×K).</summary>
    public void Multiply(Matrix<float> X, Matrix<float> Z)
    {
        if (X.Cols != _W.Cols) throw new ArgumentException($"PreparedWeights.Multiply: X is {X.Shape}, W is {_W.Shape}");
        Z.Resize(X.Rows, _W.Rows);
        if (_gemm is IPackingGemm packing)
            packing.MultiplyPacked(X.Rows, _W.Rows, _W.Cols, X.AsSpan(), _W.AsSpan(), _packed.AsSpan(_offset), Z.AsSpan());
        else
            _gemm.Multiply(false, true, X.Rows, _W.Rows, _W.Cols, X.AsSpan(), _W.AsSpan(), Z.AsSpan());
    }
}
