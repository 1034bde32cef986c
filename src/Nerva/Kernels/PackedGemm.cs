using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nerva.Kernels;

/// <summary>
/// SGEMM in the BLIS style: C = op(A)·op(B) for any op, from packed panels, around the micro-kernel of one
/// instruction set (<see cref="Avx512Kernel8x32"/>, <see cref="Avx2Kernel6x16"/>).
/// <list type="number">
/// <item>op(A) is packed once per call into micro-panels of MR rows, p-major (Ap[slice][panel][p][r]),
/// zero-padded below row m.</item>
/// <item>C is cut into tasks of one or more MC-row tiles × NC columns (2-D over the threads, about four tasks per
/// thread; NC = <see cref="NC"/> or <see cref="WideNC"/>: <see cref="TaskShape"/>).
/// For each k-slice of <see cref="KC"/> a task packs its KC×NC block of op(B) into micro-panels of
/// NR columns (Bp[panel][p][j], zero-padded right of column n) in its own buffer, once for all its rows, then runs
/// the micro-kernel over every pair of panels, one MC-row tile at a time. A task of one row tile (a training batch)
/// asks, a few lines before each micro-kernel, for the next slice's block of op(B): packing waits on memory otherwise
/// (on a Zen 4 packing took 16–19 % of the forward and DX products of a batch of 100, and 6–10 % with the prefetch).</item>
/// </list>
/// Packing makes every operand of the micro-kernel a contiguous stream whatever the layouts and strides
/// (rows 12 KB apart in the MLP shapes would otherwise share one L1 set), and makes the transposed
/// products as fast as the plain one. Each C_ij is the sum over slices, in order, of a chain of FMAs over
/// p in order, whatever the tile, so results are bit-identical for any number of threads.
/// Fewer than 12 rows of A times Bᵀ (small inference batches) skip packing: dot products of rows, B read in place.
/// A layer's weights that no longer change can be packed whole once (<see cref="PackTransposed"/>, for a
/// <see cref="Predictor"/>): <see cref="MultiplyPacked"/> then reads each task's blocks from that copy, and a single row
/// reads B's rows in eights, one stream, with the same bits.
/// <para>The drivers are compiled fully optimised on first call (no tiering): a product runs at full speed from the first batch.</para>
/// </summary>
internal sealed unsafe class PackedGemm<TKernel> : IGemm<float>, IPackingGemm where TKernel : struct, IMicroKernel
{
    private static int MR { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => TKernel.MR; }
    private static int NR { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => TKernel.NR; }
    // A k-slice of KC: an MR×KC panel of A (≤ 8 KB) and a KC×NR panel of B (≤ 32 KB) fit in L1. A task's tile of C,
    // MC×NC (MC the multiple of MR nearest below 256): its KC×MC block of Ap (256 KB) and KC×NC block of Bp (128 or
    // 256 KB) fit in L2. (internal for the benchmark that replays the micro-kernel calls of a product: Nerva.Bench profile)
    internal const int KC = 256;
    internal static int MC { [MethodImpl(MethodImplOptions.AggressiveInlining)] get => 256 / TKernel.MR * TKernel.MR; }
    internal const int NC = 128;
    internal const int WideNC = 256;
    private const int Align = 16;            // floats: packed buffers start on a 64-byte line

    /// <summary>
    /// The columns and row tiles of a task of an m×n product: about four tasks per thread, each of as many MC-row tiles as
    /// that leaves, so that a task packs its block of op(B) once for all its rows (2048³: once, not 8 times). Columns
    /// <see cref="WideNC"/> when that still leaves a task two row tiles or more, else <see cref="NC"/>. A wider block
    /// halves how often a tile of Ap is brought back from L3 (once per block of columns), but packs each block of op(B) for
    /// fewer rows: on a Zen 4, with either kernel, 2048³ ran 2.5–5 % faster and a batch of 1000 through 1024×3072 weights
    /// 2–4 % (1 thread), while in a batch of ≤ MC rows, where the column blocks are the tasks the threads share,
    /// 100×1024×3072 lost 10 % on 2 threads. The same bits either way.
    /// </summary>
    internal static (int Columns, int RowTiles, int TasksDown, int TasksAcross) TaskShape(int m, int n)
    {
        var wide = TaskGrid(m, n, WideNC);
        return wide.RowTiles >= 2 ? wide : TaskGrid(m, n, NC);
    }

