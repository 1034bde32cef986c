using System.Numerics;
using System.Runtime.InteropServices;
using Nerva.Optimizers;

namespace Nerva.Activations;

/// <summary>
/// The two element-wise passes of an activation layer (seed 000 §4), one vector at a time with a scalar
/// tail: Y = act(Z) and DZ = DY ⊙ act'(Z). Large passes (a batch of a 250 000-wide layer: 25M elements) run in
/// chunks on all threads (<see cref="ParallelUpdate"/>); every element gets the same operations whatever the chunking.
/// </summary>
internal static class ActivationKernels
{
    /// <summary>y = act(z).</summary>
    public static unsafe void Value<T, TAct>(TAct act, ReadOnlySpan<T> z, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IActivationFunction<T>
    {
        if (y.Length != z.Length) throw new ArgumentException($"ActivationKernels.Value: z has {z.Length} elements, y {y.Length}");
        fixed (T* pz = z, py = y) ParallelUpdate.Run(z.Length, new ValuePass<T, TAct>(act, pz, py));
    }

    /// <summary>dz = dy ⊙ act'(z).</summary>
    public static unsafe void Backpropagate<T, TAct>(TAct act, ReadOnlySpan<T> z, ReadOnlySpan<T> dy, Span<T> dz)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IActivationFunction<T>
    {
        if (dy.Length != z.Length || dz.Length != z.Length)
            throw new ArgumentException($"ActivationKernels.Backpropagate: z, dy and dz have {z.Length}, {dy.Length} and {dz.Length} elements");
        fixed (T* pz = z, pdy = dy, pdz = dz) ParallelUpdate.Run(z.Length, new DerivativePass<T, TAct>(act, pz, pdy, pdz));
    }

    /// <summary>Elements [start, end) of <see cref="Value"/> (the spans are pinned for the whole loop).</summary>
    private readonly unsafe struct ValuePass<T, TAct>(TAct act, T* z, T* y) : IElementwiseUpdate
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IActivationFunction<T>
    {
        public void Update(int start, int end) => ValueRange(act, new ReadOnlySpan<T>(z + start, end - start), new Span<T>(y + start, end - start));
    }

    /// <summary>Elements [start, end) of <see cref="Backpropagate"/>.</summary>
    private readonly unsafe struct DerivativePass<T, TAct>(TAct act, T* z, T* dy, T* dz) : IElementwiseUpdate
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IActivationFunction<T>
    {
        public void Update(int start, int end)
            => DerivativeRange(act, new ReadOnlySpan<T>(z + start, end - start), new ReadOnlySpan<T>(dy + start, end - start), new Span<T>(dz + start, end - start));
    }

    private static void ValueRange<T, TAct>(TAct act, ReadOnlySpan<T> z, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IActivationFunction<T>
    {
        int k = 0;
        if (TAct.IsVectorized && Vector.IsHardwareAccelerated)
        {
            var zv = MemoryMarshal.Cast<T, Vector<T>>(z);
            var yv = MemoryMarshal.Cast<T, Vector<T>>(y);
            for (int i = 0; i < zv.Length; i++) yv[i] = act.Value(zv[i]);
            k = zv.Length * Vector<T>.Count;
        }
        for (; k < y.Length; k++) y[k] = act.Value(z[k]);
    }

    private static void DerivativeRange<T, TAct>(TAct act, ReadOnlySpan<T> z, ReadOnlySpan<T> dy, Span<T> dz)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IActivationFunction<T>
    {
        int k = 0;
        if (TAct.IsVectorized && Vector.IsHardwareAccelerated)
        {
            var zv = MemoryMarshal.Cast<T, Vector<T>>(z);
            var dyv = MemoryMarshal.Cast<T, Vector<T>>(dy);
            var dzv = MemoryMarshal.Cast<T, Vector<T>>(dz);
            for (int i = 0; i < zv.Length; i++) dzv[i] = dyv[i] * act.Derivative(zv[i]);
            k = zv.Length * Vector<T>.Count;
        }
        for (; k < dz.Length; k++) dz[k] = dy[k] * act.Derivative(z[k]);
    }

    /// <summary>f applied lane by lane: the vector form of an activation that has no SIMD code.</summary>
    internal static Vector<T> Lanewise<T>(Vector<T> z, Func<T, T> f) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> lanes = stackalloc T[Vector<T>.Count];
        for (int i = 0; i < lanes.Length; i++) lanes[i] = f(z[i]);
        return new Vector<T>(lanes);
    }
}
