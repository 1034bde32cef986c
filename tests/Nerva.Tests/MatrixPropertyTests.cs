using CsCheck;
using Nerva;
using Nerva.Kernels;
using static Nerva.MatrixOperations;

namespace Nerva.Tests;

/// <summary>
/// Seed 000 Table 1 definitions and the matrix properties (10)–(15), as properties over random shapes
/// (CsCheck draws the shape and a seed for the entries).
/// </summary>
[Collection(ThreadCountCollection.Name)]
public sealed class MatrixPropertyTests
{
    private static readonly Gen<(int m, int n, ulong seed)> Shapes2 = Gen.Select(Gen.Int[1, 9], Gen.Int[1, 9], Gen.ULong);

    // The operands are O(1) and the shapes small, so rounding is bounded in absolute terms (a result that
    // cancels to nearly zero has no meaningful relative error).
    private static void Close(Matrix<double> expected, Matrix<double> actual, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        double error = 0;
        for (int k = 0; k < expected.Length; k++) error = Math.Max(error, Math.Abs(expected.AsSpan()[k] - actual.AsSpan()[k]));
        Assert.True(error <= 1e-13, $"{what}: absolute error {error:E3} > 1e-13");
    }

    [Fact]
    public void Table_1_reductions_and_repeats_are_their_matrix_forms()
    {
        Shapes2.Sample((m, n, seed) =>
        {
            var rng = new Rng(seed);
            var X = TestData.Random(m, n, rng);
            var x = TestData.Random(1, n, rng);
            var c = TestData.Random(m, 1, rng);
            Close(Transpose(Ones<double>(m)) * X, ColumnsSum(X), "columns_sum(X) = 1_mᵀ·X");
            Close(X * Ones<double>(n), RowsSum(X), "rows_sum(X) = X·1_n");
            Assert.Equal((Transpose(Ones<double>(m)) * X * Ones<double>(n))[0, 0], ElementsSum(X), 1e-13 * m * n);
            Close(Ones<double>(m) * x, RowRepeat(x, m), "row_repeat(x, m) = 1_m·x");
            Close(c * Transpose(Ones<double>(n)), ColumnRepeat(c, n), "column_repeat(x, n) = x·1_nᵀ");
            Close(Scale(1.0 / m, ColumnsSum(X)), ColumnsMean(X), "columns_mean");
            Close(Scale(1.0 / n, RowsSum(X)), RowsMean(X), "rows_mean");
            for (int j = 0; j < n; j++) Assert.Equal(Enumerable.Range(0, m).Max(i => X[i, j]), ColumnsMax(X)[0, j]);
            for (int i = 0; i < m; i++) Assert.Equal(X.Row(i).ToArray().Max(), RowsMax(X)[i, 0]);
            var Z = new Matrix<double>(0, 0);
            X.CopyTo(Z);
            AddRowRepeat(Z, x);
            Close(X + RowRepeat(x, m), Z, "Z += row_repeat(b, N)");
        });
    }

    [Fact]
    public void Table_1_products_diagonals_and_transposes()
    {
        Gen.Select(Gen.Int[1, 9], Gen.Int[1, 9], Gen.Int[1, 9], Gen.ULong).Sample((m, n, k, seed) =>
        {
            var rng = new Rng(seed);
            var X = TestData.Random(m, n, rng);
            var Y = TestData.Random(m, n, rng);
            var Z = TestData.Random(n, k, rng);
            var S = TestData.Random(n, n, rng);
            Close(X, Transpose(Transpose(X)), "(Xᵀ)ᵀ = X");
            Close(Transpose(Z) * Transpose(X), Transpose(X * Z), "(X·Z)ᵀ = Zᵀ·Xᵀ");
            Close(Hadamard(X, Y), Hadamard(Y, X), "X ⊙ Y = Y ⊙ X");
            Close(X, Identity<double>(m) * X, "𝕀·X = X");
            Close(Diag(S), Diag(DiagMatrix(Diag(S))), "diag(Diag(diag(S))) = diag(S)");
            Close(Transpose(Diag(X * Transpose(Y))), ColumnsSum(Transpose(Hadamard(X, Y))), "diag(X·Yᵀ) = rows of X ⊙ Y summed");
            var x = TestData.Random(1, n, rng);
            Assert.Equal((x * Transpose(x))[0, 0], Dot(x, x), 1e-13 * n);
            Close(X + Scale(-1.0, Y), X - Y, "X − Y = X + (−1)Y");
        });
    }

