using System.Numerics;
using System.Runtime.InteropServices;

namespace Nerva.Optimizers;

/// <summary>Gradient descent: θ' = θ − η·Dθ (seed 000 §8).</summary>
public sealed record GradientDescent : OptimizerSpec
{
    /// <inheritdoc/>
    public override IOptimizer<T> Create<T>(Matrix<T> theta, Matrix<T> Dtheta)
    {
        CheckShapes(theta, Dtheta);
        return new Optimizer<T>(theta, Dtheta);
    }

    /// <inheritdoc/>
    public override string ToString() => "GradientDescent";

    private sealed class Optimizer<T>(Matrix<T> theta, Matrix<T> Dtheta) : IOptimizer<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public IReadOnlyList<Matrix<T>> State => [];

        public long Steps { get; set; }

        public void Update(T eta)
        {
            Steps++;
            ParallelUpdate.Run(theta.Length, new Step<T>(theta, Dtheta, eta));
        }
    }

    private readonly struct Step<T>(Matrix<T> theta, Matrix<T> Dtheta, T eta) : IElementwiseUpdate
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Update(int start, int end)
        {
            var x = theta.AsSpan()[start..end];
            var dx = Dtheta.AsSpan()[start..end];
            int k = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
                var vdx = MemoryMarshal.Cast<T, Vector<T>>(dx);
                var veta = new Vector<T>(eta);
                for (int v = 0; v < vx.Length; v++) vx[v] -= veta * vdx[v];
                k = vx.Length * Vector<T>.Count;
            }
            for (; k < x.Length; k++) x[k] -= eta * dx[k];
        }
    }
}
