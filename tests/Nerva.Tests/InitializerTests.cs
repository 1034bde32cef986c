using Nerva;

namespace Nerva.Tests;

/// <summary>The weight initialisers of seed 000 §7, seed 004 §1.6 and the original.</summary>
public sealed class InitializerTests
{
    [Theory]
    [InlineData("Xavier", 0.0)]
    [InlineData("XavierNormalized", 0.0)]
    [InlineData("XavierLogistic", 0.0)]
    [InlineData("HeUniform", 0.0)]
    [InlineData("PyTorch", 0.01)]
    [InlineData("Uniform", 0.0)]
    public void Uniform_initialisers_fill_their_interval(string name, double bias)
    {
        int D = 300, K = 200;
        double bound = name switch
        {
            "Xavier" => 1 / Math.Sqrt(D),
            "XavierNormalized" or "PyTorch" => Math.Sqrt(6) / Math.Sqrt(D + K),
            "XavierLogistic" => 4 * Math.Sqrt(6.0 / (D + K)),
            "HeUniform" => Math.Sqrt(6.0 / D),
            _ => 1,
        };
        var init = name == "Uniform" ? WeightInitializer.Uniform() : (WeightInitializer)typeof(WeightInitializer).GetField(name)!.GetValue(null)!;
        var W = new Matrix<double>(K, D);
        var b = new Matrix<double>(1, K);
        init.Initialize(W, b, new Rng(1));
        var w = W.AsSpan().ToArray();
        Assert.All(w, x => Assert.InRange(x, -bound, bound));
        Assert.True(w.Max() > 0.99 * bound && w.Min() < -0.99 * bound, "the whole interval is used");
        Assert.Equal(0, w.Average(), 2 * bound / Math.Sqrt(w.Length) * 4);
        Assert.All(b.AsSpan().ToArray(), x => Assert.Equal(bias, x));
        Assert.Equal(name, init.ToString());
    }

    [Fact]
    public void He_is_normal_with_standard_deviation_sqrt_2_over_D()
    {
        var W = new Matrix<double>(400, 250);
        WeightInitializer.He.Initialize(W, new Matrix<double>(1, 400), new Rng(2));
        var w = W.AsSpan().ToArray();
        double mean = w.Average(), sd = Math.Sqrt(w.Select(x => (x - mean) * (x - mean)).Average());
        Assert.Equal(Math.Sqrt(2.0 / 250), sd, 0.002);
        Assert.Equal(0, mean, 0.001);
        double kurtosis = w.Select(x => Math.Pow((x - mean) / sd, 4)).Average();
        Assert.Equal(3, kurtosis, 0.1); // normal, not uniform (1.8)
    }

    [Fact]
    public void A_sparse_layer_is_initialised_for_its_stored_fan_in()
    {
        // 1000 inputs at density 0.05: about 50 stored weights per output, so He draws with σ = √(2/50)
        var layer = new Layers.LinearLayer<double>(1000, 200, new Rng(3), WeightInitializer.He, density: 0.05);
        Assert.Equal((50, 10), layer.InitializationFans);
        var w = layer.SparseW!.Values.AsSpan().ToArray();
        double sd = Math.Sqrt(w.Select(x => x * x).Average());
        Assert.Equal(Math.Sqrt(2.0 / 50), sd, 0.01);
        Assert.Equal((1000, 200), new Layers.LinearLayer<double>(1000, 200).InitializationFans);
    }

    [Fact]
    public void Same_seed_same_weights_in_float_and_double()
    {
        var Wd = new Matrix<double>(5, 7);
        var Wf = new Matrix<float>(5, 7);
        WeightInitializer.Xavier.Initialize(Wd, new Matrix<double>(1, 5), new Rng(9));
        WeightInitializer.Xavier.Initialize(Wf, new Matrix<float>(1, 5), new Rng(9));
        Assert.Equal(Wd.Convert<float>().AsSpan().ToArray(), Wf.AsSpan().ToArray());
        var zero = new Matrix<double>(3, 3);
        WeightInitializer.Zero.Initialize(zero, new Matrix<double>(1, 3), new Rng(1));
        Assert.All(zero.AsSpan().ToArray(), x => Assert.Equal(0, x));
    }

    [Fact]
    public void Rng_is_reproducible_and_uniform()
    {
        var a = new Rng(123);
        var b = new Rng(123);
        for (int i = 0; i < 100; i++) Assert.Equal(a.NextUInt64(), b.NextUInt64());
        var counts = new int[10];
        var rng = new Rng(5);
        for (int i = 0; i < 100000; i++) counts[rng.NextInt(10)]++;
        Assert.All(counts, c => Assert.InRange(c, 9500, 10500));
        int[] items = [.. Enumerable.Range(0, 50)];
        rng.Shuffle(items.AsSpan());
        Assert.Equal(Enumerable.Range(0, 50), items.Order());
        Assert.NotEqual(Enumerable.Range(0, 50), items);
    }

    [Fact]
    public void A_dropout_mask_is_the_stream_of_next_double_compared_with_p()
    {
        // the mask's loop keeps the generator's state in registers: the same draws, and the same state afterwards
        var a = new Rng(17);
        var b = new Rng(17);
        var mask = new float[1001];
        a.DropoutMask(mask.AsSpan(), 0.3, 1 / 0.7f);
        for (int k = 0; k < mask.Length; k++) Assert.Equal(b.NextDouble() < 0.3 ? 0f : 1 / 0.7f, mask[k]);
        Assert.Equal(b.NextUInt64(), a.NextUInt64());
        Assert.InRange(mask.Count(m => m == 0), 250, 350);
    }
}