    [Fact]
    public void Element_wise_functions()
    {
        Shapes2.Sample((m, n, seed) =>
        {
            var rng = new Rng(seed);
            var P = TestData.Random(m, n, rng, 0.1, 5);
            var X = TestData.Random(m, n, rng, -30, 30);
            Close(P, Exp(Log(P)), "e^log(X) = X");
            Close(Ones<double>(m, n), Hadamard(P, Reciprocal(P)), "X ⊙ 1/X = 1");
            Close(P, Hadamard(Sqrt(P), Sqrt(P)), "√X ⊙ √X = X");
            Close(Reciprocal(Sqrt(P + Scale(1e-7, Ones<double>(m, n)))), InvSqrt(P), "inv_sqrt(X) = 1/√(X + ε)");
            var M = TestData.Random(m, n, rng, -10, 1); // beyond ~1, log(σ(x)) loses digits in the rounding of σ
            Close(Log(Sigmoid(M)), LogSigmoid(M), "log_sigmoid = log ∘ σ where the naive form is accurate");
            Close(X, LogSigmoid(X) - LogSigmoid(Scale(-1.0, X)), "log σ(x) − log σ(−x) = x");
            Close(Apply(v => 1 / (1 + Math.Exp(-v)), X), Sigmoid(X), "σ");
        });
    }

    [Fact]
    public void Properties_10_to_15()
    {
        Shapes2.Sample((m, n, seed) =>
        {
            var rng = new Rng(seed);
            var X = TestData.Random(m, n, rng);
            var Y = TestData.Random(m, n, rng);
            var one_m = Ones<double>(m);
            var one_n = Ones<double>(n);
            // Column properties: z^j in terms of the columns x^j, y^j.
            var Z10 = new Matrix<double>(m, n);
            var Z11 = new Matrix<double>(m, n);
            var Z12 = new Matrix<double>(m, n);
            for (int j = 0; j < n; j++)
            {
                var xj = Column(X, j);
                var yj = Column(Y, j);
                SetColumn(Z10, j, xj * Transpose(xj) * yj);        // (10) z^j = x^j·(x^j)ᵀ·y^j
                SetColumn(Z11, j, one_m * Transpose(xj) * yj);     // (11) z^j = 1_m·(x^j)ᵀ·y^j
                SetColumn(Z12, j, xj * Transpose(one_m) * yj);     // (12) z^j = x^j·1_mᵀ·y^j
            }
            Close(Hadamard(X, one_m * Transpose(Diag(Transpose(X) * Y))), Z10, "(10)");
            Close(one_m * Transpose(Diag(Transpose(X) * Y)), Z11, "(11)");
            Close(Hadamard(X, one_m * Transpose(one_m) * Y), Z12, "(12)");
            // Row properties: z_i in terms of the rows x_i, y_i.
            var Z13 = new Matrix<double>(m, n);
            var Z14 = new Matrix<double>(m, n);
            var Z15 = new Matrix<double>(m, n);
            for (int i = 0; i < m; i++)
            {
                var xi = Row(X, i);
                var yi = Row(Y, i);
                SetRow(Z13, i, xi * Transpose(yi) * yi);           // (13) z_i = x_i·y_iᵀ·y_i
                SetRow(Z14, i, xi * Transpose(yi) * Transpose(one_n)); // (14) z_i = x_i·y_iᵀ·1_nᵀ
                SetRow(Z15, i, xi * one_n * yi);                   // (15) z_i = x_i·1_n·y_i
            }
            Close(Hadamard(Diag(X * Transpose(Y)) * Transpose(one_n), Y), Z13, "(13)");
            Close(Diag(X * Transpose(Y)) * Transpose(one_n), Z14, "(14)");
            Close(Hadamard(X * one_n * Transpose(one_n), Y), Z15, "(15)");
        });
    }

