using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Nerva.Tests;

/// <summary>
/// The C# blocks marked <c>&lt;!-- tested: QuickstartTests --&gt;</c> in the README, docs/library.md and
/// docs/tables-and-ml-net.md (in that order), compiled and run as a user would: against
/// the Nerva and Nerva.ML packages packed from this repository into a local folder feed, in a project outside the
/// repository (a block that uses Nerva.ML references that package, the others Nerva).
/// </summary>
public sealed partial class QuickstartTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("nerva-quickstart-").FullName;
    private readonly string _version = $"0.0.0-quickstart.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

    public void Dispose()
    {
        Directory.Delete(_directory, recursive: true);
        // the package of this run in the global cache: each run packs another version
        foreach (string package in new[] { "nerva", "nerva.ml", "nerva.mlp", "nerva.distributed" })
        {
            string cached = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), package, _version);
            if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
        }
    }

    /// <summary>The repository: the first folder above the test assembly that holds Nerva.slnx (source paths are mapped to /_/ in CI builds).</summary>
    private static string Repository()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "Nerva.slnx"))) return folder.FullName;
        throw new InvalidOperationException($"no Nerva.slnx above {AppContext.BaseDirectory}");
    }

    private static (int Code, string Output) Dotnet(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }

    /// <summary>Packs src/<paramref name="project"/> at this run's version into <paramref name="feed"/>, built apart from the repository's own outputs.</summary>
    private void Pack(string repository, string project, string feed)
    {
        var (code, output) = Dotnet(repository, "pack", Path.Combine(repository, "src", project, $"{project}.csproj"), "-c", "Release", "-o", feed, $"-p:Version={_version}",
            $"-p:OutputPath={Path.Combine(_directory, "pack-bin", project)}/", $"-p:IntermediateOutputPath={Path.Combine(_directory, "pack-obj", project)}/");
        Assert.True(code == 0, output);
    }

    [Fact]
    public void The_readme_code_runs_against_the_packed_package()
    {
        string repository = Repository();
        var blocks = new[] { "README.md", "docs/library.md", "docs/tables-and-ml-net.md" }
            .SelectMany(document => TestedBlock().Matches(File.ReadAllText(Path.Combine(repository, document)))).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(5, blocks.Length);

        string feed = Path.Combine(_directory, "feed");
        int code;
        string output;
        foreach (string package in new[] { "Nerva", "Nerva.ML" }) Pack(repository, package, feed);
        File.WriteAllText(Path.Combine(_directory, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <add key="local" value="{feed}" />
              </packageSources>
            </configuration>
            """);

        var outputs = new List<string>();
        for (int b = 0; b < blocks.Length; b++)
        {
            string project = Directory.CreateDirectory(Path.Combine(_directory, $"block{b + 1}")).FullName;
            File.WriteAllText(Path.Combine(project, "Quickstart.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="{(blocks[b].Contains("using Nerva.ML;", StringComparison.Ordinal) ? "Nerva.ML" : "Nerva")}" Version="{_version}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(project, "Program.cs"), blocks[b]);
            (code, output) = Dotnet(project, "run", "-c", "Release");
            Assert.True(code == 0, $"block {b + 1}:\n{output}");
            outputs.Add(output);
        }

        // the quickstart: trained, saved, loaded, evaluated, predicted and exported
        double accuracy = double.Parse(Regex.Match(outputs[0], @"test accuracy (\d\.\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(accuracy, 0.8, 1);
        Assert.Contains("epoch   2", outputs[0]);
        Assert.Matches(@"first test image: class \d, p = 0\.\d{3}", outputs[0]);
        Assert.True(File.Exists(Path.Combine(_directory, "block1", "fashion.npz")));
        Assert.True(File.Exists(Path.Combine(_directory, "block1", "fashion.onnx")));
        // the engine: one step on a batch
        Assert.Matches(@"loss \d+\.\d{4}", outputs[1]);
        // the loop's callbacks and a checkpoint resumed bit for bit
        Assert.Matches(@"epoch 4: loss \d\.\d{4}, test accuracy 0\.8\d{3}", outputs[2]);
        Assert.Contains("resumed from epoch 2: the same weights: True", outputs[2]);
        outputs.RemoveAt(2);
        // a CSV table: the digits, with their classes' names
        double digits = double.Parse(Regex.Match(outputs[2], @"digits: test accuracy (\d\.\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(digits, 0.95, 1);
        Assert.Contains("classes 0 1 2 3 4 5 6 7 8 9", outputs[2]);
        // ML.NET: cross-validated, saved, loaded in a fresh context and used
        double wine = double.Parse(Regex.Match(outputs[3], @"wine: 5-fold macro accuracy (\d\.\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(wine, 0.9, 1);
        Assert.Matches(@"wine: first classes predicted [012] [012] [012]", outputs[3]);
        Assert.True(File.Exists(Path.Combine(_directory, "block5", "wine.zip")));
    }

    /// <summary>The README's install of the tool: packed into a folder, installed from it as a .NET tool, and run.</summary>
    [Fact]
    public void The_tool_installs_from_the_packed_package_and_trains()
    {
        string repository = Repository(), feed = Path.Combine(_directory, "tool-feed"), tools = Path.Combine(_directory, "tools");
        Pack(repository, "Nerva.Cli", feed);
        var (code, output) = Dotnet(_directory, "tool", "install", "--tool-path", tools, "Nerva.Mlp", "--version", _version, "--add-source", feed);
        Assert.True(code == 0, output);
        var start = new ProcessStartInfo(Path.Combine(tools, "mlp")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in new[] { "--generate-dataset", "checkerboard", "--layers", "ReLU;Linear", "--layer-sizes", "2;16;2", "--loss", "SoftmaxCrossEntropy", "--epochs", "2", "--batch-size", "20", "--seed", "1" })
            start.ArgumentList.Add(arg);
        using var mlp = Process.Start(start)!;
        string printed = mlp.StandardOutput.ReadToEnd() + mlp.StandardError.ReadToEnd();
        mlp.WaitForExit();
        Assert.True(mlp.ExitCode == 0, printed);
        Assert.Contains("epoch   2 lr:", printed);
    }

    [GeneratedRegex(@"<!-- tested: QuickstartTests -->\s*```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex TestedBlock();
}
