using System.Globalization;
using System.IO.Compression;
using System.Text;
using nietras.SeparatedValues;

namespace Nerva.Data;

/// <summary>What the label column of a CSV file holds.</summary>
public enum CsvLabels
{
    /// <summary>Classes, unless some label is a number that is not an integer (then values, for regression).</summary>
    Auto,
    /// <summary>Class names or numbers: every distinct label is a class.</summary>
    Classes,
    /// <summary>Numbers to regress on.</summary>
    Values,
}

/// <summary>How <see cref="CsvTable.Read"/> reads a CSV or TSV file.</summary>
public sealed record CsvOptions
{
    /// <summary>The separator; null: detected from the first line (one of ',', ';', tab, '|').</summary>
    public char? Separator { get; init; }

    /// <summary>Whether the first line names the columns (default); without a header the columns are named 0, 1, 2, ….</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>
    /// The label column: its name, or its 0-based index when no column has that name; null: the file has no labels
    /// (rows to predict). Every other column is a numeric feature.
    /// </summary>
    public string? LabelColumn { get; init; }

    /// <summary>What the label column holds (default: decided from its values).</summary>
    public CsvLabels Labels { get; init; } = CsvLabels.Auto;
}

/// <summary>
/// A table read from a CSV or TSV file (or a .gz of one): numeric feature columns as a float matrix X, one row per
/// record, and the label column as classes (<see cref="Classes"/> with their <see cref="ClassNames"/>) or as values
/// (<see cref="Values"/>). Read with Sep (quotes, CRLF and a BOM handled); every cell that is not a finite number, a
/// row of another width, bytes that are not UTF-8 are one <see cref="DataFormatException"/> naming the row, the column
/// and the value. The file streams: memory is about the float matrix.
/// </summary>
public sealed class CsvTable
{
    private CsvTable(Matrix<float> X, string[] featureNames, string? labelName, string[]? classNames, int[]? classes, float[]? values)
    {
        this.X = X;
        FeatureNames = featureNames;
        LabelName = labelName;
        ClassNames = classNames;
        Classes = classes;
        Values = values;
    }

    /// <summary>The features, one row per record.</summary>
    public Matrix<float> X { get; }

    /// <summary>The feature columns' names, in the order of X's columns.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The label column's name; null when the file has no labels.</summary>
    public string? LabelName { get; }

    /// <summary>
    /// The classes' names, class 0 first: integers in numeric order, other names in ordinal order (or the order given to
    /// <see cref="Read"/>); null for values or no labels.
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>Every row's class (an index into <see cref="ClassNames"/>); null for values or no labels.</summary>
    public IReadOnlyList<int>? Classes { get; }

    /// <summary>Every row's value (regression); null for classes or no labels.</summary>
    public IReadOnlyList<float>? Values { get; }

    /// <summary>The number of rows.</summary>
    public int Rows => X.Rows;