    [Fact]
    public void Gemm_kernel_equals_the_naive_product_for_every_transpose()
    {
        Gen.Select(Gen.Int[1, 70], Gen.Int[1, 70], Gen.Int[0, 70], Gen.Int[0, 3], Gen.ULong).Sample((m, n, k, op, seed) =>
        {
            var rng = new Rng(seed);
            var (ta, tb, A, B) = Operands(m, n, k, op, rng);
            var C = TestData.Random(m, n, rng); // stale contents must be overwritten
            Product(A, B, C, ta, tb);
            TestData.AssertClose(TestData.NaiveProduct(A, B, ta, tb), C, 1e-13, $"op {op}, {m}×{k}·{k}×{n}");
            // float32: the a-priori bound of a length-k dot product, |Ĉ − C| ≤ γ_k·(|A|·|B|), γ_k ≈ k·2⁻²⁴
            // (the inputs are rounded to float first, which adds one more unit per product).
            var Af = A.Convert<float>();
            var Bf = B.Convert<float>();
            var Cf = new Matrix<float>(0, 0);
            Product(Af, Bf, Cf, ta, tb);
            var exact = TestData.NaiveProduct(Af.Convert<double>(), Bf.Convert<double>(), ta, tb);
            var bound = TestData.NaiveProduct(Apply(Math.Abs, A), Apply(Math.Abs, B), ta, tb);
            double u = Math.Pow(2, -24);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    Assert.True(Math.Abs(Cf[i, j] - exact[i, j]) <= (k + 1) * u * bound[i, j] + 1e-30,
                        $"float op {op}, {m}×{k}·{k}×{n}: C[{i},{j}] = {Cf[i, j]}, exact {exact[i, j]}, bound {(k + 1) * u * bound[i, j]:E2}");
        }, iter: 300);
    }

    /// <summary>Random op(A) m×k and op(B) k×n for op code 0–3 (bit 0: A transposed, bit 1: B transposed), in storage layout.</summary>
    private static (bool TransposeA, bool TransposeB, Matrix<double> A, Matrix<double> B) Operands(int m, int n, int k, int op, Rng rng)
    {
        bool ta = (op & 1) != 0, tb = (op & 2) != 0;
        var A = ta ? TestData.Random(k, m, rng) : TestData.Random(m, k, rng);
        var B = tb ? TestData.Random(n, k, rng) : TestData.Random(k, n, rng);
        return (ta, tb, A, B);
    }

    public static TheoryData<string> FloatKernels => new(new[]
    {
        "managed", PackedGemm<Avx512Kernel8x32>.IsSupported ? "avx512" : null, PackedGemm<Avx2Kernel6x16>.IsSupported ? "avx2" : null,
    }.OfType<string>());

    private static IGemm<float> FloatKernel(string name) => name switch
    {
        "avx512" => new PackedGemm<Avx512Kernel8x32>(),
        "avx2" => new PackedGemm<Avx2Kernel6x16>(),
        _ => new ManagedGemm<float>(),
    };