    private static (int Columns, int RowTiles, int TasksDown, int TasksAcross) TaskGrid(int m, int n, int nc)
    {
        int tilesDown = (m + MC - 1) / MC, tilesAcross = (n + nc - 1) / nc;
        int rowTiles = Math.Clamp(tilesDown * tilesAcross / (4 * Parallelism.Threads), 1, tilesDown);
        int tasksDown = (tilesDown + rowTiles - 1) / rowTiles;
        return (nc, (tilesDown + tasksDown - 1) / tasksDown, tasksDown, tilesAcross);   // the same number of row tiles in every task
    }

    // Below this many rows of A (a small inference batch), packing Bᵀ costs more than the product. Measured on a Zen 4 for
    // 1024×3072 and 512×1024 weights at 1 and 2 threads, the dot products take, of the packed product's time: with
    // AVX-512 (four rows at a time) 0.14–0.79 for 1–12 rows, 0.73–0.99 at 16, 0.96–1.13 at 32; without (two rows at a
    // time) 0.31–0.76 for 4–8 rows, 0.60–1.18 at 12. One threshold for every CPU keeps the bits the same on all of them.
    private const int SmallRows = 12;
    private const int SmallColumnsPerTask = 64;

    // Packing buffers, per thread (a product may be called from several threads at once): Ap belongs to the
    // calling thread, Bp to the thread running a task. They grow once and are reused (no allocation after warm-up).
    [ThreadStatic] private static float[]? t_packedA;
    [ThreadStatic] private static float[]? t_packedB;

    public static bool IsSupported => TKernel.IsSupported;

    public override string ToString() => $"packed {MR}×{NR} {TKernel.Name}";

    public void Multiply(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<float> A, ReadOnlySpan<float> B, Span<float> C)
    {
        if (!GemmArguments.NeedProduct(m, n, k, A, B, C)) return;
        fixed (float* a = A)
        fixed (float* b = B)
        fixed (float* c = C)
            Run(transposeA, transposeB, m, n, k, a, b, c, packedB: null);
    }

    /// <inheritdoc/>
    public long PackedLength(int n, int k) => PanelsLength(n, k) + (long)(n / 8 * 8) * (k / 8 * 8);

    /// <summary>The floats of Bᵀ in the micro-kernel's panels (the first part of a packed B; the rows in eights follow).</summary>
    private static long PanelsLength(int n, int k) => (long)((n + NR - 1) / NR * NR) * k;

    /// <inheritdoc/>
    public void PackTransposed(ReadOnlySpan<float> B, int n, int k, Span<float> packed)
    {
        if (B.Length < (long)n * k || packed.Length < PackedLength(n, k)) throw new ArgumentException($"PackTransposed: storage too small for B {n}×{k}");
        int nPad = (n + NR - 1) / NR * NR;
        fixed (float* b = B)
        fixed (float* bp = packed)
        {
            for (int kb = 0; kb < k; kb += KC)
                PackB(b, n, k, transposeB: true, bp + (long)kb * nPad, kb, Math.Min(KC, k - kb), 0, n);
            // then the rows in eights, for a single row's products (DotColumns): for each eight rows of B and each eight
            // columns p, the eight rows' eight elements, row after row — one stream where the rows' own are eight
            float* eights = bp + PanelsLength(n, k);
            int blocks = k / 8;
            for (int g = 0; g < n / 8; g++)
                for (int q = 0; q < blocks; q++)
                    for (int r = 0; r < 8; r++)
                        new ReadOnlySpan<float>(b + (long)(8 * g + r) * k + 8 * q, 8).CopyTo(new Span<float>(eights + ((long)g * blocks + q) * 64 + 8 * r, 8));
        }
    }

    /// <inheritdoc/>
    public void MultiplyPacked(int m, int n, int k, ReadOnlySpan<float> A, ReadOnlySpan<float> B, ReadOnlySpan<float> packed, Span<float> C)
    {
        if (!GemmArguments.NeedProduct(m, n, k, A, B, C)) return;
        if (packed.Length < PackedLength(n, k)) throw new ArgumentException($"MultiplyPacked: {packed.Length} packed floats for B {n}×{k}");
        fixed (float* a = A)
        fixed (float* b = B)
        fixed (float* bp = packed)
        fixed (float* c = C)
            Run(transposeA: false, transposeB: true, m, n, k, a, b, c, bp);
    }

