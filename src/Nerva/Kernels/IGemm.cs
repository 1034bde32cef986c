using System.Numerics;

namespace Nerva.Kernels;

/// <summary>
/// The one interface through which every matrix product runs: C = op(A)·op(B), with op the identity or
/// the transpose, on contiguous row-major storage. op(A) is m×k, op(B) is k×n and C is m×n.
/// Implementations must give the same bits for any thread count.
/// </summary>
public interface IGemm<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    void Multiply(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<T> A, ReadOnlySpan<T> B, Span<T> C);
}

/// <summary>The kernels in use, per scalar type; replace <see cref="Gemm"/> to change how every product is computed.</summary>
public static class Kernels<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static IGemm<T> _gemm = typeof(T) == typeof(float) && Avx512Gemm.IsSupported ? (IGemm<T>)(object)new Avx512Gemm() : new ManagedGemm<T>();

    public static IGemm<T> Gemm
    {
        get => _gemm;
        set => _gemm = value ?? throw new ArgumentNullException(nameof(value));
    }
}
