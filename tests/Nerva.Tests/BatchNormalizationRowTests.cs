using Nerva.Layers;

namespace Nerva.Tests;

/// <summary>
/// Batch normalization's rows run as vector loops with a scalar tail: in float32 each element must get the bits of the
/// scalar formula, whatever its position (13 features: a vector of 8 and a tail of 5; 16: vectors only).
/// </summary>
public sealed class BatchNormalizationRowTests
{
    [Theory]
    [InlineData(13)]
    [InlineData(16)]
    public void Every_element_gets_the_bits_of_the_scalar_equations(int D)
    {
        const int N = 7;
        var rng = new Rng(11);
        var layer = new BatchNormalizationLayer<float>(D);
        TestData.Random(1, D, rng).Convert<float>().CopyTo(layer.Beta);
        TestData.Random(1, D, rng, 0.5, 2).Convert<float>().CopyTo(layer.Gamma);
        var X = TestData.Random(N, D, rng, -3, 3).Convert<float>();
        var DY = TestData.Random(N, D, rng).Convert<float>();
        var Y = new Matrix<float>(0, 0);
        layer.IsTraining = true;
        layer.Feedforward(X, Y);
        layer.Backpropagate(Y, DY);

        // the scalar loops, element by element, in the layer's order
        float n = N, epsilon = MatrixOperations.InvSqrtEpsilon<float>();
        var mean = new float[D];
        var sigma = new float[D];
        var Z = new float[N, D];
        for (int j = 0; j < D; j++)
        {
            for (int i = 0; i < N; i++) mean[j] += X[i, j];
            mean[j] /= n;
            for (int i = 0; i < N; i++)
            {
                Z[i, j] = X[i, j] - mean[j];
                sigma[j] += Z[i, j] * Z[i, j];
            }
            sigma[j] = 1 / MathF.Sqrt(sigma[j] / n + epsilon);
        }
        var dz = new float[N, D];
        float[] dbeta = new float[D], dgamma = new float[D], sumDZ = new float[D], sumZDZ = new float[D];
        for (int j = 0; j < D; j++)
            for (int i = 0; i < N; i++)
            {
                Z[i, j] *= sigma[j];
                Assert.Equal(layer.Gamma[0, j] * Z[i, j] + layer.Beta[0, j], Y[i, j]);
                dz[i, j] = layer.Gamma[0, j] * DY[i, j];
                dbeta[j] += DY[i, j];
                dgamma[j] += Z[i, j] * DY[i, j];
                sumDZ[j] += dz[i, j];
                sumZDZ[j] += Z[i, j] * dz[i, j];
            }
        for (int j = 0; j < D; j++)
        {
            Assert.Equal(dbeta[j], layer.DBeta[0, j]);
            Assert.Equal(dgamma[j], layer.DGamma[0, j]);
            for (int i = 0; i < N; i++)
                Assert.Equal(sigma[j] / n * (n * dz[i, j] - sumDZ[j] - Z[i, j] * sumZDZ[j]), layer.DX[i, j]);
        }
    }
}
