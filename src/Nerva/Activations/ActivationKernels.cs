using System.Numerics;
using System.Runtime.InteropServices;

namespace Nerva.Activations;

/// <summary>
/// The two element-wise passes of an activation layer (seed 000 §4), one vector at a time with a scalar
/// tail: Y = act(Z) and DZ = DY ⊙ act'(Z).
/// </summary>
public static class ActivationKernels
{
    /// <summary>y = act(z).</summary>
    public static void Value<T, TAct>(TAct act, ReadOnlySpan<T> z, Span<T> y)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IActivationFunction<T>
    {
        if (y.Length != z.Length) throw new ArgumentException($"ActivationKernels.Value: z has {z.Length} elements, y {y.Length}");
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

    /// <summary>dz = dy ⊙ act'(z).</summary>
    public static void Backpropagate<T, TAct>(TAct act, ReadOnlySpan<T> z, ReadOnlySpan<T> dy, Span<T> dz)
        where T : unmanaged, IFloatingPointIeee754<T> where TAct : struct, IActivationFunction<T>
    {
        if (dy.Length != z.Length || dz.Length != z.Length)
            throw new ArgumentException($"ActivationKernels.Backpropagate: z, dy and dz have {z.Length}, {dy.Length} and {dz.Length} elements");
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
