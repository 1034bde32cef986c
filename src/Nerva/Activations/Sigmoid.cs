using System.Numerics;

namespace Nerva.Activations;

/// <summary>σ(x) = 1/(1 + e^−x); σ'(x) = σ(x)(1 − σ(x)) (seed 000 §5).</summary>
public readonly struct Sigmoid<T> : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Value(T z) => MatrixOperations.Sigmoid(z);

    public T Derivative(T z)
    {
        T s = MatrixOperations.Sigmoid(z);
        return s * (T.One - s);
    }

    public override string ToString() => "Sigmoid()";
}
