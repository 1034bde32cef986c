using System.Numerics;
using Nerva.Activations;
using Nerva.Optimizers;

namespace Nerva.Layers;

/// <summary>
/// The SReLU layer of seed 000 §4: an activation layer whose four activation parameters a_l, t_l, a_r, t_r
/// are trained too, as the 1×4 parameter "srelu" = [a_l, t_l, a_r, t_r] with gradient [Da_l, Dt_l, Da_r, Dt_r]:
/// <code>
/// Da_l = 1_Nᵀ·(DY ⊙ A^l)·1_K    A^l_ij = Z_ij − t_l  if Z_ij ≤ t_l, else 0
/// Da_r = 1_Nᵀ·(DY ⊙ A^r)·1_K    A^r_ij = Z_ij − t_r  if t_l &lt; Z_ij ∧ t_r ≤ Z_ij, else 0
/// Dt_l = 1_Nᵀ·(DY ⊙ T^l)·1_K    T^l_ij = 1 − a_l     if Z_ij ≤ t_l, else 0
/// Dt_r = 1_Nᵀ·(DY ⊙ T^r)·1_K    T^r_ij = 1 − a_r     if t_l &lt; Z_ij ∧ t_r ≤ Z_ij, else 0
/// </code>
/// The seed prints T^r's condition as Z_ij ≥ t_r alone; with the first-case convention of §5 the right
/// branch needs Z_ij &gt; t_l as well, which only matters when t_l ≥ t_r (checked by finite differences).
/// </summary>
public sealed class SReLULayer<T> : ActivationLayer<T, SReLU<T>> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A linear layer D → K followed by SReLU with the trainable parameters <paramref name="initial"/>; the other arguments as for a linear layer.</summary>
    public SReLULayer(int D, int K, SReLU<T> initial, Rng? rng = null, WeightInitializer? weights = null, OptimizerSpec? optimizer = null, double dropout = 0, double density = 1)
        : base(D, K, initial, rng, weights, optimizer, dropout, density)
    {
        A = Matrix<T>.FromRows([double.CreateChecked(initial.Al), double.CreateChecked(initial.Tl), double.CreateChecked(initial.Ar), double.CreateChecked(initial.Tr)]);
        DA = new Matrix<T>(1, 4);
        AddParameter("srelu", A, DA);
    }

    /// <summary>[a_l, t_l, a_r, t_r].</summary>
    public Matrix<T> A { get; }

    /// <summary>[Da_l, Dt_l, Da_r, Dt_r].</summary>
    public Matrix<T> DA { get; }

    /// <inheritdoc/>
    protected override void FeedforwardCore(Matrix<T> Y)
    {
        Activation = new SReLU<T>(A[0, 0], A[0, 1], A[0, 2], A[0, 3]);
        base.FeedforwardCore(Y);
    }

    /// <inheritdoc/>
    protected override void BackpropagateCore(Matrix<T> Y, Matrix<T> DY)
    {
        base.BackpropagateCore(Y, DY);
        T al = A[0, 0], tl = A[0, 1], ar = A[0, 2], tr = A[0, 3];
        T Dal = T.Zero, Dtl = T.Zero, Dar = T.Zero, Dtr = T.Zero;
        var z = Z.AsSpan();
        var dy = DY.AsSpan();
        for (int k = 0; k < z.Length; k++)
        {
            if (z[k] <= tl)
            {
                Dal += dy[k] * (z[k] - tl);
                Dtl += dy[k] * (T.One - al);
            }
            else if (z[k] >= tr)
            {
                Dar += dy[k] * (z[k] - tr);
                Dtr += dy[k] * (T.One - ar);
            }
        }
        DA[0, 0] = Dal;
        DA[0, 1] = Dtl;
        DA[0, 2] = Dar;
        DA[0, 3] = Dtr;
    }
}