    /// <summary>C = op(A)·op(B); <paramref name="packedB"/>: op(B) already packed whole (<see cref="PackTransposed"/>), or null.</summary>
    private static void Run(bool transposeA, bool transposeB, int m, int n, int k, float* a, float* b, float* c, float* packedB)
    {
        if (transposeB && !transposeA && m < SmallRows)
        {
            int tasks = (n + SmallColumnsPerTask - 1) / SmallColumnsPerTask;
            float* eights = packedB == null ? null : packedB + PanelsLength(n, k);
            Parallelism.For(tasks, (long)m * n * k, new DotColumns(a, b, eights, c, m, n, k));
            return;
        }
        int panels = (m + MR - 1) / MR;
        float* ap = Buffer(ref t_packedA, (long)panels * MR * k);
        Parallelism.For(panels, (long)m * k * 8, new PackA(a, ap, m, k, transposeA));
        // Tasks of MC·rowTiles rows × nc columns
        var (nc, rowTiles, tasksDown, tasksAcross) = TaskShape(m, n);
        Parallelism.For(tasksDown * tasksAcross, (long)m * n * k, new Tiles(ap, b, packedB, c, m, n, k, transposeB, tasksAcross, rowTiles * MC, nc));
    }

    /// <summary>A 64-byte aligned pointer into a pinned per-thread buffer of at least <paramref name="length"/> floats.</summary>
    private static float* Buffer(ref float[]? buffer, long length)
    {
        if (buffer is null || buffer.Length < length + Align)
            buffer = GC.AllocateUninitializedArray<float>(checked((int)(length + Align)), pinned: true);
        float* p = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (float*)(((nint)p + 63) & ~(nint)63);
    }

