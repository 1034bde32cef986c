using System.Text.RegularExpressions;

namespace Nerva.Tests;

/// <summary>
/// The README and the guides in docs/: every code block (other than output, <c>```text</c>) says whether a test
/// compiles or runs it (<c>&lt;!-- tested: SomeTests --&gt;</c>, naming a test class that exists) or that it is not run
/// (<c>&lt;!-- not run: why --&gt;</c>); every relative link reaches a file of the repository, and every #anchor a heading
/// of its page (GitHub's rule: lower case, punctuation dropped, spaces to hyphens).
/// </summary>
public sealed partial class DocumentationTests
{
    public static TheoryData<string> Documents()
    {
        var data = new TheoryData<string>();
        data.Add("README.md");
        foreach (string path in Directory.GetFiles(Path.Combine(Repository, "docs"), "*.md").Order(StringComparer.Ordinal))
            data.Add(Path.GetRelativePath(Repository, path));
        return data;
    }

    private static string Repository { get; } = FindRepository();

    private static string FindRepository()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "Nerva.slnx"))) return folder.FullName;
        throw new InvalidOperationException($"no Nerva.slnx above {AppContext.BaseDirectory}");
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_code_block_is_tested_or_marked_as_not_run(string document)
    {
        string[] lines = File.ReadAllLines(Path.Combine(Repository, document));
        bool inBlock = false;
        for (int i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("```", StringComparison.Ordinal)) continue;
            inBlock = !inBlock;
            if (!inBlock || lines[i] == "```text") continue;
            string marker = i > 0 ? lines[i - 1] : "";
            var tested = Tested().Match(marker);
            Assert.True(tested.Success || marker.StartsWith("<!-- not run", StringComparison.Ordinal),
                $"{document}:{i + 1}: the code block has no '<!-- tested: SomeTests -->' or '<!-- not run: why -->' line above it");
            if (tested.Success)
                Assert.True(typeof(DocumentationTests).Assembly.GetType($"Nerva.Tests.{tested.Groups[1].Value}") is not null,
                    $"{document}:{i}: no test class '{tested.Groups[1].Value}'");
        }
        Assert.False(inBlock, $"{document}: a code block is not closed");
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_relative_link_and_anchor_resolves(string document)
    {
        string text = File.ReadAllText(Path.Combine(Repository, document));
        foreach (Match link in Link().Matches(WithoutCode(text)))
        {
            string target = link.Groups[1].Value;
            if (target.StartsWith("http://", StringComparison.Ordinal) || target.StartsWith("https://", StringComparison.Ordinal)) continue;
            string[] parts = target.Split('#', 2);
            string file = parts[0].Length == 0 ? Path.Combine(Repository, document) : Path.GetFullPath(Path.Combine(Repository, Path.GetDirectoryName(document)!, parts[0]));
            Assert.True(File.Exists(file) || Directory.Exists(file), $"{document}: the link '{target}' reaches no file");
            if (parts.Length == 2)
                Assert.True(Anchors(File.ReadAllText(file)).Contains(parts[1]), $"{document}: the link '{target}' names no heading of {Path.GetFileName(file)}");
        }
    }

    /// <summary>docs/mlp-tool.md's tables of options by purpose hold every option that <c>mlp --help</c> prints.</summary>
    [Fact]
    public void The_tool_guide_lists_every_option_of_its_help()
    {
        var help = new StringWriter();
        Assert.Equal(0, Nerva.Cli.Mlp.Run(["--help"], help, TextWriter.Null));
        string[] options = [.. Option().Matches(help.ToString()).Select(m => m.Groups[1].Value).Distinct()];
        Assert.True(options.Length > 50, $"only {options.Length} options read from the help");
        string guide = File.ReadAllText(Path.Combine(Repository, "docs", "mlp-tool.md"));
        Assert.All(options, option => Assert.True(guide.Contains($"{option}` |", StringComparison.Ordinal), $"docs/mlp-tool.md's option tables lack {option}"));
    }

    [GeneratedRegex(@"^\s+(?:-\S+, )*(--[a-z0-9-]+)", RegexOptions.Multiline)]
    private static partial Regex Option();

    /// <summary>The anchors GitHub gives a page's headings.</summary>
    private static HashSet<string> Anchors(string markdown) =>
        [.. WithoutCode(markdown).Split('\n').Where(line => line.StartsWith('#')).Select(line => Slug(line.TrimStart('#').Trim()))];

    private static string Slug(string heading) => Punctuation().Replace(heading.ToLowerInvariant(), "").Replace(' ', '-');

    private static string WithoutCode(string markdown) => Code().Replace(markdown, "");

    [GeneratedRegex(@"^<!-- tested: (\w+) -->$")]
    private static partial Regex Tested();

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"[^\p{L}\p{N} _-]")]
    private static partial Regex Punctuation();

    [GeneratedRegex(@"```.*?```|`[^`\n]*`", RegexOptions.Singleline)]
    private static partial Regex Code();
}
