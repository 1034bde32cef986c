using System.Globalization;
using Nerva.Layers;
using Nerva.Losses;

namespace Nerva.Training;

/// <summary>
/// The <c>--gradient-step h</c> check: after backpropagation, compares a few entries of every parameter
/// gradient with central differences (L(θ + h) − L(θ − h))/2h of the batch loss L = loss/N, and prints
/// the largest relative error per parameter. It evaluates in float32, so expect errors near 1e-3, not 1e-9;
/// the float64 tests are the real verification. A diagnostic: training goes on with the same bits as without it.
/// </summary>
internal static class GradientCheck
{
    private const int EntriesPerParameter = 4;

    public static void Run(MultilayerPerceptron<float> mlp, ILossFunction loss, Matrix<float> X, Matrix<float> T, double h, TextWriter output, string where)
    {
        var Y = new Matrix<float>(0, 0);
        float step = (float)h;
        // Its feedforwards run in training mode, where batch normalization moves its running estimates: kept as they were
        var estimates = mlp.Layers.OfType<BatchNormalizationLayer<float>>()
            .SelectMany(bn => new[] { bn.RunningMean, bn.RunningVariance })
            .Select(M => (M, Saved: M.AsSpan().ToArray())).ToList();
        double Loss()
        {
            mlp.Feedforward(X, Y);
            return loss.Value(Y, T) / X.Rows;
        }
        for (int l = 0; l < mlp.Layers.Count; l++)
        {
            foreach (var parameter in mlp.Layers[l].Parameters)
            {
                var values = parameter.Value.AsSpan();
                double worst = 0;
                for (int e = 0; e < Math.Min(EntriesPerParameter, values.Length); e++)
                {
                    int k = (int)((long)e * values.Length / EntriesPerParameter);
                    float saved = parameter.Value.AsSpan()[k];
                    parameter.Value.AsSpan()[k] = saved + step;
                    double plus = Loss();
                    parameter.Value.AsSpan()[k] = saved - step;
                    double minus = Loss();
                    parameter.Value.AsSpan()[k] = saved;
                    double numeric = (plus - minus) / (2 * h), analytic = parameter.Gradient.AsSpan()[k];
                    double scale = Math.Max(Math.Abs(numeric), Math.Abs(analytic));
                    worst = Math.Max(worst, scale < 1e-7 ? 0 : Math.Abs(numeric - analytic) / scale);
                }
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gradient check {where}: layer {l + 1} D{parameter.Name} relative error {worst:E2}"));
            }
        }
        Loss(); // leave the layers as the batch left them
        foreach (var (M, saved) in estimates) saved.CopyTo(M.AsSpan());
    }
}
