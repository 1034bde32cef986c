using System.Globalization;
using System.Text;
using Nerva.Data;

namespace Nerva.Tests;

/// <summary>
/// CSV and TSV files in the library (<see cref="CsvTable"/>, <see cref="Dataset.ReadCsv"/>) and the tool (--csv): real
/// tables that nobody here wrote (scikit-learn's iris and digits, from Debian's python3-sklearn), round trips, and every
/// malformed file refused with one line naming the row, the column and the value.
/// </summary>
public sealed class CsvTests : ToolTest
{
    /// <summary>scikit-learn's tables as Debian installs them (python3-sklearn; scripts/test.sh installs it).</summary>
    internal const string Sklearn = "/usr/lib/python3/dist-packages/sklearn/datasets/data";

    /// <summary>
    /// scikit-learn's iris.csv as a user's file would be: its first line ("150,4,setosa,versicolor,virginica", a count
    /// line) replaced by a header, and the class numbers by the class names that line gives.
    /// </summary>
    internal static string Iris(string folder)
    {
        var lines = File.ReadAllLines(Path.Combine(Sklearn, "iris.csv"));
        string[] names = lines[0].Split(',')[2..];
        string path = Path.Combine(folder, "iris.csv");
        File.WriteAllLines(path, [
            "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm),species",
            .. lines[1..].Select(line => line[..line.LastIndexOf(',')] + "," + names[int.Parse(line[(line.LastIndexOf(',') + 1)..], CultureInfo.InvariantCulture)])]);
        return path;
    }

