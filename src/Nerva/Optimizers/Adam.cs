using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Nerva.Optimizers;

/// <summary>
/// Adam (Kingma and Ba, 2015). Beyond the specification: seed 000 §8 defines only gradient descent,
/// momentum and Nesterov. m' = β₁m + (1 − β₁)Dθ; v' = β₂v + (1 − β₂)Dθ²;
/// θ' = θ − η·(m'/(1 − β₁ᵗ))/(√(v'/(1 − β₂ᵗ)) + ε).
/// </summary>
public sealed record Adam(double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8) : OptimizerSpec
{
    /// <summary>β₁, the decay of the first moment m: in [0, 1).</summary>
    public double Beta1 { get; } = Beta1 is >= 0 and < 1 ? Beta1 : throw Outside(nameof(Beta1), Beta1, "beta1 must be in [0, 1)");

    /// <summary>β₂, the decay of the second moment v: in [0, 1).</summary>
    public double Beta2 { get; } = Beta2 is >= 0 and < 1 ? Beta2 : throw Outside(nameof(Beta2), Beta2, "beta2 must be in [0, 1)");

    /// <summary>ε, added to √v̂ so that the step stays finite: positive and finite.</summary>
    public double Epsilon { get; } = Epsilon > 0 && double.IsFinite(Epsilon) ? Epsilon : throw Outside(nameof(Epsilon), Epsilon, "epsilon must be a positive number");

    private static ArgumentOutOfRangeException Outside(string name, double value, string rule)
        => new(name, string.Create(CultureInfo.InvariantCulture, $"Adam: {rule}, got {value}"));

    /// <inheritdoc/>
    public override IOptimizer<T> Create<T>(Matrix<T> theta, Matrix<T> Dtheta)
    {
        CheckShapes(theta, Dtheta);
        return new Optimizer<T>(theta, Dtheta, this);
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Adam(beta1={Beta1},beta2={Beta2},epsilon={Epsilon})");

    private sealed class Optimizer<T>(Matrix<T> theta, Matrix<T> Dtheta, Adam spec) : IOptimizer<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Matrix<T> _m = new(theta.Rows, theta.Cols);
        private readonly Matrix<T> _v = new(theta.Rows, theta.Cols);

        public IReadOnlyList<Matrix<T>> State => [_m, _v];

        /// <summary>t, the step of the bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ.</summary>
        public long Steps { get; set; }

        public void Update(T eta)
        {
            long t = ++Steps;
            T beta1 = T.CreateChecked(spec.Beta1), beta2 = T.CreateChecked(spec.Beta2), epsilon = T.CreateChecked(spec.Epsilon);
            T correction1 = T.One / (T.One - T.CreateChecked(Math.Pow(spec.Beta1, t)));
            T correction2 = T.One / (T.One - T.CreateChecked(Math.Pow(spec.Beta2, t)));
            ParallelUpdate.Run(theta.Length, new Step<T>(theta, Dtheta, _m, _v, beta1, beta2, epsilon, correction1, correction2, eta));
        }
    }

    private readonly struct Step<T>(Matrix<T> theta, Matrix<T> Dtheta, Matrix<T> M, Matrix<T> V, T beta1, T beta2, T epsilon, T correction1, T correction2, T eta)
        : IElementwiseUpdate where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Update(int start, int end)
        {
            var x = theta.AsSpan()[start..end];
            var dx = Dtheta.AsSpan()[start..end];
            var m = M.AsSpan()[start..end];
            var v = V.AsSpan()[start..end];
            T keep1 = T.One - beta1, keep2 = T.One - beta2;
            int k = 0;
            if (Vector.IsHardwareAccelerated)
            {
                // the same operations in the same order as the scalar loop below (a square root is exact in both): the same bits
                var vx = MemoryMarshal.Cast<T, Vector<T>>(x);
                var vdx = MemoryMarshal.Cast<T, Vector<T>>(dx);
                var vm = MemoryMarshal.Cast<T, Vector<T>>(m);
                var vv = MemoryMarshal.Cast<T, Vector<T>>(v);
                Vector<T> b1 = new(beta1), b2 = new(beta2), k1 = new(keep1), k2 = new(keep2), c1 = new(correction1), c2 = new(correction2), e = new(epsilon), h = new(eta);
                for (int i = 0; i < vx.Length; i++)
                {
                    vm[i] = b1 * vm[i] + k1 * vdx[i];
                    vv[i] = b2 * vv[i] + k2 * vdx[i] * vdx[i];
                    vx[i] -= h * (vm[i] * c1) / (Vector.SquareRoot(vv[i] * c2) + e);
                }
                k = vx.Length * Vector<T>.Count;
            }
            for (; k < x.Length; k++)
            {
                m[k] = beta1 * m[k] + keep1 * dx[k];
                v[k] = beta2 * v[k] + keep2 * dx[k] * dx[k];
                x[k] -= eta * (m[k] * correction1) / (T.Sqrt(v[k] * correction2) + epsilon);
            }
        }
    }
}