    [Theory]
    [MemberData(nameof(FloatKernels))]
    public void Float_kernels_on_large_shapes_stay_within_the_rounding_bound(string kernel)
    {
        // Shapes past one k-slice (256), one tile of C (≤ 256×128), with partial panels (8 or 6 rows, 32 or 16 columns), every op,
        var gemm = FloatKernel(kernel);
        // and batches of 1 to 11 rows times Bᵀ, which take the unpacked dot-product path (one row; pairs of rows)
        var shapes = Gen.OneOf(
            Gen.Select(Gen.Int[1, 300], Gen.Int[1, 300], Gen.Int[1, 700], Gen.Int[0, 3], Gen.ULong),
            Gen.Select(Gen.Int[1, 11], Gen.Int[1, 300], Gen.Int[1, 700], Gen.Const(2), Gen.ULong));
        shapes.Sample((m, n, k, op, seed) =>
        {
            var (ta, tb, Ad, Bd) = Operands(m, n, k, op, new Rng(seed));
            var A = Ad.Convert<float>();
            var B = Bd.Convert<float>();
            var C = new float[m * n];
            C.AsSpan().Fill(float.NaN); // every element must be written
            gemm.Multiply(ta, tb, m, n, k, A.AsSpan(), B.AsSpan(), C);
            var exact = TestData.NaiveProduct(A.Convert<double>(), B.Convert<double>(), ta, tb);
            var bound = TestData.NaiveProduct(Apply(Math.Abs, A.Convert<double>()), Apply(Math.Abs, B.Convert<double>()), ta, tb);
            double u = Math.Pow(2, -24);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    Assert.True(Math.Abs(C[i * n + j] - exact[i, j]) <= (k + 1) * u * bound[i, j] + 1e-30,
                        $"{kernel} op {op}, {m}×{k}·{k}×{n}: C[{i},{j}] = {C[i * n + j]}, exact {exact[i, j]}");
        }, iter: 60);
    }

    [Theory]
    [MemberData(nameof(FloatKernels))]
    public void Gemm_result_does_not_depend_on_the_thread_count(string kernel)
    {
        // 100×260: one row tile; 600×300: three row tiles, which one thread takes two to a task and two threads one;
        // 600×700: tasks of 256 columns (the last 188) on one thread, of 128 columns on two;
        // 7×300: the dot products of a small batch (pairs of rows, then one), column tiles spread over the threads
        foreach (var (m, n, k) in new[] { (100, 260, 300), (600, 300, 520), (600, 700, 520), (7, 300, 520) })
        {
            var rng = new Rng(5);
            var A = TestData.Random(m, k, rng).Convert<float>();
            var B = TestData.Random(n, k, rng).Convert<float>();
            var one = new Matrix<float>(0, 0);
            var two = new Matrix<float>(0, 0);
            var gemm = FloatKernel(kernel);
            int saved = Parallelism.Threads;
            try
            {
                Parallelism.Threads = 1;
                gemm.Multiply(false, true, m, n, k, A.AsSpan(), B.AsSpan(), Resized(one, m, n));
                Parallelism.Threads = 2;
                gemm.Multiply(false, true, m, n, k, A.AsSpan(), B.AsSpan(), Resized(two, m, n));
            }
            finally
            {
                Parallelism.Threads = saved;
            }
            Assert.Equal(one.AsSpan().ToArray(), two.AsSpan().ToArray());
        }
    }

