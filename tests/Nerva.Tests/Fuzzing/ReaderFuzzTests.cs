namespace Nerva.Tests.Fuzzing;

/// <summary>
/// Every reader on a few thousand seeded mutations of valid files (issue 13): accepted or refused with one line, no other
/// exception, no allocation beyond what the input could hold. The long campaign is <c>bench fuzz</c>.
/// </summary>
[Collection(ThreadCountCollection.Name)]
public sealed class ReaderFuzzTests
{
    public static TheoryData<string> Readers => [.. ReaderFuzzer.Readers];

    [Theory]
    [MemberData(nameof(Readers))]
    public void Mutated_files_are_read_or_refused_with_one_line(string reader)
    {
        using var fuzzer = new ReaderFuzzer();
        var result = fuzzer.Run(reader, inputs: 2000, seed: 13);
        Assert.True(result.Uncaught.Count == 0, string.Join("\n", result.Uncaught));
        Assert.True(result.BadMessages.Count == 0, string.Join("\n", result.BadMessages));
        Assert.Equal(0, result.OverLimit);
        // the mutations reach past the first check: some inputs are still accepted, most are refused
        Assert.InRange(result.Accepted, 1, result.Inputs / 2);
        Assert.Equal(result.Inputs, result.Accepted + result.Rejected);
    }
}
