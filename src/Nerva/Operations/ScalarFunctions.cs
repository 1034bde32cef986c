using System.Numerics;

namespace Nerva;

/// <summary>
/// log(1 + x) and e^x − 1 accurate for tiny x. .NET's generic <c>LogP1</c>/<c>ExpM1</c> compute
/// Log(1 + x) and Exp(x) − 1 directly and lose the digits these functions exist to keep
/// (LogP1(1e-13) = 9.992e-14), which broke the tail of log_sigmoid.
/// </summary>
internal static class ScalarFunctions
{
    /// <summary>log(1 + x): with u = 1 + x rounded, log(u)·x/(u − 1) cancels the rounding of u (Goldberg, 1991).</summary>
    public static T Log1p<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T u = T.One + x;
        if (u == T.One) return x;
        if (T.IsPositiveInfinity(u)) return T.Log(u);
        return T.Log(u) * x / (u - T.One);
    }

    /// <summary>e^x − 1: with u = e^x rounded, (u − 1)·x/log(u) cancels the rounding of u (Kahan).</summary>
    public static T Expm1<T>(T x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T u = T.Exp(x);
        if (u == T.One) return x;
        T um1 = u - T.One;
        if (um1 == -T.One || T.IsPositiveInfinity(u)) return um1;
        return um1 * x / T.Log(u);
    }
}
