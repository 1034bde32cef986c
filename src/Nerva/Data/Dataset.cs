using System.Numerics;

namespace Nerva.Data;

/// <summary>
/// A dataset in row layout: inputs X (one example per row) and targets T (one-hot rows for classification, or one
/// column for a one-output network), for training and testing.
/// </summary>
public sealed class Dataset
{
    /// <summary>A dataset of training and test inputs (one example per row) and their targets; the row counts, feature counts and target widths must agree, and the inputs and targets must be finite.</summary>
    public Dataset(Matrix<float> Xtrain, Matrix<float> Ttrain, Matrix<float> Xtest, Matrix<float> Ttest)
    {
        if (Xtrain.Rows != Ttrain.Rows) throw new DataFormatException($"Xtrain has {Xtrain.Rows} rows but Ttrain has {Ttrain.Rows}");
        if (Xtest.Rows != Ttest.Rows) throw new DataFormatException($"Xtest has {Xtest.Rows} rows but Ttest has {Ttest.Rows}");
        if (Xtrain.Cols != Xtest.Cols) throw new DataFormatException($"training inputs have {Xtrain.Cols} features but test inputs have {Xtest.Cols}");
        if (Ttrain.Cols != Ttest.Cols) throw new DataFormatException($"training targets have {Ttrain.Cols} classes but test targets have {Ttest.Cols}");
        if (Xtrain.Rows == 0) throw new DataFormatException("the training set is empty");
        CheckFinite(Xtrain, "Xtrain");
        CheckFinite(Xtest, "Xtest");
        CheckFinite(Ttrain, "Ttrain");
        CheckFinite(Ttest, "Ttest");
        this.Xtrain = Xtrain;
        this.Ttrain = Ttrain;
        this.Xtest = Xtest;
        this.Ttest = Ttest;
    }

    /// <summary>A dataset without a test set (its test matrices have no rows; the test accuracy is then NaN).</summary>
    public Dataset(Matrix<float> Xtrain, Matrix<float> Ttrain)
        : this(Xtrain, Ttrain, new Matrix<float>(0, Xtrain?.Cols ?? 0), new Matrix<float>(0, Ttrain?.Cols ?? 0))
    {
    }

    /// <summary>The training inputs, one example per row.</summary>
    public Matrix<float> Xtrain { get; }
    /// <summary>The training targets, one row per example.</summary>
    public Matrix<float> Ttrain { get; }
    /// <summary>The test inputs, one example per row.</summary>
    public Matrix<float> Xtest { get; }
    /// <summary>The test targets, one row per example.</summary>
    public Matrix<float> Ttest { get; }

    /// <summary>
    /// What was done to the raw inputs to give X (pixel scaling by the image readers, standardisation by
    /// <see cref="Normalize"/>): a <see cref="Model"/> trained on this set does the same to the rows it is given.
    /// </summary>
    public InputPreprocessing Preprocessing { get; set; } = InputPreprocessing.None;

    /// <summary>The names of the classes, class 0 first (a CSV file's labels); null when the classes are only numbers. A model trained on the set keeps them.</summary>
    public IReadOnlyList<string>? ClassNames { get; set; }

    /// <summary>The names of the features (a CSV file's columns); null when not known. A model trained on the set keeps them.</summary>
    public IReadOnlyList<string>? FeatureNames { get; set; }

    /// <summary>The name of the label column of a CSV file; null when not known.</summary>
    public string? LabelName { get; set; }

