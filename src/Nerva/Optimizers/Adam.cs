using System.Globalization;
using System.Numerics;

namespace Nerva.Optimizers;

/// <summary>
/// Adam (Kingma and Ba, 2015). Beyond the specification: seed 000 §8 defines only gradient descent,
/// momentum and Nesterov. m' = β₁m + (1 − β₁)Dθ; v' = β₂v + (1 − β₂)Dθ²;
/// θ' = θ − η·(m'/(1 − β₁ᵗ))/(√(v'/(1 − β₂ᵗ)) + ε).
/// </summary>
public sealed record Adam(double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8) : OptimizerSpec
{
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
        private int _t;

        public IReadOnlyList<Matrix<T>> State => [_m, _v];

        public void Update(T eta)
        {
            _t++;
            T beta1 = T.CreateChecked(spec.Beta1), beta2 = T.CreateChecked(spec.Beta2), epsilon = T.CreateChecked(spec.Epsilon);
            T correction1 = T.One / (T.One - T.CreateChecked(Math.Pow(spec.Beta1, _t)));
            T correction2 = T.One / (T.One - T.CreateChecked(Math.Pow(spec.Beta2, _t)));
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
            for (int k = 0; k < x.Length; k++)
            {
                m[k] = beta1 * m[k] + (T.One - beta1) * dx[k];
                v[k] = beta2 * v[k] + (T.One - beta2) * dx[k] * dx[k];
                x[k] -= eta * (m[k] * correction1) / (T.Sqrt(v[k] * correction2) + epsilon);
            }
        }
    }
}
