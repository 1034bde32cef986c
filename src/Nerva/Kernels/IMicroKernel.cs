namespace Nerva.Kernels;

/// <summary>
/// The register-blocked heart of <see cref="PackedGemm{TKernel}"/>, one per instruction set: an
/// <see cref="MR"/>×<see cref="NR"/> block of C as the sum of kl rank-1 updates, Ap[p]ᵀ·Bp[p], read from packed panels.
/// </summary>
internal unsafe interface IMicroKernel
{
    /// <summary>Rows of the block of C (the height of a packed panel of op(A)).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the block of C (the width of a packed panel of op(B)), a multiple of 8.</summary>
    static abstract int NR { get; }

    static abstract bool IsSupported { get; }

    /// <summary>The instruction set, for messages and benchmarks.</summary>
    static abstract string Name { get; }

    /// <summary>
    /// C(MR×NR) = Σ_{p &lt; kl} Ap[p][0..MR]ᵀ·Bp[p][0..NR], each C_ij one chain of FMAs over p in order, stored into C
    /// (rows <paramref name="ldc"/> apart), or added to it when <paramref name="add"/>.
    /// </summary>
    static abstract void Run(int kl, float* ap, float* bp, float* c, long ldc, bool add);
}
