using System.Numerics;

namespace Nerva.Kernels;

/// <summary>
/// The one interface through which every matrix product runs: C = op(A)·op(B), with op the identity or
/// the transpose, on contiguous row-major storage. op(A) is m×k, op(B) is k×n and C is m×n.
/// Implementations must give the same bits for any thread count.
/// </summary>
public interface IGemm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>C = op(A)·op(B): op(A) is m×k, op(B) is k×n, C is m×n, all contiguous row-major; op is the transpose where asked.</summary>
    void Multiply(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<T> A, ReadOnlySpan<T> B, Span<T> C);
}

/// <summary>The kernels in use, per scalar type; replace <see cref="Gemm"/> to change how every product is computed.</summary>
public static class Kernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static IGemm<T> _gemm = Fastest();

    /// <summary>The GEMM every matrix product runs through; set it to change how all products are computed.</summary>
    public static IGemm<T> Gemm
    {
        get => _gemm;
        set => _gemm = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>For float the packed SGEMM of the widest instruction set the CPU has; otherwise the portable managed GEMM.</summary>
    private static IGemm<T> Fastest()
    {
        if (typeof(T) == typeof(float) && PackedGemm<Avx512Kernel8x32>.IsSupported) return (IGemm<T>)(object)new PackedGemm<Avx512Kernel8x32>();
        if (typeof(T) == typeof(float) && PackedGemm<Avx2Kernel6x16>.IsSupported) return (IGemm<T>)(object)new PackedGemm<Avx2Kernel6x16>();
        return new ManagedGemm<T>();
    }
}

/// <summary>The argument checks every <see cref="IGemm{T}"/> shares.</summary>
internal static class GemmArguments
{
    /// <summary>
    /// Throws if the storage is too small for op(A) m×k, op(B) k×n and C m×n; returns false when there is no product
    /// to compute (C empty, or k = 0, where C = 0 is written here).
    /// </summary>
    public static bool NeedProduct<T>(int m, int n, int k, ReadOnlySpan<T> A, ReadOnlySpan<T> B, Span<T> C)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (A.Length < m * k || B.Length < k * n || C.Length < m * n)
            throw new ArgumentException($"Gemm: storage too small for op(A) {m}×{k}, op(B) {k}×{n}, C {m}×{n}");
        if (m == 0 || n == 0) return false;
        if (k == 0)
        {
            C[..(m * n)].Clear();
            return false;
        }
        return true;
    }
}
