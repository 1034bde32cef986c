using System.Globalization;
using System.Text.RegularExpressions;

namespace Nerva.Specs;

/// <summary>
/// The original's <c>NAME</c>, <c>NAME(value)</c> and <c>NAME(k1=v1, k2=v2)</c> grammar. A single positional
/// value answers for any key, as in the original; keys and values are trimmed; a key may appear once.
/// </summary>
internal sealed partial class FunctionCall
{
    private readonly Dictionary<string, string> _arguments;

    private FunctionCall(string text, string name, Dictionary<string, string> arguments)
    {
        Text = text;
        Name = name;
        _arguments = arguments;
    }

    /// <summary>The text parsed.</summary>
    public string Text { get; }

    /// <summary>NAME.</summary>
    public string Name { get; }

    /// <summary>The number of arguments.</summary>
    public int Count => _arguments.Count;

    /// <summary>Whether the argument was given without a key, as in NAME(value).</summary>
    public bool IsPositional => _arguments.ContainsKey("");

    /// <summary>Parses NAME, NAME(value) or NAME(key=value, …); one line naming the problem otherwise.</summary>
    public static FunctionCall Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var match = Pattern().Match(text.Trim());
        if (!match.Success) throw new InvalidSpecException($"cannot parse '{text}': expected NAME, NAME(value) or NAME(key=value, ...)");
        var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
        if (match.Groups[2].Success && match.Groups[2].Value.Trim().Length > 0)
        {
            foreach (string part in match.Groups[2].Value.Split(','))
            {
                string item = part.Trim();
                int equals = item.IndexOf('=', StringComparison.Ordinal);
                string key = equals < 0 ? "" : item[..equals].Trim();
                string value = equals < 0 ? item : item[(equals + 1)..].Trim();
                if (value.Length == 0) throw new InvalidSpecException($"cannot parse '{text}': empty value{(key.Length > 0 ? $" for '{key}'" : "")}");
                if (!arguments.TryAdd(key, value))
                    throw new InvalidSpecException(key.Length == 0 ? $"cannot parse '{text}': use key=value when giving more than one argument" : $"cannot parse '{text}': '{key}' is given twice");
            }
            if (arguments.ContainsKey("") && arguments.Count > 1) throw new InvalidSpecException($"cannot parse '{text}': use key=value when giving more than one argument");
        }
        return new FunctionCall(text, match.Groups[1].Value, arguments);
    }

    /// <summary>Fails unless every argument key is one of <paramref name="keys"/>.</summary>
    public void Allow(params string[] keys)
    {
        foreach (string key in _arguments.Keys)
            if (key.Length > 0 && !keys.Contains(key))
                throw new InvalidSpecException($"{Name}: unknown argument '{key}' (valid: {string.Join(", ", keys)})");
        if (_arguments.ContainsKey("") && keys.Length == 0) throw new InvalidSpecException($"{Name} takes no arguments, got '{Text}'");
    }

    /// <summary>The value of one of <paramref name="keys"/> (synonyms), the positional value, or the default.</summary>
    public double Number(double? fallback, params string[] keys)
    {
        string? text = Value(keys);
        if (text is null)
        {
            return fallback ?? throw new InvalidSpecException($"{Name}: missing argument '{keys[0]}' (write {Name}({keys[0]}=...))");
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            throw new InvalidSpecException($"{Name}: '{keys[0]}' must be a number, got '{text}'");
        return value;
    }

    /// <summary>The raw text of one of <paramref name="keys"/>, or of the single positional argument.</summary>
    public string? Value(params string[] keys)
    {
        foreach (string key in keys)
            if (_arguments.TryGetValue(key, out string? value)) return value;
        return _arguments.Count == 1 && _arguments.TryGetValue("", out string? only) ? only : null;
    }

    [GeneratedRegex(@"^(\w+)\s*(?:\((.*)\))?$")]
    private static partial Regex Pattern();
}
