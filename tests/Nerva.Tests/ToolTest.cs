using System.Globalization;
using Nerva.Cli;

namespace Nerva.Tests;

/// <summary>
/// What the tests of the mlp tool share: a temporary directory, deleted afterwards; the process-wide thread count (which
/// --threads sets) given back; the tool run in this process with its output and error captured.
/// </summary>
public abstract class ToolTest : IDisposable
{
    private readonly int _threads = Kernels.Parallelism.Threads;

    /// <summary>A fresh directory for the test's files.</summary>
    protected string Folder { get; } = Directory.CreateTempSubdirectory("nerva-tool-").FullName;

    /// <summary>The mlp tool on <paramref name="args"/>: its exit code and what it wrote to its output and error.</summary>
    protected static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        int code = Mlp.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary><paramref name="args"/> with the options of <paramref name="changes"/> (name, value pairs) replaced, or added where missing.</summary>
    protected static string[] Replaced(string[] args, params string[] changes)
    {
        var result = args.ToList();
        for (int c = 0; c < changes.Length; c += 2)
        {
            int at = result.IndexOf(changes[c]);
            if (at >= 0) result[at + 1] = changes[c + 1];
            else result.AddRange([changes[c], changes[c + 1]]);
        }
        return [.. result];
    }

    public void Dispose()
    {
        Kernels.Parallelism.Threads = _threads;
        Directory.Delete(Folder, recursive: true);
        GC.SuppressFinalize(this);
    }
}
