using System.Globalization;
using Nerva.Tests.Fuzzing;

namespace Nerva.Bench;

/// <summary>
/// The long fuzz campaign of issue 13: every reader on <c>inputs</c> seeded mutations (the suite's fuzzer, longer), as a
/// Markdown table: inputs, accepted, refused with one line, uncaught exceptions, refusals of more than one line,
/// inputs over the allocation limit, the largest allocation of one input, the slowest input. A third argument names the
/// readers to run (comma-separated; default all).
/// </summary>
internal static class FuzzCampaign
{
    public static int Run(TextWriter output, int inputs, ulong seed, IReadOnlyList<string>? readers = null)
    {
        using var fuzzer = new ReaderFuzzer();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{inputs} inputs per reader, seed {seed}"));
        output.WriteLine();
        output.WriteLine("| reader | inputs | accepted | refused (one line) | uncaught | multi-line | over the allocation limit | peak allocation of one input | slowest input |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|");
        int failures = 0;
        var all = new List<ReaderFuzzer.Result>();
        foreach (string reader in readers ?? ReaderFuzzer.Readers)
        {
            var r = fuzzer.Run(reader, inputs, seed);
            all.Add(r);
            failures += r.Uncaught.Count + r.BadMessages.Count + r.OverLimit;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Reader} | {r.Inputs} | {r.Accepted} | {r.Rejected} | {r.Uncaught.Count} | {r.BadMessages.Count} | {r.OverLimit} | {r.PeakAllocated / 1048576.0:F1} MB | {1000 * r.SlowestSeconds:F0} ms |"));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| all | {all.Sum(r => r.Inputs)} | {all.Sum(r => r.Accepted)} | {all.Sum(r => r.Rejected)} | {all.Sum(r => r.Uncaught.Count)} | {all.Sum(r => r.BadMessages.Count)} | {all.Sum(r => r.OverLimit)} | {all.Max(r => r.PeakAllocated) / 1048576.0:F1} MB | {1000 * all.Max(r => r.SlowestSeconds):F0} ms |"));
        foreach (var line in all.SelectMany(r => r.Uncaught.Concat(r.BadMessages))) output.WriteLine("- " + line);
        return failures == 0 ? 0 : 1;
    }
}
