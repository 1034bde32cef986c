using System.Numerics;

namespace Nerva.Activations;

/// <summary>tanh(x) = (e^x − e^−x)/(e^x + e^−x); tanh'(x) = 1 − tanh(x)² (seed 000 §5).</summary>
public readonly struct HyperbolicTangent<T> : IActivationFunction<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public T Value(T z) => T.Tanh(z);

    public T Derivative(T z)
    {
        T t = T.Tanh(z);
        return T.One - t * t;
    }

    /// <summary>No SIMD form (the exponential would round differently from the scalar one); lane by lane.</summary>
    public static bool IsVectorized => false;

    public Vector<T> Value(Vector<T> z) => ActivationKernels.Lanewise(z, Value);

    public Vector<T> Derivative(Vector<T> z) => ActivationKernels.Lanewise(z, Derivative);

    public override string ToString() => "HyperbolicTangent()";
}
