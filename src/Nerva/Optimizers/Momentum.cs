using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Nerva.Optimizers;

/// <summary>Momentum (seed 000 §8): Δ' = μ·Δ − η·Dθ; θ' = θ + Δ'. Δ starts at zero.</summary>
public sealed record Momentum(double Mu) : OptimizerSpec
{
    /// <inheritdoc/>
    public override IOptimizer<T> Create<T>(Matrix<T> theta, Matrix<T> Dtheta)
    {
        CheckShapes(theta, Dtheta);
        return new Optimizer<T>(theta, Dtheta, T.CreateChecked(Mu));
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Momentum({Mu:F5})");

    internal sealed class Optimizer<T>(Matrix<T> theta, Matrix<T> Dtheta, T mu) : IOptimizer<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public Matrix<T> Delta { get; } = new(theta.Rows, theta.Cols);

        public IReadOnlyList<Matrix<T>> State => [Delta];

        public long Steps { get; set; }

        public void Update(T eta)
        {
            Steps++;
            ParallelUpdate.Run(theta.Length, new Step<T>(theta, Dtheta, Delta, mu, eta));
        }
    }

    private readonly struct Step<T>(Matrix<T> theta, Matrix<T> Dtheta, Matrix<T> Delta, T mu, T eta) : IElementwiseUpdate
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Update(int start, int end)
        {
            var x = theta.AsSpan()[start..end];
            var dx = Dtheta.AsSpan()[start..end];
            var delta = Delta.AsSpan()[start..end];
            int k = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
                var vdx = MemoryMarshal.Cast<T, Vector<T>>(dx);
                var vdelta = MemoryMarshal.Cast<T, Vector<T>>(delta);
                Vector<T> vmu = new(mu), veta = new(eta);
                for (int v = 0; v < vx.Length; v++)
                {
                    vdelta[v] = vmu * vdelta[v] - veta * vdx[v];
                    vx[v] += vdelta[v];
                }
                k = vx.Length * Vector<T>.Count;
            }
            for (; k < x.Length; k++)
            {
                delta[k] = mu * delta[k] - eta * dx[k];
                x[k] += delta[k];
            }
        }
    }
}