    private string Write(string name, string text, Encoding? encoding = null)
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllText(path, text, encoding ?? new UTF8Encoding(false));
        return path;
    }

    [Fact]
    public void Iris_reads_with_its_names_and_classes()
    {
        var table = CsvTable.Read(Iris(Folder), new CsvOptions { LabelColumn = "species" });
        Assert.Equal((150, 4), (table.X.Rows, table.X.Cols));
        Assert.Equal(["setosa", "versicolor", "virginica"], table.ClassNames!);
        Assert.Equal("petal width (cm)", table.FeatureNames[3]);
        Assert.Equal([5.1f, 3.5f, 1.4f, 0.2f], table.X.Row(0).ToArray());
        Assert.Equal(50, table.Classes!.Count(c => c == 2));
        Assert.Equal(2, table.Classes![^1]);
    }

    [Fact]
    public void Digits_read_from_the_gzip_without_a_header()
    {
        var table = CsvTable.Read(Path.Combine(Sklearn, "digits.csv.gz"), new CsvOptions { HasHeader = false, LabelColumn = "64" });
        Assert.Equal((1797, 64), (table.X.Rows, table.X.Cols));
        // numbers as classes are ordered as numbers, so that class k is the digit k
        Assert.Equal(Enumerable.Range(0, 10).Select(d => d.ToString(CultureInfo.InvariantCulture)), table.ClassNames!);
        Assert.Equal(0, table.Classes![0]);
        Assert.Equal(16, table.X.AsSpan().ToArray().Max());
    }

    [Fact]
    public void Values_with_every_digit_round_trip_through_csv_and_tsv()
    {
        var rng = new Rng(5);
        var X = new float[100, 3];
        var y = new float[100];
        foreach (char separator in new[] { ',', '\t', ';' })
        {
            var text = new StringBuilder($"x 1{separator}\"x,2\"{separator}x3{separator}y\r\n");
            for (int i = 0; i < 100; i++)
            {
                for (int j = 0; j < 3; j++) X[i, j] = (float)(rng.NextDouble() * 2e6 - 1e6) / (j + 1) * MathF.Pow(10, -j * 7);
                y[i] = (float)rng.NextDouble() - 0.5f;
                text.Append(string.Join(separator, Enumerable.Range(0, 3).Select(j => X[i, j].ToString("R", CultureInfo.InvariantCulture)).Append(y[i].ToString("R", CultureInfo.InvariantCulture)))).Append("\r\n");
            }
            var table = CsvTable.Read(Write("values.csv", text.ToString(), new UTF8Encoding(true)), new CsvOptions { LabelColumn = "y" });
            Assert.Equal(["x 1", "x,2", "x3"], table.FeatureNames);
            Assert.Null(table.ClassNames);
            for (int i = 0; i < 100; i++)
            {
                Assert.Equal(y[i], table.Values![i]);
                for (int j = 0; j < 3; j++) Assert.Equal(X[i, j], table.X[i, j]);
            }
        }
    }

    [Fact]
    public void Labels_are_classes_or_values_as_asked()
    {
        string path = Write("labels.csv", "a,label\n1,10\n2,9\n3,10\n4,2\n");
        var classes = CsvTable.Read(path, new CsvOptions { LabelColumn = "label" });
        Assert.Equal(["2", "9", "10"], classes.ClassNames!);   // numerically, not "10" < "2"
        Assert.Equal([2, 1, 2, 0], classes.Classes!);
        var values = CsvTable.Read(path, new CsvOptions { LabelColumn = "label", Labels = CsvLabels.Values });
        Assert.Equal([10f, 9f, 10f, 2f], values.Values!);
        Assert.Equal([1.5f, 2f], CsvTable.Read(Write("v.csv", "a,v\n1,1.5\n2,2\n"), new CsvOptions { LabelColumn = "v" }).Values!);
        // names in ordinal order; a quoted name keeps its separator
        var names = CsvTable.Read(Write("n.csv", "a,c\n1,\"b,c\"\n2,a\n3,B\n"), new CsvOptions { LabelColumn = "c" });
        Assert.Equal(["B", "a", "b,c"], names.ClassNames!);
        Assert.Equal([2, 1, 0], names.Classes!);
    }

    [Theory]
    [InlineData("a,b,y\n1,2,x\n3,4\n", "line 3 has 2 columns, the header has 3")]
    [InlineData("a,b,y\n1,2,x\n3,4,y,5\n", "line 3 has 4 columns, the header has 3")]
    [InlineData("a,b,y\n1,,x\n", "line 2, column 'b': the cell is empty")]
    [InlineData("a,b,y\n1,2,x\n1,two,x\n", "line 3, column 'b': 'two' is not a finite number")]
    [InlineData("a,b,y\n1,NaN,x\n", "line 2, column 'b': 'NaN' is not a finite number")]
    [InlineData("a,b,y\n1,1e39,x\n", "line 2, column 'b': '1e39' is not a finite number")]
    [InlineData("a,b,y\n1,2,\n", "line 2, column 'y': the cell is empty")]
    [InlineData("a,b,y\n", "no rows after the header")]
    [InlineData("", "the file is empty")]
    [InlineData("a,b,z\n1,2,3\n", "no label column 'y': the columns are 'a', 'b', 'z'")]
    [InlineData("y\n1\n", "no feature columns")]
    [InlineData("a,a,y\n1,2,x\n", "the header names the column 'a' 2 times")]
    public void A_malformed_file_is_one_line(string text, string expected)
    {
        string path = Write("bad.csv", text);
        var e = Assert.Throws<DataFormatException>(() => CsvTable.Read(path, new CsvOptions { LabelColumn = "y" }));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Bytes_that_are_not_utf8_are_one_line()
    {
        string path = Path.Combine(Folder, "latin1.csv");
        File.WriteAllBytes(path, [.. "a,y\n1,caf"u8, 0xE9, .. "\n"u8]);
        Assert.Contains("not UTF-8", Assert.Throws<DataFormatException>(() => CsvTable.Read(path, new CsvOptions { LabelColumn = "y" })).Message);
    }

    [Fact]
    public void A_header_of_a_million_columns_is_read()
    {
        const int columns = 1_000_000;
        var text = new StringBuilder();
        text.AppendJoin(',', Enumerable.Range(0, columns).Select(j => $"c{j}")).Append('\n');
        text.AppendJoin(',', Enumerable.Range(0, columns).Select(j => (j % 7).ToString(CultureInfo.InvariantCulture))).Append('\n');
        var table = CsvTable.Read(Write("wide.csv", text.ToString()), new CsvOptions { LabelColumn = "c0" });
        Assert.Equal((1, columns - 1), (table.X.Rows, table.X.Cols));
        Assert.Equal(6f, table.X[0, 5]);
        // a one-line file whose rows are all shorter is refused with the first
        text.Append("1,2\n");
        Assert.Contains($"line 3 has 2 columns, the header has {columns}", Assert.Throws<DataFormatException>(() => CsvTable.Read(Write("wide.csv", text.ToString()), new CsvOptions { LabelColumn = "c0" })).Message);
    }

    [Fact]
    public void A_label_seen_only_in_the_test_file_is_refused()
    {
        string train = Write("train.csv", "a,y\n1,cat\n2,dog\n"), test = Write("test.csv", "a,y\n1,cat\n2,bird\n");
        var e = Assert.Throws<DataFormatException>(() => Dataset.ReadCsv(train, new CsvOptions { LabelColumn = "y" }, test));
        Assert.Contains("the label 'bird' is not one of the training set's classes ('cat', 'dog')", e.Message);
        var (code, _, error) = Run("--csv", train, "--test-csv", test, "--label-column", "y", "--layers", "Linear", "--layer-sizes", "1;2", "--epochs", "1");
        Assert.Equal(1, code);
        Assert.StartsWith("error: --test-csv: ", error);
    }

    [Fact]
    public void Reading_holds_little_more_than_the_float_matrix()
    {
        const int rows = 100_000, cols = 50;
        string path = Path.Combine(Folder, "large.csv");
        using (var writer = new StreamWriter(path))
        {
            writer.WriteLine(string.Join(',', Enumerable.Range(0, cols + 1).Select(j => j == cols ? "y" : $"x{j}")));
            var rng = new Rng(3);
            for (int i = 0; i < rows; i++)
                writer.WriteLine(string.Join(',', Enumerable.Range(0, cols + 1).Select(j => j == cols ? (i % 10).ToString(CultureInfo.InvariantCulture) : rng.NextDouble().ToString("F6", CultureInfo.InvariantCulture))));
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        var table = CsvTable.Read(path, new CsvOptions { LabelColumn = "y" });
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal((rows, cols), (table.X.Rows, table.X.Cols));
        // the matrix, sized from the file's length, plus the labels (8 bytes a row) and Sep's buffers
        Assert.True(allocated < 1.2 * rows * cols * sizeof(float), $"{allocated} bytes allocated for a {rows * cols * sizeof(float)}-byte matrix");
    }

    [Fact]
    public void More_distinct_labels_than_classes_are_values()
    {
        int rows = Dataset.MaxClasses + 100;
        var text = new StringBuilder("x,y\n");
        for (int i = 0; i < rows; i++) text.Append(CultureInfo.InvariantCulture, $"{i % 7},{i}\n");
        string path = Write("many.csv", text.ToString());
        // integers, but more of them than a network may have classes: values, whose distinct texts are not kept
        var table = CsvTable.Read(path, new CsvOptions { LabelColumn = "y" });
        Assert.Null(table.ClassNames);
        Assert.Equal(rows - 1, table.Values![^1]);
        Assert.Contains("more than 65536 distinct labels", Assert.Throws<DataFormatException>(() => CsvTable.Read(path, new CsvOptions { LabelColumn = "y", Labels = CsvLabels.Classes })).Message);
        text.Append("3,cat\n");
        Assert.Contains("'cat' is not a number", Assert.Throws<DataFormatException>(() => CsvTable.Read(Write("many.csv", text.ToString()), new CsvOptions { LabelColumn = "y" })).Message);
    }

    [Fact]
    public void The_split_is_random_disjoint_and_repeatable()
    {
        var table = CsvTable.Read(Iris(Folder), new CsvOptions { LabelColumn = "species" });
        var (train, test) = table.Split(0.2, seed: 7);
        Assert.Equal((120, 30), (train.Rows, test.Rows));
        var rows = train.X.AsSpan().ToArray().Chunk(4).Concat(test.X.AsSpan().ToArray().Chunk(4)).Select(r => string.Join(',', r)).Order();
        Assert.Equal(table.X.AsSpan().ToArray().Chunk(4).Select(r => string.Join(',', r)).Order(), rows);
        Assert.Equal(test.X.AsSpan().ToArray(), table.Split(0.2, seed: 7).Test.X.AsSpan().ToArray());
        Assert.NotEqual(test.X.AsSpan().ToArray(), table.Split(0.2, seed: 8).Test.X.AsSpan().ToArray());
        // all three classes in the test set of iris, which the file sorts by class
        Assert.Equal(3, test.Classes!.Distinct().Count());
    }

    [Fact]
    public void The_library_trains_on_iris_and_keeps_the_names()
    {
        var data = Dataset.ReadCsv(Iris(Folder), new CsvOptions { LabelColumn = "species" }, testFraction: 0.2, seed: 1);
        data.Normalize();
        var model = Model.Create("4-16-3", optimizer: "Momentum(0.9)");
        double accuracy = model.Train(data, learningRate: 0.01, epochs: 40, batchSize: 10);
        Assert.InRange(accuracy, 0.9, 1);
        Assert.Equal(["setosa", "versicolor", "virginica"], model.ClassNames!);
        string path = Path.Combine(Folder, "iris.npz");
        model.Save(path);
        var loaded = Model.Load(path);
        Assert.Equal(model.ClassNames, loaded.ClassNames);
        Assert.Equal(model.FeatureNames, loaded.FeatureNames);
        Assert.Equal("species", loaded.LabelName);
    }

    private string[] IrisArgs(string model) =>
        ["--csv", Iris(Folder), "--label-column", "species", "--test-split", "0.2", "--normalize", "--layers", "ReLU;Linear", "--layer-sizes", "4;16;3",
         "--loss", "SoftmaxCrossEntropy", "--optimizers", "Momentum(0.9)", "--learning-rate", "0.01", "--epochs", "40", "--batch-size", "10", "--seed", "1",
         "--save-model", model, "--predict", Path.Combine(Folder, "test.csv")];

    [Fact]
    public void The_tool_trains_on_iris_and_predicts_rows_by_their_names()
    {
        string model = Path.Combine(Folder, "iris.npz");
        var (code, output, error) = Run(IrisArgs(model));
        Assert.True(code == 0, error);
        double accuracy = double.Parse(output.Split('\n').Last(line => line.StartsWith("epoch  40", StringComparison.Ordinal)).Split("test accuracy: ")[1][..10], CultureInfo.InvariantCulture);
        Assert.InRange(accuracy, 0.9, 1);
        var predictions = File.ReadAllLines(Path.Combine(Folder, "test.csv"));
        Assert.Equal("index,label,predicted,p_setosa,p_versicolor,p_virginica", predictions[0]);
        Assert.Equal(31, predictions.Length);
        Assert.Equal(accuracy, predictions[1..].Count(line => line.Split(',')[1] == line.Split(',')[2]) / 30.0, 1e-8);   // printed with 8 decimals

        // the whole file without its labels, columns in another order: the rows are found by the model's names
        var iris = File.ReadAllLines(Iris(Folder)).Select(line => line.Split(',')).ToArray();
        string rows = Path.Combine(Folder, "rows.csv");
        File.WriteAllLines(rows, iris.Select(f => string.Join(',', $"\"{f[3]}\"", f[0], f[2], f[1])));
        (code, output, error) = Run("--load-model", model, "--csv", rows, "--epochs", "0", "--predict", Path.Combine(Folder, "rows-predicted.csv"));
        Assert.True(code == 0, error);
        Assert.Contains("wrote the predictions of 150 rows to", output);
        var predicted = File.ReadAllLines(Path.Combine(Folder, "rows-predicted.csv"));
        Assert.Equal("index,predicted,p_setosa,p_versicolor,p_virginica", predicted[0]);
        // the same as the library's prediction of the raw rows
        var loaded = Model.Load(model);
        var table = CsvTable.Read(Iris(Folder), new CsvOptions { LabelColumn = "species" });
        var P = loaded.PredictProbabilities(table.X);
        for (int i = 0; i < 150; i++)
        {
            var fields = predicted[i + 1].Split(',');
            Assert.Equal(loaded.ClassNames![Dataset.ClassOf(P.Row(i))], fields[1]);
            Assert.Equal(P.Row(i).ToArray(), fields[2..].Select(p => float.Parse(p, CultureInfo.InvariantCulture)));
        }
        // the same run again: the same bits
        string first = File.ReadAllText(Path.Combine(Folder, "test.csv"));
        Assert.Equal(0, Run(IrisArgs(model)).Code);
        Assert.Equal(first, File.ReadAllText(Path.Combine(Folder, "test.csv")));
    }

    [Fact]
    public void Digits_train_through_the_tool()
    {
        var (code, output, error) = Run("--csv", Path.Combine(Sklearn, "digits.csv.gz"), "--no-header", "--label-column", "64", "--test-split", "0.2", "--normalize",
            "--layers", "ReLU;Linear", "--layer-sizes", "64;100;10", "--loss", "SoftmaxCrossEntropy", "--optimizers", "Momentum(0.9)", "--learning-rate", "0.01",
            "--epochs", "20", "--batch-size", "20", "--seed", "1");
        Assert.True(code == 0, error);
        double accuracy = double.Parse(output.Split('\n').Last(line => line.StartsWith("epoch  20", StringComparison.Ordinal)).Split("test accuracy: ")[1][..10], CultureInfo.InvariantCulture);
        Assert.InRange(accuracy, 0.95, 1);
    }

    [Fact]
    public void Regression_writes_values()
    {
        var rng = new Rng(2);
        var lines = new List<string> { "u;v;target" };
        for (int i = 0; i < 200; i++)
        {
            double u = rng.NextDouble(), v = rng.NextDouble();
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{u:F5};{v:F5};{2 * u - v + 0.25:F5}"));
        }
        string path = Path.Combine(Folder, "regression.csv");
        File.WriteAllLines(path, lines);
        var (code, output, error) = Run("--csv", path, "--label-column", "target", "--test-split", "0.25", "--layers", "Linear", "--layer-sizes", "2;1",
            "--epochs", "200", "--batch-size", "10", "--learning-rate", "0.05", "--seed", "1", "--predict", Path.Combine(Folder, "p.csv"));
        Assert.True(code == 0, error + output);
        var predictions = File.ReadAllLines(Path.Combine(Folder, "p.csv"));
        Assert.Equal("index,label,predicted", predictions[0]);
        Assert.Equal(51, predictions.Length);
        foreach (var line in predictions[1..])
        {
            var f = line.Split(',').Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(f[1], f[2], 0.01);
        }
    }

    [Theory]
    [InlineData(new[] { "--label-column", "y" }, "--label-column goes with --csv FILE")]
    [InlineData(new[] { "--test-split", "0.2" }, "--test-split goes with --csv FILE")]
    public void Csv_options_need_csv(string[] extra, string expected)
    {
        var (code, _, error) = Run(["--generate-dataset", "mini", "--layers", "Linear", "--layer-sizes", "2;2", "--epochs", "1", .. extra]);
        Assert.Equal(1, code);
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData(new[] { "--test-split", "1" }, "--test-split must be in [0, 1), got 1")]
    [InlineData(new[] { "--separator", "x" }, "--separator 'x' (valid: ',', ';', '|', tab)")]
    [InlineData(new[] { "--layer-sizes", "4;16;2" }, "the label column 'species' has 3 classes ('setosa', 'versicolor', 'virginica') but the network has 2 outputs")]
    [InlineData(new[] { "--layer-sizes", "5;16;3" }, "has 4 feature columns, the network takes 5 inputs")]
    [InlineData(new[] { "--label-column", "kind" }, "no label column 'kind'")]
    public void Csv_mistakes_are_one_line(string[] changes, string expected)
    {
        var (code, _, error) = Run(Replaced(IrisArgs(Path.Combine(Folder, "m.npz")), changes));
        Assert.Equal(1, code);
        Assert.Contains(expected, error);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.False(File.Exists(Path.Combine(Folder, "m.npz")));
    }
}
