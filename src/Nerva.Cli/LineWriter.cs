using System.Text;

namespace Nerva.Cli;

/// <summary>A writer that hands every completed line to <see cref="Line"/> (the trainer's output under a progress display).</summary>
internal sealed class LineWriter : TextWriter
{
    private readonly StringBuilder _line = new();

    public event Action<string>? Line;

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        if (value == '\n')
        {
            Line?.Invoke(_line.ToString().TrimEnd('\r'));
            _line.Clear();
        }
        else _line.Append(value);
    }
}