    /// <summary>Panel i of op(A): Ap[slice s][panel i][p][r] = op(A)(i·MR + r, s·KC + p), 0 below row m.</summary>
    private readonly struct PackA(float* a, float* ap, int m, int k, bool transposeA) : IParallelBody
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int panel)
        {
            int panels = (m + MR - 1) / MR, i0 = panel * MR, rows = Math.Min(MR, m - i0);
            float* block = stackalloc float[64];
            for (int kb = 0; kb < k; kb += KC)
            {
                int kl = Math.Min(KC, k - kb);
                float* target = ap + (long)panels * MR * kb + (long)panel * MR * kl;
                int p = 0;
                if (rows == MR && transposeA)
                {
                    for (; p < kl; p++)           // op(A) = Aᵀ: the MR rows of a panel are contiguous in A
                    {
                        float* source = a + (long)(kb + p) * m + i0;
                        if (MR == 8) Vector256.Store(Vector256.Load(source), target + p * MR);
                        else for (int r = 0; r < MR; r++) target[p * MR + r] = source[r];
                    }
                }
                else if (rows == MR && MR == 8)
                {
                    for (; p + 8 <= kl; p += 8)   // rows of A are k apart: 8×8 transposes
                        BlockTranspose.Transpose8x8(ref a[(long)i0 * k + kb + p], k, ref target[p * MR], MR);
                }
                else if (rows == MR && MR < 8 && i0 + 8 <= m)
                {
                    for (; p + 8 <= kl; p += 8)   // the same through an 8×8 block, of which MR rows are kept
                    {
                        BlockTranspose.Transpose8x8(ref a[(long)i0 * k + kb + p], k, ref block[0], 8);
                        for (int q = 0; q < 8; q++)
                            for (int r = 0; r < MR; r++) target[(p + q) * MR + r] = block[q * 8 + r];
                    }
                }
                for (; p < kl; p++)
                    for (int r = 0; r < MR; r++)
                        target[p * MR + r] = r < rows ? (transposeA ? a[(long)(kb + p) * m + i0 + r] : a[(long)(i0 + r) * k + kb + p]) : 0f;
            }
        }
    }

    /// <summary>
    /// One task per iteration: taskRows × nc columns of C (taskRows a multiple of MC). For each k-slice, pack the task's block
    /// of op(B), then run the micro-kernels over it one MC-row tile at a time (the tile's KC×MC block of Ap stays in L2).
    /// </summary>
    private readonly struct Tiles(float* ap, float* b, float* packedB, float* c, int m, int n, int k, bool transposeB, int tilesAcross, int taskRows, int nc) : IParallelBody
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int t)
        {
            int panels = (m + MR - 1) / MR;
            int r0 = t / tilesAcross * taskRows, j0 = t % tilesAcross * nc;
            int r1 = Math.Min(r0 + taskRows, m), j1 = Math.Min(j0 + nc, n);
            float* bp = Buffer(ref t_packedB, KC * WideNC + MR * NR);
            float* edge = bp + KC * WideNC;   // an MR×NR scratch tile for the edges of C
            if (packedB != null)
            {
                // op(B) packed whole beforehand: the task's block of each k-slice is a run of it (see PackTransposed)
                int nPad = (n + NR - 1) / NR * NR;
                var none = new NoPrefetch();
                for (int kb = 0; kb < k; kb += KC)
                {
                    int kl = Math.Min(KC, k - kb);
                    float* block = packedB + (long)kb * nPad + (long)j0 * kl;
                    for (int i0 = r0; i0 < r1; i0 += MC)
                        Block(block, edge, kb, kl, i0, Math.Min(i0 + MC, r1), j0, j1, panels, ref none);
                }
                return;
            }
            for (int kb = 0; kb < k; kb += KC)
            {
                int kl = Math.Min(KC, k - kb);
                PackB(b, n, k, transposeB, bp, kb, kl, j0, j1);
                if (r1 - r0 <= MC && kb + KC < k)
                {
                    // One row tile (a batch of ≤ MC rows): packing a block of op(B) would take a sixth of the task, mostly
                    // waiting on memory, so the micro-kernels ask for the next slice's block while they run
                    int next = kb + KC, calls = (r1 - r0 + MR - 1) / MR * ((j1 - j0 + NR - 1) / NR);
                    var ahead = transposeB
                        ? new PrefetchRuns(b + (long)j0 * k + next, k, j1 - j0, Math.Min(KC, k - next), calls)
                        : new PrefetchRuns(b + (long)next * n + j0, n, Math.Min(KC, k - next), j1 - j0, calls);
                    Block(bp, edge, kb, kl, r0, r1, j0, j1, panels, ref ahead);
                    continue;
                }
                var none = new NoPrefetch();
                for (int i0 = r0; i0 < r1; i0 += MC)
                    Block(bp, edge, kb, kl, i0, Math.Min(i0 + MC, r1), j0, j1, panels, ref none);
            }
        }

        /// <summary>
        /// The micro-kernels of rows i0..i1 × columns j0..j1 of C for one k-slice, op(B)'s block packed in bp; before each,
        /// a step of <paramref name="ahead"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Block<TPrefetch>(float* bp, float* edge, int kb, int kl, int i0, int i1, int j0, int j1, int panels, ref TPrefetch ahead)
            where TPrefetch : struct, IPrefetch
        {
            for (int j = j0; j < j1; j += NR)
            {
                float* bPanel = bp + (long)(j - j0) * kl;
                int cols = Math.Min(NR, j1 - j);
                for (int i = i0; i < i1; i += MR)
                {
                    float* aPanel = ap + (long)panels * MR * kb + (long)i / MR * MR * kl;
                    int rows = Math.Min(MR, i1 - i);
                    float* cp = c + (long)i * n + j;
                    ahead.Step();
                    if (rows == MR && cols == NR)
                    {
                        TKernel.Run(kl, aPanel, bPanel, cp, n, kb > 0);
                        continue;
                    }
                    TKernel.Run(kl, aPanel, bPanel, edge, NR, false);
                    for (int r = 0; r < rows; r++)
                        for (int jj = 0; jj < cols; jj++)
                            cp[(long)r * n + jj] = kb > 0 ? cp[(long)r * n + jj] + edge[r * NR + jj] : edge[r * NR + jj];
                }
            }
        }
    }

    /// <summary>Bp[panel][p][jj] = op(B)(kb + p, j0 + panel·NR + jj) for the columns j0..j1 of one k-slice, 0 right of j1 (op(B) k×n).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(float* b, int n, int k, bool transposeB, float* bp, int kb, int kl, int j0, int j1)
    {
        int j = j0;
        if (!transposeB)
        {
            // op(B) = B, k×n: row p of the block is one contiguous run, read once, NR floats into each full panel
            int full = (j1 - j0) / NR;
            for (int p = 0; p < kl; p++)
            {
                float* row = b + (long)(kb + p) * n + j0;
                for (int q = 0; q < full; q++)
                    for (int jj = 0; jj < NR; jj += 8) Vector256.Store(Vector256.Load(row + q * NR + jj), bp + (long)q * NR * kl + p * NR + jj);
            }
            j += full * NR;
        }
        for (; j < j1; j += NR)
        {
            float* panel = bp + (long)(j - j0) * kl;
            int cols = Math.Min(NR, j1 - j);
            int p8 = 0;
            if (transposeB && cols == NR)
            {
                // op(B) = Bᵀ, B n×k: rows of B become columns of the panel, by 8×8 transposes, 8 rows of B at a
                // time read from start to end (8 streams; 32 rows at once, often 4 KB apart, would share one L1 set)
                p8 = kl / 8 * 8;
                for (int jj = 0; jj < NR; jj += 8)
                    for (int p = 0; p < p8; p += 8)
                        BlockTranspose.Transpose8x8(ref b[(long)(j + jj) * k + kb + p], k, ref panel[p * NR + jj], NR);
            }
            for (int p = p8; p < kl; p++)
                for (int jj = 0; jj < NR; jj++)
                    panel[p * NR + jj] = jj < cols ? (transposeB ? b[(long)(j + jj) * k + kb + p] : b[(long)(kb + p) * n + j + jj]) : 0f;
        }
    }

    /// <summary>A step before each micro-kernel of a block: <see cref="NoPrefetch"/>, or <see cref="PrefetchRuns"/>.</summary>
    private interface IPrefetch
    {
        void Step();
    }

    private struct NoPrefetch : IPrefetch
    {
        public readonly void Step() { }
    }

    /// <summary>
    /// Asks for the lines of <paramref name="runs"/> runs of <paramref name="length"/> floats, <paramref name="stride"/> apart from
    /// <paramref name="start"/> (the next k-slice's block of op(B) in B), into L2, spread evenly over <paramref name="calls"/> steps.
    /// </summary>
    private struct PrefetchRuns(float* start, long stride, int runs, int length, int calls) : IPrefetch
    {
        private int _next, _step;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step()
        {
            if (_next >= runs) return;
            int end = (int)Math.Min((long)++_step * runs / calls + 1, runs);
            for (; _next < end; _next++)
            {
                float* run = start + _next * stride;
                for (int l = 0; l < length; l += 16) Sse.Prefetch1(run + l);
                Sse.Prefetch1(run + length - 1);   // the last line, where the run straddles one more
            }
        }
    }

    /// <summary>
    /// C = A·Bᵀ for fewer than <see cref="SmallRows"/> rows of A: column tile t of every row, each C_ij one dot
    /// product of row i of A and row j of B. One row: eight rows of B at a time (one core keeps more of memory's
    /// bandwidth with eight streams of B in flight than with four); more: four rows of A (with AVX-512's registers) or
    /// two against four of B, so that each load of B serves several rows (the tile of B stays in L2 while the rows of A
    /// pass). With B packed (<paramref name="eights"/>: its rows in eights, <see cref="PackTransposed"/>), a single row reads
    /// the eight rows of B as one stream, each eight columns p of the eight rows after another (784-1024-512-10, one row, 1
    /// thread, Zen 4: the two large products 57–78 µs against 70–107 from the rows themselves, a one-off harness; a
    /// predictor's whole prediction 0.92–0.93 of the model's, median of 31 rounds); several rows read B's rows themselves
    /// (from the eights, whose four-row halves lie 256 bytes apart, 1.10–1.20 of the time). Each C_ij is the same chain of
    /// FMAs in every grouping and from either layout, so neither changes a bit, on any CPU.
    /// </summary>
    private readonly struct DotColumns(float* a, float* b, float* eights, float* c, int m, int n, int k) : IParallelBody
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int t)
        {
            int j0 = t * SmallColumnsPerTask, j1 = Math.Min(n, j0 + SmallColumnsPerTask);
            int i = 0;
            // with AVX-512's 32 vector registers, four rows of A against four of B (16 accumulators) fit without spilling
            for (; Avx512F.VL.IsSupported && i + 4 <= m; i += 4)
            {
                float* x = a + (long)i * k;
                int j = j0;
                for (; j + 4 <= j1; j += 4) Dot4x4(x, b + (long)j * k, k, c + (long)i * n + j, n);
                for (; j < j1; j++)
                    for (int r = 0; r < 4; r++) c[(long)(i + r) * n + j] = Dot(x + (long)r * k, b + (long)j * k, k);
            }
            for (; i + 2 <= m; i += 2)
            {
                float* x = a + (long)i * k;
                int j = j0;
                for (; j + 4 <= j1; j += 4) Dot2x4(x, b + (long)j * k, k, c + (long)i * n + j, n);
                for (; j < j1; j++)
                    for (int r = 0; r < 2; r++) c[(long)(i + r) * n + j] = Dot(x + (long)r * k, b + (long)j * k, k);
            }
            for (; i < m; i++)
            {
                float* x = a + (long)i * k;
                int j = j0;
                for (; j + 8 <= j1; j += 8) Dot1x8(x, Rows(j, out nint js, out nint bs), js, bs, b + (long)j * k, k, c + (long)i * n + j);
                for (; j < j1; j++) c[(long)i * n + j] = Dot(x, b + (long)j * k, k);
            }
        }

        /// <summary>
        /// Where the elements p = 8q … 8q + 7 of rows j … j + 7 of B lie (j a multiple of 8, j + 8 ≤ n: a whole eight, as
        /// the caller's loop takes them; the last n mod 8 rows go to Dot): row j's at the result + q·<paramref name="bs"/>,
        /// each next row's <paramref name="js"/> further; from the rows in eights when B is packed, else from B itself. Only
        /// whole eights of p: the rest is read from B's rows.
        /// </summary>
        private float* Rows(int j, out nint js, out nint bs)
        {
            if (eights != null)
            {
                (js, bs) = (8, 64);
                return eights + (long)(j / 8) * (k / 8) * 64;
            }
            (js, bs) = (k, 8);
            return b + (long)j * k;
        }

        /// <summary>C[r][j] for rows r = 0..3 of A (k apart from x0) and rows j = 0..3 of B (k apart from y0); C's rows ldc apart.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Dot4x4(float* x0, float* y0, int k, float* c, int ldc)
        {
            float* x1 = x0 + k, x2 = x1 + k, x3 = x2 + k, y1 = y0 + k, y2 = y1 + k, y3 = y2 + k;
            Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
            Vector256<float> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
            int p = 0;
            for (; p + 8 <= k; p += 8)
            {
                var u0 = Vector256.Load(x0 + p);
                var u1 = Vector256.Load(x1 + p);
                var u2 = Vector256.Load(x2 + p);
                var u3 = Vector256.Load(x3 + p);
                var w = Vector256.Load(y0 + p);
                s00 = Fma.MultiplyAdd(u0, w, s00); s10 = Fma.MultiplyAdd(u1, w, s10); s20 = Fma.MultiplyAdd(u2, w, s20); s30 = Fma.MultiplyAdd(u3, w, s30);
                w = Vector256.Load(y1 + p);
                s01 = Fma.MultiplyAdd(u0, w, s01); s11 = Fma.MultiplyAdd(u1, w, s11); s21 = Fma.MultiplyAdd(u2, w, s21); s31 = Fma.MultiplyAdd(u3, w, s31);
                w = Vector256.Load(y2 + p);
                s02 = Fma.MultiplyAdd(u0, w, s02); s12 = Fma.MultiplyAdd(u1, w, s12); s22 = Fma.MultiplyAdd(u2, w, s22); s32 = Fma.MultiplyAdd(u3, w, s32);
                w = Vector256.Load(y3 + p);
                s03 = Fma.MultiplyAdd(u0, w, s03); s13 = Fma.MultiplyAdd(u1, w, s13); s23 = Fma.MultiplyAdd(u2, w, s23); s33 = Fma.MultiplyAdd(u3, w, s33);
            }
            c[0] = Finish(x0, y0, p, k, s00); c[1] = Finish(x0, y1, p, k, s01); c[2] = Finish(x0, y2, p, k, s02); c[3] = Finish(x0, y3, p, k, s03);
            c += ldc;
            c[0] = Finish(x1, y0, p, k, s10); c[1] = Finish(x1, y1, p, k, s11); c[2] = Finish(x1, y2, p, k, s12); c[3] = Finish(x1, y3, p, k, s13);
            c += ldc;
            c[0] = Finish(x2, y0, p, k, s20); c[1] = Finish(x2, y1, p, k, s21); c[2] = Finish(x2, y2, p, k, s22); c[3] = Finish(x2, y3, p, k, s23);
            c += ldc;
            c[0] = Finish(x3, y0, p, k, s30); c[1] = Finish(x3, y1, p, k, s31); c[2] = Finish(x3, y2, p, k, s32); c[3] = Finish(x3, y3, p, k, s33);
        }

        /// <summary>C[r][j] for rows r = 0, 1 of A (k apart from x0) and rows j = 0..3 of B (k apart from y0); C's rows ldc apart.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Dot2x4(float* x0, float* y0, int k, float* c, int ldc)
        {
            float* x1 = x0 + k, y1 = y0 + k, y2 = y1 + k, y3 = y2 + k;
            Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
            int p = 0;
            for (; p + 8 <= k; p += 8)
            {
                var u = Vector256.Load(x0 + p);
                var v = Vector256.Load(x1 + p);
                var w = Vector256.Load(y0 + p);
                s00 = Fma.MultiplyAdd(u, w, s00); s10 = Fma.MultiplyAdd(v, w, s10);
                w = Vector256.Load(y1 + p);
                s01 = Fma.MultiplyAdd(u, w, s01); s11 = Fma.MultiplyAdd(v, w, s11);
                w = Vector256.Load(y2 + p);
                s02 = Fma.MultiplyAdd(u, w, s02); s12 = Fma.MultiplyAdd(v, w, s12);
                w = Vector256.Load(y3 + p);
                s03 = Fma.MultiplyAdd(u, w, s03); s13 = Fma.MultiplyAdd(v, w, s13);
            }
            c[0] = Finish(x0, y0, p, k, s00); c[1] = Finish(x0, y1, p, k, s01); c[2] = Finish(x0, y2, p, k, s02); c[3] = Finish(x0, y3, p, k, s03);
            c[ldc] = Finish(x1, y0, p, k, s10); c[ldc + 1] = Finish(x1, y1, p, k, s11); c[ldc + 2] = Finish(x1, y2, p, k, s12); c[ldc + 3] = Finish(x1, y3, p, k, s13);
        }

        /// <summary>
        /// C[j] for one row x of A and rows j = 0..7 of B: their elements p = 8q… at y0 + q·bs, rows js apart (the rows in
        /// eights, or B's rows themselves: js = k, bs = 8); all of each, k apart from b0, for the last k mod 8.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void Dot1x8(float* x, float* y0, nint js, nint bs, float* b0, int k, float* c)
        {
            float* y1 = y0 + js, y2 = y1 + js, y3 = y2 + js, y4 = y3 + js, y5 = y4 + js, y6 = y5 + js, y7 = y6 + js;
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            int p = 0;
            for (nint q = 0; p + 8 <= k; p += 8, q += bs)
            {
                var v = Vector256.Load(x + p);
                s0 = Fma.MultiplyAdd(v, Vector256.Load(y0 + q), s0);
                s1 = Fma.MultiplyAdd(v, Vector256.Load(y1 + q), s1);
                s2 = Fma.MultiplyAdd(v, Vector256.Load(y2 + q), s2);
                s3 = Fma.MultiplyAdd(v, Vector256.Load(y3 + q), s3);
                s4 = Fma.MultiplyAdd(v, Vector256.Load(y4 + q), s4);
                s5 = Fma.MultiplyAdd(v, Vector256.Load(y5 + q), s5);
                s6 = Fma.MultiplyAdd(v, Vector256.Load(y6 + q), s6);
                s7 = Fma.MultiplyAdd(v, Vector256.Load(y7 + q), s7);
            }
            c[0] = Finish(x, b0, p, k, s0);
            c[1] = Finish(x, b0 + k, p, k, s1);
            c[2] = Finish(x, b0 + 2 * k, p, k, s2);
            c[3] = Finish(x, b0 + 3 * k, p, k, s3);
            c[4] = Finish(x, b0 + 4 * k, p, k, s4);
            c[5] = Finish(x, b0 + 5 * k, p, k, s5);
            c[6] = Finish(x, b0 + 6 * k, p, k, s6);
            c[7] = Finish(x, b0 + 7 * k, p, k, s7);
        }

        /// <summary>The dot product from the partial sums in <paramref name="s"/> and the elements p..k−1.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static float Finish(float* x, float* y, int p, int k, Vector256<float> s)
        {
            float sum = Vector256.Sum(s);
            for (; p < k; p++) sum = MathF.FusedMultiplyAdd(x[p], y[p], sum);
            return sum;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static float Dot(float* x, float* y, int k)
        {
            Vector256<float> acc = default;
            int p = 0;
            for (; p + 8 <= k; p += 8) acc = Fma.MultiplyAdd(Vector256.Load(x + p), Vector256.Load(y + p), acc);
            return Finish(x, y, p, k, acc);
        }
    }
}