    /// <summary>
    /// A dataset from CSV tables (<see cref="CsvTable.Read"/>): the targets of a network with <paramref name="outputs"/>
    /// outputs (default: one per class, or 1 for values; see <see cref="CsvTable.Targets"/>), with the tables' names.
    /// The test table must have the training table's columns and classes (read it with the training table's
    /// <see cref="CsvTable.ClassNames"/>).
    /// </summary>
    public static Dataset FromCsv(CsvTable train, CsvTable? test = null, int? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.LabelName is null) throw new DataFormatException("the training table has no label column");
        int K = outputs ?? train.ClassNames?.Count ?? 1;
        if (test is not null && (!test.FeatureNames.SequenceEqual(train.FeatureNames) || !(test.ClassNames ?? []).SequenceEqual(train.ClassNames ?? [])))
            throw new DataFormatException("the test table has other feature columns or classes than the training table: read it with the training table's class names");
        var data = test is null ? new Dataset(train.X, train.Targets(K)) : new Dataset(train.X, train.Targets(K), test.X, test.Targets(K));
        data.ClassNames = train.ClassNames;
        data.FeatureNames = train.FeatureNames;
        data.LabelName = train.LabelName;
        return data;
    }

    /// <summary>
    /// A dataset from a CSV file with a label column: its test set from <paramref name="testPath"/> (read with the
    /// training file's classes), or the fraction <paramref name="testFraction"/> of its rows drawn at random with
    /// <paramref name="seed"/>, or none. See <see cref="FromCsv"/> for <paramref name="outputs"/>.
    /// </summary>
    public static Dataset ReadCsv(string path, CsvOptions options, string? testPath = null, double testFraction = 0, ulong seed = 1, int? outputs = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.LabelColumn is null) throw new ArgumentException("give the label column (CsvOptions.LabelColumn)", nameof(options));
        if (testPath is not null && testFraction != 0) throw new ArgumentException("give a test file or a test fraction, not both");
        var train = CsvTable.Read(path, options);
        if (testPath is not null) return FromCsv(train, CsvTable.Read(testPath, options with { Labels = train.Values is null ? CsvLabels.Classes : CsvLabels.Values }, train.ClassNames), outputs);
        if (testFraction == 0) return FromCsv(train, null, outputs);
        var (training, test) = train.Split(testFraction, seed);
        return FromCsv(training, test, outputs);
    }

    /// <summary>The number of input features (columns of X).</summary>
    public int Features => Xtrain.Cols;

    /// <summary>The number of target columns (classes, or 1 for a one-output network).</summary>
    public int Classes => Ttrain.Cols;

    /// <summary>The most classes that labels may name when the count is taken from them: one label file cannot make a matrix of 10⁸ columns.</summary>
    public const int MaxClasses = 1 << 16;

    /// <summary>
    /// A dataset from integer class labels; <paramref name="classes"/> defaults to max(label) + 1 over both sets, at most
    /// <see cref="MaxClasses"/> (a larger label is refused with its set and index).
    /// </summary>
    public static Dataset FromLabels(Matrix<float> Xtrain, long[] train, Matrix<float> Xtest, long[] test, int? classes = null)
    {
        if (classes is null)
            foreach (var (labels, what) in new[] { (train, "training"), (test, "test") })
                for (int i = 0; i < labels.Length; i++)
                    if (labels[i] >= MaxClasses)
                        throw new DataFormatException($"{what} label {labels[i]} at index {i} is out of range: labels name at most {MaxClasses} classes (0..{MaxClasses - 1})");
        int k = classes ?? (int)Math.Max(train.DefaultIfEmpty(0).Max(), test.DefaultIfEmpty(0).Max()) + 1;
        return new Dataset(Xtrain, OneHot(train, k, "training"), Xtest, OneHot(test, k, "test"));
    }

    /// <summary>
    /// A dataset from integer class labels (<see cref="Model.Evaluate(Matrix{float}, IReadOnlyList{int})"/> takes them so too);
    /// the test set may be left out. <paramref name="classes"/> defaults to max(label) + 1 over both sets.
    /// </summary>
    public static Dataset FromLabels(Matrix<float> Xtrain, IReadOnlyList<int> train, Matrix<float>? Xtest = null, IReadOnlyList<int>? test = null, int? classes = null)
    {
        ArgumentNullException.ThrowIfNull(Xtrain);
        ArgumentNullException.ThrowIfNull(train);
        if ((Xtest is null) != (test is null)) throw new ArgumentException("give the test inputs and their labels, or neither");
        if (train.Concat(test ?? []).Any(label => label < 0)) throw new DataFormatException($"a label is negative ({train.Concat(test ?? []).First(label => label < 0)}); labels are 0, 1, 2, …");
        return FromLabels(Xtrain, [.. train.Select(label => (long)label)], Xtest ?? new Matrix<float>(0, Xtrain.Cols), [.. (test ?? []).Select(label => (long)label)], classes);
    }

    /// <summary>Row i has a 1 in column labels[i].</summary>
    public static Matrix<float> OneHot(long[] labels, int classes, string what)
    {
        var T = new Matrix<float>(labels.Length, classes);
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0 || labels[i] >= classes)
                throw new DataFormatException($"{what} label {labels[i]} at index {i} is out of range: valid labels are 0..{classes - 1}");
            T[i, (int)labels[i]] = 1;
        }
        return T;
    }

    /// <summary>The class of every row: the column of its first maximum.</summary>
    public static long[] Labels(Matrix<float> T)
    {
        var labels = new long[T.Rows];
        for (int i = 0; i < T.Rows; i++) labels[i] = ArgMax(T.Row(i));
        return labels;
    }

    /// <summary>The index of the first maximum (the accuracy rule of the original).</summary>
    public static int ArgMax<T>(ReadOnlySpan<T> row) where T : IFloatingPointIeee754<T>
    {
        int best = 0;
        for (int j = 1; j < row.Length; j++)
            if (row[j] > row[best]) best = j;
        return best;
    }

    /// <summary>
    /// Standardises every feature to mean 0 and variance 1 with the training set's statistics, and records them in
    /// <see cref="Preprocessing"/>.
    /// </summary>
    public void Normalize() => Standardize(Statistics());

    /// <summary>Standardises every feature with given statistics (a model's), and records them in <see cref="Preprocessing"/>.</summary>
    public void Standardize(InputPreprocessing statistics)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        if (statistics.Mean is not { } mean || statistics.Scale is not { } scale) return;
        if (mean.Length != Features) throw new DataFormatException($"the statistics are for {mean.Length} features, the data has {Features}");
        foreach (var X in new[] { Xtrain, Xtest })
            for (int i = 0; i < X.Rows; i++)
            {
                var row = X.Row(i);
                for (int j = 0; j < Features; j++) row[j] = (float)((row[j] - mean[j]) * scale[j]);
            }
        Preprocessing = Preprocessing.Standardized(mean, scale);
    }

    /// <summary>The training set's mean and 1/σ per feature (1 where σ = 0), accumulated in double.</summary>
    private InputPreprocessing Statistics()
    {
        // Mean and variance per feature, accumulated in double without copying the set.
        var mean = new double[Features];
        var variance = new double[Features];
        for (int i = 0; i < Xtrain.Rows; i++)
        {
            var row = Xtrain.Row(i);
            for (int j = 0; j < Features; j++) mean[j] += row[j];
        }
        for (int j = 0; j < Features; j++) mean[j] /= Xtrain.Rows;
        for (int i = 0; i < Xtrain.Rows; i++)
        {
            var row = Xtrain.Row(i);
            for (int j = 0; j < Features; j++) variance[j] += (row[j] - mean[j]) * (row[j] - mean[j]);
        }
        var scale = variance.Select(v => v == 0 ? 1.0 : 1 / Math.Sqrt(v / Xtrain.Rows)).ToArray();
        return Preprocessing.Standardized(mean, scale);
    }

    /// <summary>
    /// Saves as .npz with keys Xtrain, Ttrain, Xtest, Ttest, the original's layout: one-hot targets as int64 labels,
    /// any other targets (one column, soft or multi-label rows) as float32 matrices, so that <see cref="Load"/> reads back
    /// what was saved.
    /// </summary>
    public void Save(string path) => Npz.Write(path,
    [
        new("Xtrain", NpyArray.FromFloats(Xtrain.AsSpan().ToArray(), Xtrain.Rows, Xtrain.Cols)),
        new("Ttrain", TargetArray(Ttrain)),
        new("Xtest", NpyArray.FromFloats(Xtest.AsSpan().ToArray(), Xtest.Rows, Xtest.Cols)),
        new("Ttest", TargetArray(Ttest)),
    ]);

    /// <summary>
    /// Loads an .npz dataset with keys Xtrain, Ttrain, Xtest, Ttest. The targets are read by this rule:
    /// integers of shape (N,) or (N, 1) are class labels (one-hot encoded); an array of shape (N, K) with K &gt; 1 is the
    /// target matrix as it is (one-hot rows, or any other); floats of shape (N,) or (N, 1) are one column of targets, for
    /// a network with one output (binary cross-entropy with 0/1 targets, or squared-error regression).
    /// </summary>
    public static Dataset Load(string path)
    {
        var arrays = Npz.Read(path, new HashSet<string>(["Xtrain", "Ttrain", "Xtest", "Ttest"]));
        var Xtrain = arrays.Get("Xtrain", path).ToMatrix<float>();
        var Xtest = arrays.Get("Xtest", path).ToMatrix<float>();
        var train = arrays.Get("Ttrain", path);
        var test = arrays.Get("Ttest", path);
        if (IsLabels(train) && IsLabels(test)) return FromLabels(Xtrain, train.ToInt64(), Xtest, test.ToInt64());
        return new Dataset(Xtrain, train.ToMatrix<float>(), Xtest, test.ToMatrix<float>());
    }

    /// <summary>
    /// Whether output row y and target row t name the same class: the same first maximum, or, for one column (a
    /// one-output network), the same side of 0.5 (a sigmoid output against 0/1 targets).
    /// </summary>
    public static bool SameClass(ReadOnlySpan<float> y, ReadOnlySpan<float> t) => ClassOf(y) == ClassOf(t);

    /// <summary>The class a row of outputs or targets names: the column of its first maximum, or, for one column, 1 when it is at least 0.5.</summary>
    public static int ClassOf(ReadOnlySpan<float> row) => row.Length == 1 ? (row[0] >= 0.5f ? 1 : 0) : ArgMax(row);

    /// <summary>Integers of shape (N,) or (N, 1): class labels.</summary>
    private static bool IsLabels(NpyArray T) => T.Kind is 'i' or 'u' or 'b' && (T.Shape.Length == 1 || (T.Shape.Length == 2 && T.Shape[1] == 1));

    private static NpyArray TargetArray(Matrix<float> T) =>
        IsOneHot(T) ? NpyArray.FromInt64(Labels(T), T.Rows) : NpyArray.FromFloats(T.AsSpan().ToArray(), T.Rows, T.Cols);

    /// <summary>At least two columns, and every row a single 1 among 0s.</summary>
    private static bool IsOneHot(Matrix<float> T)
    {
        if (T.Cols < 2) return false;
        for (int i = 0; i < T.Rows; i++)
        {
            int ones = 0;
            foreach (float t in T.Row(i))
            {
                if (t == 1) ones++;
                else if (t != 0) return false;
            }
            if (ones != 1) return false;
        }
        return true;
    }

    private static void CheckFinite(Matrix<float> X, string name)
    {
        var x = X.AsSpan();
        for (int k = 0; k < x.Length; k++)
            if (!float.IsFinite(x[k])) throw new DataFormatException($"{name} contains {x[k]} at row {k / X.Cols}, column {k % X.Cols}");
    }
}
