using System.Diagnostics;
using System.Globalization;
using Nerva.Data;

namespace Nerva.Bench;

/// <summary>
/// CSV reading (<see cref="CsvTable.Read"/>, one thread): a generated file of <c>rows</c> × <c>cols</c> numbers with six
/// decimals and an integer label (10⁶ × 100 by default, about 0.9 GB, written to the temporary folder once and reused),
/// read 3 times: MB/s of text, and the bytes allocated and (on the first read) the growth of the working set against the
/// float matrix.
/// </summary>
internal static class CsvBenchmark
{
    public static void Run(TextWriter output, int rows, int cols)
    {
        string path = Path.Combine(Path.GetTempPath(), $"nerva-bench-{rows}x{cols}.csv");
        if (!File.Exists(path))
        {
            var rng = new Rng(1);
            string temporary = path + ".part";
            using (var writer = new StreamWriter(temporary, false, new System.Text.UTF8Encoding(false), 1 << 20))
            {
                writer.WriteLine(string.Join(',', Enumerable.Range(0, cols).Select(j => $"x{j}").Append("label")));
                var line = new System.Text.StringBuilder();
                for (int i = 0; i < rows; i++)
                {
                    line.Clear();
                    for (int j = 0; j < cols; j++) line.Append(rng.NextDouble().ToString("F6", CultureInfo.InvariantCulture)).Append(',');
                    line.Append(i % 10);
                    writer.WriteLine(line);
                }
            }
            File.Move(temporary, path);
        }
        double megabytes = new FileInfo(path).Length / 1e6, matrix = (double)rows * cols * sizeof(float);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{path}: {megabytes:F0} MB, {rows} rows × {cols} numbers + a label; the float matrix is {matrix / 1e6:F0} MB\n"));
        output.WriteLine("| read | seconds | MB/s | allocated / matrix | peak working set − before / matrix (first read; later reads reuse the heap) |\n|---|---|---|---|---|");
        for (int r = 1; r <= 3; r++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            using var process = Process.GetCurrentProcess();
            process.Refresh();
            long before = process.WorkingSet64, allocated = GC.GetAllocatedBytesForCurrentThread(), start = Stopwatch.GetTimestamp();
            long peak = before;
            using var sampler = new Timer(_ =>
            {
                process.Refresh();
                peak = Math.Max(peak, process.WorkingSet64);
            }, null, 0, 20);
            var table = CsvTable.Read(path, new CsvOptions { LabelColumn = "label" });
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            process.Refresh();
            peak = Math.Max(peak, process.WorkingSet64);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {r} | {seconds:F2} | {megabytes / seconds:F0} | {allocated / matrix:F3} | {(r == 1 ? ((peak - before) / matrix).ToString("F3", CultureInfo.InvariantCulture) : "")} |"));
            GC.KeepAlive(table);
        }
    }
}
