using System.Numerics;

namespace Nerva.Losses;

/// <summary>
/// A loss L(Y, T) of an output batch Y ∈ ℝ^{N×K} with targets T ∈ ℝ^{N×K} (seed 000 §6): the value is
/// summed over the batch, the gradient is DY = ∇_Y L(Y, T). The targets are called <c>targets</c> in
/// code because T names the scalar type.
/// </summary>
public interface ILossFunction
{
    /// <summary>L(Y, T), accumulated in double.</summary>
    double Value<T>(Matrix<T> Y, Matrix<T> targets) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>DY = ∇_Y L(Y, T); DY takes Y's shape.</summary>
    void Gradient<T>(Matrix<T> Y, Matrix<T> targets, Matrix<T> DY) where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Shared plumbing of the element-wise losses.</summary>
internal static class Loss
{
    public static void CheckShapes<T>(string loss, Matrix<T> Y, Matrix<T> targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (Y.Rows != targets.Rows || Y.Cols != targets.Cols)
            throw new ArgumentException($"{loss}: output Y is {Y.Shape} but targets T are {targets.Shape}");
    }

    /// <summary>Σ_ij f(Y_ij, T_ij), in double.</summary>
    public static double Sum<T>(Matrix<T> Y, Matrix<T> targets, Func<double, double, double> f) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var y = Y.AsSpan();
        var t = targets.AsSpan();
        double sum = 0;
        for (int k = 0; k < y.Length; k++) sum += f(double.CreateChecked(y[k]), double.CreateChecked(t[k]));
        return sum;
    }
}
