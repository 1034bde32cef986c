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

    /// <summary>
    /// Parses NAME, NAME(value), NAME(v1, v2, …) (the parameters in their order, see <see cref="Allow"/>) or
    /// NAME(key=value, …); one line naming the problem otherwise.
    /// </summary>
    public static FunctionCall Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var match = Pattern().Match(text.Trim());
        if (!match.Success) throw new InvalidSpecException($"cannot parse '{text}': expected NAME, NAME(value) or NAME(key=value, ...)");
        var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
        var positional = new List<string>();
        if (match.Groups[2].Success && match.Groups[2].Value.Trim().Length > 0)
        {
            foreach (string part in match.Groups[2].Value.Split(','))
            {
                string item = part.Trim();
                int equals = item.IndexOf('=', StringComparison.Ordinal);
                string key = equals < 0 ? "" : item[..equals].Trim();
                string value = equals < 0 ? item : item[(equals + 1)..].Trim();
                if (value.Length == 0) throw new InvalidSpecException($"cannot parse '{text}': empty value{(key.Length > 0 ? $" for '{key}'" : "")}");
                if (key.Length == 0) positional.Add(value);
                else if (!arguments.TryAdd(key, value)) throw new InvalidSpecException($"cannot parse '{text}': '{key}' is given twice");
            }
            if (positional.Count > 0 && arguments.Count > 0)
                throw new InvalidSpecException($"cannot parse '{text}': give every argument as key=value, or every one without keys in the parameters' order");
            if (positional.Count == 1) arguments[""] = positional[0];
        }
        return new FunctionCall(text, match.Groups[1].Value, arguments) { _positional = positional.Count > 1 ? positional : null };
    }

    /// <summary>Values given without keys when there are several of them (NAME(v1, v2, …)); <see cref="Allow"/> gives them their keys.</summary>
    private List<string>? _positional;

    /// <summary>
    /// Fails unless every argument key is one of <paramref name="keys"/>, the parameters in their order; "mu|momentum" names
    /// one parameter with a synonym. Several values without keys take the parameters in this order, as in
    /// Adam(0.9, 0.999, 1e-8); one value without a key answers for any of them (the original's NAME(value)).
    /// </summary>
    public void Allow(params string[] keys)
    {
        var names = keys.SelectMany(key => key.Split('|')).ToArray();
        string valid = string.Join(", ", keys);
        foreach (string key in _arguments.Keys)
            if (key.Length > 0 && !names.Contains(key))
                throw new InvalidSpecException($"{Name}: unknown argument '{key}' (valid: {valid})");
        if ((_arguments.ContainsKey("") || _positional is not null) && keys.Length == 0) throw new InvalidSpecException($"{Name} takes no arguments, got '{Text}'");
        if (_positional is null) return;
        if (_positional.Count > keys.Length)
            throw new InvalidSpecException($"{Name} takes at most {keys.Length} argument{(keys.Length == 1 ? "" : "s")} ({valid}), got {_positional.Count} in '{Text}'");
        for (int i = 0; i < _positional.Count; i++) _arguments[keys[i].Split('|')[0]] = _positional[i];
        _positional = null;
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

    /// <summary>A number as <see cref="Number"/> gives it, which must also be a finite float (the layers' parameters are float32).</summary>
    public float Single(double? fallback, params string[] keys)
    {
        double value = Number(fallback, keys);
        return float.IsFinite((float)value) ? (float)value
            : throw new InvalidSpecException(string.Create(CultureInfo.InvariantCulture, $"{Name}: '{keys[0]}' must be a number a float can hold (|x| < 3.4e38), got {value}"));
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
