using System.Runtime.InteropServices;

namespace Nerva.Bench;

/// <summary>
/// OpenBLAS's cblas_sgemm through P/Invoke, for the benchmark only (Debian's libopenblas0-pthread).
/// Debian 12's OpenBLAS 0.3.21 takes Zen 5 for Haswell; OPENBLAS_CORETYPE=SkylakeX selects its AVX-512
/// kernels, the real ceiling. It must be in the environment before the process starts: bench/run.sh
/// sets it (the core name is printed with the results, so a wrong setting shows).
/// </summary>
internal static unsafe partial class OpenBlas
{
    private const string Library = "libopenblas.so.0";

    public static bool Available() => NativeLibrary.TryLoad(Library, out _);

    public static void Sgemm(bool transposeA, bool transposeB, int m, int n, int k, float* A, float* B, float* C)
        => cblas_sgemm(101, transposeA ? 112 : 111, transposeB ? 112 : 111, m, n, k, 1f, A, transposeA ? m : k, B, transposeB ? k : n, 0f, C, n);

    [LibraryImport(Library)]
    private static partial void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, float* A, int lda, float* B, int ldb, float beta, float* C, int ldc);

    [LibraryImport(Library)]
    public static partial void openblas_set_num_threads(int threads);

    [LibraryImport(Library)]
    public static partial IntPtr openblas_get_corename();
}