    [Theory]
    [InlineData(300, 1)]
    [InlineData(300, 2)]
    [InlineData(7, 2)]
    public void Columns_sum_adds_each_column_in_row_order_on_any_thread_count(int rows, int threads)
    {
        // matrices up to 12 000 wide (from 8 192 columns a block a thread, the blocks' edges anywhere) against the plain
        // loop: each column summed from the first row to the last, whatever the split over columns and threads
        Gen.Select(Gen.Int[1, 12000], Gen.ULong).Sample((n, seed) =>
        {
            var X = TestData.Random(rows, n, new Rng(seed)).Convert<float>();
            var expected = new float[n];
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < n; j++) expected[j] += X[i, j];
            var sum = new Matrix<float>(1, 3);   // resized by ColumnsSum, stale contents overwritten
            sum.Fill(float.NaN);
            int saved = Parallelism.Threads;
            try
            {
                Parallelism.Threads = threads;
                ColumnsSum(X, sum);
            }
            finally
            {
                Parallelism.Threads = saved;
            }
            Assert.Equal(expected, sum.AsSpan().ToArray());
        }, iter: 40);
    }

    [Theory]
    [MemberData(nameof(FloatKernels))]
    public void A_small_batch_gives_each_row_the_bits_of_that_row_alone(string kernel)
    {
        // Batches of fewer than 12 rows take the dot products, four rows at a time with AVX-512 and two without: each C_ij
        // must be the chain of FMAs of a batch of one, or a CPU with AVX-512 would give other bits than one without.
        var gemm = FloatKernel(kernel);
        Gen.Select(Gen.Int[2, 11], Gen.Int[1, 200], Gen.Int[1, 700], Gen.ULong).Sample((m, n, k, seed) =>
        {
            var rng = new Rng(seed);
            var A = TestData.Random(m, k, rng).Convert<float>();
            var B = TestData.Random(n, k, rng).Convert<float>();
            var batch = new float[m * n];
            gemm.Multiply(false, true, m, n, k, A.AsSpan(), B.AsSpan(), batch);
            for (int i = 0; i < m; i++)
            {
                var row = new float[n];
                gemm.Multiply(false, true, 1, n, k, A.Row(i), B.AsSpan(), row);
                Assert.Equal(row, batch.AsSpan(i * n, n).ToArray());
            }
        }, iter: 40);
    }

    [Fact]
    public void Avx512_and_avx2_kernels_give_the_same_bits()
    {
        // Both micro-kernels build each C_ij as the same chain of FMAs (p in order within a k-slice, slices added in
        // order), so a network trains to the same bits on a CPU with or without AVX-512.
        if (!PackedGemm<Avx512Kernel8x32>.IsSupported || !PackedGemm<Avx2Kernel6x16>.IsSupported) return;
        var wide = new PackedGemm<Avx512Kernel8x32>();
        var narrow = new PackedGemm<Avx2Kernel6x16>();
        Gen.Select(Gen.Int[1, 300], Gen.Int[1, 300], Gen.Int[1, 700], Gen.Int[0, 3], Gen.ULong).Sample((m, n, k, op, seed) =>
        {
            var (ta, tb, Ad, Bd) = Operands(m, n, k, op, new Rng(seed));
            var A = Ad.Convert<float>();
            var B = Bd.Convert<float>();
            float[] C1 = new float[m * n], C2 = new float[m * n];
            wide.Multiply(ta, tb, m, n, k, A.AsSpan(), B.AsSpan(), C1);
            narrow.Multiply(ta, tb, m, n, k, A.AsSpan(), B.AsSpan(), C2);
            Assert.Equal(C1, C2);
        }, iter: 40);
    }

    [Fact]
    public void Mismatched_shapes_throw_naming_both()
    {
        var A = new Matrix<double>(2, 3);
        var B = new Matrix<double>(4, 5);
        foreach (var action in new Action[]
        {
            () => Hadamard(A, B), () => _ = A + B, () => _ = A - B, () => Product(A, B), () => Dot(A, B),
        })
        {
            var error = Assert.Throws<ArgumentException>(action);
            Assert.Contains("2×3", error.Message);
            Assert.Contains("4×5", error.Message);
        }
        Assert.Contains("1×3", Assert.Throws<ArgumentException>(() => AddRowRepeat(A, new Matrix<double>(1, 4))).Message);
        Assert.Throws<ArgumentException>(() => Diag(A));
        Assert.Throws<ArgumentOutOfRangeException>(() => A[2, 0]);
    }

    private static Span<float> Resized(Matrix<float> M, int rows, int cols)
    {
        M.Resize(rows, cols);
        return M.AsSpan();
    }

    private static Matrix<double> Column(Matrix<double> X, int j)
    {
        var c = new Matrix<double>(X.Rows, 1);
        for (int i = 0; i < X.Rows; i++) c[i, 0] = X[i, j];
        return c;
    }

    private static void SetColumn(Matrix<double> Z, int j, Matrix<double> c)
    {
        for (int i = 0; i < Z.Rows; i++) Z[i, j] = c[i, 0];
    }

    private static Matrix<double> Row(Matrix<double> X, int i)
    {
        var r = new Matrix<double>(1, X.Cols);
        X.Row(i).CopyTo(r.AsSpan());
        return r;
    }

    private static void SetRow(Matrix<double> Z, int i, Matrix<double> r) => r.AsSpan().CopyTo(Z.Row(i));
}
