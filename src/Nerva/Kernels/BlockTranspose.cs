using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nerva.Kernels;

/// <summary>Transposes of 8×8 float blocks (AVX): the building block of the sparse layers' batch transposes and of GEMM packing.</summary>
internal static class BlockTranspose
{
    /// <summary>One 8×8 block: unpack pairs of rows, shuffle pairs of pairs, then swap 128-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8x8(ref float s, int sourceStride, ref float t, int targetStride)
    {
        var r0 = Vector256.LoadUnsafe(ref s);
        var r1 = Vector256.LoadUnsafe(ref s, (nuint)sourceStride);
        var r2 = Vector256.LoadUnsafe(ref s, (nuint)(2 * sourceStride));
        var r3 = Vector256.LoadUnsafe(ref s, (nuint)(3 * sourceStride));
        var r4 = Vector256.LoadUnsafe(ref s, (nuint)(4 * sourceStride));
        var r5 = Vector256.LoadUnsafe(ref s, (nuint)(5 * sourceStride));
        var r6 = Vector256.LoadUnsafe(ref s, (nuint)(6 * sourceStride));
        var r7 = Vector256.LoadUnsafe(ref s, (nuint)(7 * sourceStride));
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref t);
        Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref t, (nuint)targetStride);
        Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref t, (nuint)(2 * targetStride));
        Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref t, (nuint)(3 * targetStride));
        Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref t, (nuint)(4 * targetStride));
        Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref t, (nuint)(5 * targetStride));
        Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref t, (nuint)(6 * targetStride));
        Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref t, (nuint)(7 * targetStride));
    }
}