    /// <summary>
    /// Reads <paramref name="path"/> (a .gz is decompressed). <paramref name="classNames"/> fixes the classes (those of a
    /// training file, for its test file): a label outside them is refused. <paramref name="featureNames"/> picks the feature
    /// columns by name, in that order (a model's), from a file with a header; the label column may then be missing.
    /// </summary>
    public static CsvTable Read(string path, CsvOptions? options = null, IReadOnlyList<string>? classNames = null, IReadOnlyList<string>? featureNames = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new CsvOptions();
        FileKind.CheckInput(path, " (a CSV file)");
        try
        {
            using var file = File.OpenRead(path);
            long bytes = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? -1 : file.Length;
            using Stream stream = bytes < 0 ? new GZipStream(file, CompressionMode.Decompress) : file;
            // invalid UTF-8 is an error, not U+FFFD in a class name
            using var text = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: true, 1 << 16);
            return ReadRows(text, bytes, path, options, classNames, featureNames);
        }
        catch (DecoderFallbackException)
        {
            throw new DataFormatException($"{path}: not UTF-8 text (a byte sequence that is not UTF-8); save the file as UTF-8");
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException($"{path}: {e.Message.Split('\n', 2)[0].Trim()}");
        }
    }

    private static CsvTable ReadRows(TextReader text, long bytes, string path, CsvOptions options, IReadOnlyList<string>? classNames, IReadOnlyList<string>? featureNames)
    {
        using var reader = Sep.Reader(o => o with
        {
            Sep = options.Separator is char c ? new Sep(c) : null,
            HasHeader = false,   // the header is read here, so that a repeated name is our one line
            Unescape = true,
            Trim = SepTrim.All,
            DisableColCountCheck = true,   // a ragged row is our one line, with its number
            CultureInfo = CultureInfo.InvariantCulture,
        }).From(text);
        // the columns: from the header (the first row), or, without one, as many as the first row has (named 0, 1, 2, …)
        int width = 0, label = -1, D = 0;
        string[] names = [];
        int[] columns = [];
        void Columns(string[] header)
        {
            width = header.Length;
            names = header;
            label = LabelIndex(names, options.LabelColumn, featureNames is not null, path);
            columns = featureNames is null
                ? [.. Enumerable.Range(0, width).Where(j => j != label)]
                : [.. featureNames.Select(name => Array.IndexOf(names, name) is int j and >= 0 ? j
                    : throw new DataFormatException($"{path}: no column '{Npz.Printable(name)}': the model's features are {List(featureNames)}"))];
            if (columns.Length == 0) throw new DataFormatException($"{path}: no feature columns (only the label column '{Npz.Printable(names[label])}')");
            D = columns.Length;
        }
        var X = Array.Empty<float>();
        // the distinct labels (at most MaxClasses + 1 of them are kept: more can only be values), every row's label among
        // them, and every row's label as a number (NaN when it is not one)
        var labels = new List<string>();
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        var rowIds = new List<int>();
        var rowValues = new List<float>();
        bool manyLabels = false;
        int rows = 0;
        long chars = 0;
        foreach (var row in reader)
        {
            if (width == 0)
            {
                var cells = new string[row.ColCount];
                for (int j = 0; j < cells.Length; j++) cells[j] = row[j].ToString();
                if (options.HasHeader && cells.GroupBy(name => name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
                    throw new DataFormatException($"{path}: the header names the column '{Npz.Printable(twice.Key)}' {twice.Count()} times; give every column its own name");
                Columns(options.HasHeader ? cells : [.. Enumerable.Range(0, row.ColCount).Select(j => j.ToString(CultureInfo.InvariantCulture))]);
                if (options.HasHeader) continue;
            }
            if (row.ColCount != width)
                throw new DataFormatException($"{path}: line {row.LineNumberFrom} has {row.ColCount} columns, the {(options.HasHeader ? "header" : "first line")} has {width}");
            if ((long)(rows + 1) * D > X.Length) X = Grow(X, rows, D, chars, bytes, path);
            var x = X.AsSpan(rows * D, D);
            for (int k = 0; k < D; k++)
            {
                // Sep's float parser (csFastFloat), which takes what float.Parse takes with NumberStyles.Float
                if (row[columns[k]].TryParse<float>() is float v && float.IsFinite(v)) x[k] = v;
                else throw Cell(path, row.LineNumberFrom, names[columns[k]], row[columns[k]].Span, "a finite number");
            }
            if (label >= 0)
            {
                var cell = row[label].Span;
                if (cell.IsEmpty) throw Cell(path, row.LineNumberFrom, names[label], cell, "a label");
                float value = row[label].TryParse<float>() is float v && float.IsFinite(v) ? v : float.NaN;
                rowValues.Add(value);
                if (manyLabels)
                {
                    if (float.IsNaN(value)) throw Cell(path, row.LineNumberFrom, names[label], cell, $"a number (the column has more than {Dataset.MaxClasses} distinct labels: too many for classes, so they must be values)");
                    continue;
                }
                var lookup = ids.GetAlternateLookup<ReadOnlySpan<char>>();
                if (!lookup.TryGetValue(cell, out int id))
                {
                    id = labels.Count;
                    string name = cell.ToString();
                    labels.Add(name);
                    ids.Add(name, id);
                }
                rowIds.Add(id);
                if (labels.Count > Dataset.MaxClasses)
                {
                    // values for regression: the distinct labels are no longer needed
                    int first = rowValues.FindIndex(float.IsNaN);
                    if (first >= 0) throw new DataFormatException($"{path}: column '{Npz.Printable(names[label])}': the label '{Npz.Printable(labels[rowIds[first]])}' is not a number, and the column has more than {Dataset.MaxClasses} distinct labels: too many for classes");
                    (manyLabels, labels, rowIds) = (true, [], []);
                    ids.Clear();
                }
            }
            chars += row.Span.Length + 1;
            rows++;
        }
        if (rows == 0) throw new DataFormatException(width == 0 ? $"{path}: the file is empty" : $"{path}: no rows after the header");
        var Xm = new Matrix<float>(rows, D, X);
        string[] features = [.. columns.Select(j => names[j])];
        if (label < 0) return new CsvTable(Xm, features, null, null, null, null);

        // classes or values, from every distinct label
        if (manyLabels && (options.Labels == CsvLabels.Classes || classNames is not null))
            throw new DataFormatException($"{path}: column '{Npz.Printable(names[label])}' has more than {Dataset.MaxClasses} distinct labels, more classes than a network may have (for regression, the labels are values)");
        var numbers = labels.Select(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v : (double?)null).ToArray();
        bool numeric = numbers.All(v => v is not null);
        var kind = manyLabels ? CsvLabels.Values : options.Labels != CsvLabels.Auto ? options.Labels
            : classNames is null && numeric && numbers.Any(v => v != Math.Round(v!.Value)) ? CsvLabels.Values : CsvLabels.Classes;
        if (kind == CsvLabels.Values)
        {
            int first = rowValues.FindIndex(float.IsNaN);
            if (first >= 0) throw new DataFormatException($"{path}: column '{Npz.Printable(names[label])}': the label '{Npz.Printable(labels[rowIds[first]])}' is not a number (the labels are values for regression)");
            return new CsvTable(Xm, features, names[label], null, null, [.. rowValues]);
        }
        string[] classes = classNames is not null ? [.. classNames]
            : numeric ? [.. labels.OrderBy(l => numbers[ids[l]]!.Value).ThenBy(l => l, StringComparer.Ordinal)]
            : [.. labels.OrderBy(l => l, StringComparer.Ordinal)];
        var index = classes.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => p.i, StringComparer.Ordinal);
        var map = new int[labels.Count];
        for (int id = 0; id < labels.Count; id++)
            map[id] = index.TryGetValue(labels[id], out int c) ? c
                : throw new DataFormatException($"{path}: the label '{Npz.Printable(labels[id])}' is not one of the training set's classes ({List(classes)})");
        return new CsvTable(Xm, features, names[label], classes, [.. rowIds.Select(id => map[id])], null);
    }

    /// <summary>
    /// The targets of a network with <paramref name="outputs"/> outputs: one-hot rows of the classes; one column of 0/1
    /// for two classes and one output (a sigmoid's); one column of the values.
    /// </summary>
    public Matrix<float> Targets(int outputs)
    {
        if (Values is { } values)
        {
            if (outputs != 1) throw new DataFormatException($"the labels '{LabelName}' are values (regression): the network needs 1 output, it has {outputs}");
            return new Matrix<float>(values.Count, 1, [.. values]);
        }
        if (Classes is not { } classes) throw new DataFormatException("the file has no label column");
        int K = ClassNames!.Count;
        if (outputs == 1 && K <= 2) return new Matrix<float>(classes.Count, 1, [.. classes.Select(c => (float)c)]);
        if (outputs != K) throw new DataFormatException($"the label column '{LabelName}' has {K} classes ({List(ClassNames)}) but the network has {outputs} outputs");
        return Dataset.OneHot([.. classes.Select(c => (long)c)], K, "the");
    }

    /// <summary>The rows <paramref name="rows"/> of this table, in that order.</summary>
    public CsvTable Subset(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var X = new Matrix<float>(rows.Count, this.X.Cols);
        for (int i = 0; i < rows.Count; i++) this.X.Row(rows[i]).CopyTo(X.Row(i));
        return new CsvTable(X, [.. FeatureNames], LabelName, ClassNames is null ? null : [.. ClassNames],
            Classes is null ? null : [.. rows.Select(i => Classes[i])], Values is null ? null : [.. rows.Select(i => Values[i])]);
    }

    /// <summary>
    /// The rows split at random (drawn from <paramref name="seed"/>) into a training and a test table, the test table with
    /// round(<paramref name="testFraction"/>·N) rows; the tables keep the file's row order.
    /// </summary>
    public (CsvTable Train, CsvTable Test) Split(double testFraction, ulong seed)
    {
        if (!(testFraction > 0 && testFraction < 1)) throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, "the test fraction must be in (0, 1)");
        int test = (int)Math.Round(testFraction * Rows);
        if (test == 0 || test == Rows) throw new DataFormatException($"a test fraction of {testFraction.ToString(CultureInfo.InvariantCulture)} of {Rows} rows leaves {(test == 0 ? "no test rows" : "no training rows")}");
        var order = Enumerable.Range(0, Rows).ToArray();
        new Rng(seed).Shuffle(order.AsSpan());
        var held = order[..test].ToHashSet();
        return (Subset([.. Enumerable.Range(0, Rows).Where(i => !held.Contains(i))]), Subset([.. Enumerable.Range(0, Rows).Where(held.Contains)]));
    }

    /// <summary>
    /// Room for more rows: for a file of known size, as many rows as the bytes read so far per row say it holds (a few
    /// percent over), else an eighth more, so that the matrix is never copied at twice its size.
    /// </summary>
    private static float[] Grow(float[] X, int rows, int D, long chars, long bytes, string path)
    {
        long estimate = bytes > 0 && rows >= 64 ? (long)(bytes / ((double)chars / rows) * 1.03) + 64 : 0;
        long wanted = Math.Max(estimate, rows + Math.Max(rows / 8, 64L)) * D;
        if ((long)(rows + 1) * D > Array.MaxLength)
            throw new DataFormatException($"{path}: more than {Array.MaxLength / D} rows of {D} features: the features do not fit one array");
        Array.Resize(ref X, (int)Math.Min(wanted, Array.MaxLength / D * (long)D));
        return X;
    }

    /// <summary>The label column's index: by name, else a 0-based index; -1 when none is given (or, with the model's features, when the file lacks it).</summary>
    private static int LabelIndex(string[] names, string? column, bool optional, string path)
    {
        if (column is null) return -1;
        int j = Array.IndexOf(names, column);
        if (j >= 0) return j;
        if (int.TryParse(column, NumberStyles.None, CultureInfo.InvariantCulture, out j) && j < names.Length) return j;
        if (optional) return -1;
        throw new DataFormatException($"{path}: no label column '{Npz.Printable(column)}': the columns are {List(names)} (or give a 0-based index)");
    }

    private static DataFormatException Cell(string path, int line, string column, ReadOnlySpan<char> value, string expected) =>
        new($"{path}: line {line}, column '{Npz.Printable(column)}': {(value.IsEmpty ? "the cell is empty" : $"'{Npz.Printable(value.ToString())}' is not {expected}")}");

    /// <summary>At most 10 names, quoted, then how many more.</summary>
    private static string List(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(10).Select(n => $"'{Npz.Printable(n)}'")) + (names.Count > 10 ? $", … ({names.Count} in all)" : "");
}
