using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace Nerva.Data;

/// <summary>
/// One NumPy array in the <c>.npy</c> format (versions 1.0, 2.0 and 3.0): its dtype, shape and raw bytes.
/// Supported dtypes: f4, f8, u1, i1, i4, i8, little or big endian, C or Fortran order. Pickled object
/// arrays are refused. Writing uses little-endian C order and format 1.0 (2.0 for very long headers).
/// </summary>
public sealed partial class NpyArray
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const string Supported = "f4, f8, u1, i1, i4, i8";

    private NpyArray(char kind, int size, bool bigEndian, bool fortranOrder, int[] shape, byte[]? data, Action<Stream>? writeData = null)
    {
        Kind = kind;
        ItemSize = size;
        BigEndian = bigEndian;
        FortranOrder = fortranOrder;
        Shape = shape;
        _data = data;
        _writeData = writeData;
        Count = shape.Aggregate(1L, (a, b) => a * b);
        // Fortran order: element (c_0, …, c_{d−1}) sits at Σ c_axis·Π_{a<axis} Shape[a].
        _fortranStrides = new long[shape.Length];
        long stride = 1;
        for (int axis = 0; axis < shape.Length; axis++)
        {
            _fortranStrides[axis] = stride;
            stride *= shape[axis];
        }
    }

    private readonly long[] _fortranStrides;

    /// <summary>'f' (float), 'u' (unsigned) or 'i' (signed integer).</summary>
    public char Kind { get; }

    /// <summary>Bytes per element.</summary>
    public int ItemSize { get; }

    /// <summary>Whether the elements are stored big-endian.</summary>
    public bool BigEndian { get; }

    /// <summary>Whether the elements are stored in Fortran (column-major) order.</summary>
    public bool FortranOrder { get; }

    /// <summary>The shape, one size per dimension (empty for a scalar).</summary>
    public int[] Shape { get; }

    /// <summary>The elements as stored (a view made by <see cref="View(Matrix{float}, int[])"/> copies them here when asked).</summary>
    public byte[] Data => _data ??= Materialize();

    private byte[]? _data;

    /// <summary>A view's writer: the elements straight from the memory that holds them.</summary>
    private readonly Action<Stream>? _writeData;

    private byte[] Materialize()
    {
        var stream = new MemoryStream();
        _writeData!(stream);
        return stream.ToArray();
    }

    /// <summary>
    /// A float32 array of the given shape over the elements of <paramref name="M"/>, written from the matrix's own memory
    /// when the array is written (no copy: saving a network needs no memory beyond the network's); it shows the matrix as
    /// it is then, so it is for writing at once. <see cref="Snapshot"/> keeps the values of now.
    /// </summary>
    internal static NpyArray View(Matrix<float> M, params int[] shape) => View('f', 4, M.Length, shape, stream => stream.Write(MemoryMarshal.AsBytes(M.AsSpan())));

    /// <summary>An int32 array over <paramref name="values"/>, written from their memory (see <see cref="View(Matrix{float}, int[])"/>).</summary>
    internal static NpyArray View(int[] values, params int[] shape) => View('i', 4, values.Length, shape, stream => stream.Write(MemoryMarshal.AsBytes(values.AsSpan())));

    private static NpyArray View(char kind, int size, long count, int[] shape, Action<Stream> write)
    {
        if (shape.Aggregate(1L, (a, b) => a * b) != count) throw new ArgumentException($"shape ({string.Join(", ", shape)}) holds {shape.Aggregate(1L, (a, b) => a * b)} elements, got {count}");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("writing .npy views needs a little-endian machine");
        return new NpyArray(kind, size, false, false, [.. shape], null, write);
    }

    /// <summary>The array with its own copy of the elements: a view's values as they are now.</summary>
    internal NpyArray Snapshot() => new(Kind, ItemSize, BigEndian, FortranOrder, Shape, (byte[])Data.Clone());

    /// <summary>The number of elements.</summary>
    public long Count { get; }

    /// <summary>The dtype in NumPy's notation, e.g. "&lt;f4".</summary>
    public string Descr => $"{(ItemSize == 1 ? '|' : BigEndian ? '>' : '<')}{Kind}{ItemSize}";

    /// <summary>A float32 array of the given shape holding <paramref name="values"/> in C order.</summary>
    public static NpyArray FromFloats(float[] values, params int[] shape) => Create('f', 4, shape, values, (span, v) => BinaryPrimitives.WriteSingleLittleEndian(span, v));

    /// <summary>A float64 array of the given shape holding <paramref name="values"/> in C order.</summary>
    public static NpyArray FromDoubles(double[] values, params int[] shape) => Create('f', 8, shape, values, (span, v) => BinaryPrimitives.WriteDoubleLittleEndian(span, v));

    /// <summary>An int32 array of the given shape holding <paramref name="values"/> in C order.</summary>
    public static NpyArray FromInt32(int[] values, params int[] shape) => Create('i', 4, shape, values, (span, v) => BinaryPrimitives.WriteInt32LittleEndian(span, v));

    /// <summary>An int64 array of the given shape holding <paramref name="values"/> in C order.</summary>
    public static NpyArray FromInt64(long[] values, params int[] shape) => Create('i', 8, shape, values, (span, v) => BinaryPrimitives.WriteInt64LittleEndian(span, v));

    /// <summary>A uint8 array of the given shape holding <paramref name="values"/> in C order.</summary>
    public static NpyArray FromBytes(byte[] values, params int[] shape) => Create('u', 1, shape, values, (span, v) => span[0] = v);

    /// <summary>The elements in C (row-major) order, converted to double.</summary>
    public double[] ToDoubles()
    {
        var result = new double[Count];
        for (long k = 0; k < result.Length; k++) result[k] = Element(StorageIndex(k));
        return result;
    }

    /// <summary>The elements in C order, converted to float.</summary>
    public float[] ToFloats()
    {
        var result = new float[Count];
        if (Kind == 'f' && ItemSize == 4 && !BigEndian && !FortranOrder)
        {
            Buffer.BlockCopy(Data, 0, result, 0, Data.Length);
            return result;
        }
        for (long k = 0; k < result.Length; k++) result[k] = (float)Element(StorageIndex(k));
        return result;
    }

    /// <summary>The elements in C order as integers; floats must hold whole numbers.</summary>
    public long[] ToInt64()
    {
        var result = new long[Count];
        for (long k = 0; k < result.Length; k++)
        {
            long index = StorageIndex(k);
            double v = Element(index);
            if (v != Math.Floor(v) || double.IsInfinity(v)) throw new DataFormatException($"expected integer labels, found {v.ToString(CultureInfo.InvariantCulture)}");
            result[k] = Kind == 'i' && ItemSize == 8 ? ReadInt64(index) : (long)v;
        }
        return result;
    }

    /// <summary>
    /// The elements in C order as int32, each checked to lie in [<paramref name="min"/>, <paramref name="max"/>] (null: the
    /// first element outside, by index, in <paramref name="outside"/>); no wider copy is made on the way (a CSR index array
    /// of 10⁸ entries needs its 400 MB once).
    /// </summary>
    internal int[]? ToInt32(long min, long max, out long outside)
    {
        outside = -1;
        if (Kind == 'f') throw new DataFormatException($"expected integers, found {Descr}");
        var result = new int[Count];
        if (Kind == 'i' && ItemSize == 4 && !BigEndian && !FortranOrder && BitConverter.IsLittleEndian)
            MemoryMarshal.Cast<byte, int>(Data).CopyTo(result);
        else
            for (long k = 0; k < result.Length; k++)
            {
                long index = StorageIndex(k);
                long v = Kind == 'i' && ItemSize == 8 ? ReadInt64(index) : (long)Element(index);
                if (v < int.MinValue || v > int.MaxValue) { outside = k; return null; }
                result[k] = (int)v;
            }
        for (long k = 0; k < result.Length; k++)
            if (result[k] < min || result[k] > max) { outside = k; return null; }
        return result;
    }

    /// <summary>The array as a rows × cols matrix: a 2-D array as it is, or the first axis by the product of the others.</summary>
    public Matrix<T> ToMatrix<T>() where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (Shape.Length == 0) throw new DataFormatException("expected an array with at least one dimension, got a scalar");
        int rows = Shape[0];
        long cols = Shape.Length == 1 ? 1 : Count / Math.Max(rows, 1);
        if (cols > int.MaxValue) throw new DataFormatException($"array of shape ({string.Join(", ", Shape)}) is too large");
        var result = new Matrix<T>(rows, (int)cols);
        var target = result.AsSpan();
        if (typeof(T) == typeof(float))
        {
            var floats = ToFloats();
            for (int k = 0; k < target.Length; k++) target[k] = T.CreateTruncating(floats[k]);
        }
        else
        {
            for (int k = 0; k < target.Length; k++) target[k] = T.CreateTruncating(Element(StorageIndex(k)));
        }
        return result;
    }

    /// <summary>
    /// Reads one array; the message of a failure names the problem. Nothing in the header is trusted: the dtype and shape
    /// take ASCII digits only, sizes are computed with checked arithmetic, and no more is allocated than
    /// <paramref name="available"/> bytes (what the file or archive member can hold; by default the rest of a seekable
    /// stream) allow.
    /// </summary>
    public static NpyArray Read(Stream stream, string name = "array", long? available = null) => Read(stream, name, available, long.MaxValue);

    /// <summary>Reads one array as <see cref="Read(Stream, string, long?)"/> does, refusing a shape of more than <paramref name="maxCount"/> elements before reading its data.</summary>
    internal static NpyArray Read(Stream stream, string name, long? available, long maxCount)
    {
        ArgumentNullException.ThrowIfNull(stream);
        available ??= stream.CanSeek ? stream.Length - stream.Position : long.MaxValue;
        Span<byte> prefix = stackalloc byte[10];
        if (StreamReading.ReadFully(stream, prefix) < 10 || !prefix[..6].SequenceEqual(Magic))
            throw new DataFormatException($"{name}: not a .npy array (missing the \\x93NUMPY magic)");
        int major = prefix[6];
        int headerLength;
        switch (major)
        {
            case 1:
                headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..]);
                break;
            case 2 or 3:
                Span<byte> extra = stackalloc byte[2];
                if (StreamReading.ReadFully(stream, extra) < 2) throw new DataFormatException($"{name}: truncated .npy header");
                headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian([prefix[8], prefix[9], extra[0], extra[1]]);
                break;
            default:
                throw new DataFormatException($"{name}: .npy format version {major}.{prefix[7]} is not supported (valid: 1.0, 2.0, 3.0)");
        }
        if (headerLength <= 0 || headerLength > 1 << 20) throw new DataFormatException($"{name}: corrupt .npy header length {headerLength}");
        var headerBytes = new byte[headerLength];
        if (StreamReading.ReadFully(stream, headerBytes) < headerLength) throw new DataFormatException($"{name}: truncated .npy header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        var (kind, size, bigEndian) = ParseDescr(header, name);
        bool fortran = ParseFortranOrder(header, name);
        int[] shape = ParseShape(header, name);
        long bytes;
        try
        {
            bytes = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * size);
        }
        catch (OverflowException)
        {
            throw new DataFormatException($"{name}: corrupt .npy header: shape ({string.Join(", ", shape)}) of {DescrText(kind, size)} overflows a 64-bit size");
        }
        if (bytes > Array.MaxLength) throw new DataFormatException($"{name}: array of shape ({string.Join(", ", shape)}) is too large");
        if (bytes / size > maxCount) throw new DataFormatException($"{name}: shape ({string.Join(", ", shape)}) holds {bytes / size} elements; at most {maxCount} are expected here");
        long left = available.Value - (major == 1 ? 10 : 12) - headerLength;
        if (bytes > left)
            throw new DataFormatException($"{name}: truncated data: expected {bytes} bytes for shape ({string.Join(", ", shape)}) of {DescrText(kind, size)}, the file holds {Math.Max(0, left)}");
        var data = StreamReading.ReadUpTo(stream, (int)bytes, out int read);
        if (read < bytes) throw new DataFormatException($"{name}: truncated data: expected {bytes} bytes for shape ({string.Join(", ", shape)}) of {DescrText(kind, size)}, found {read}");
        return new NpyArray(kind, size, bigEndian, fortran, shape, data);
    }

    /// <summary>Writes the array as .npy (little-endian, C order).</summary>
    public void Write(Stream stream)
    {
        var array = FortranOrder || (BigEndian && ItemSize > 1) ? Normalized() : this;
        string shape = array.Shape.Length == 1 ? $"({array.Shape[0]},)" : $"({string.Join(", ", array.Shape)})";
        string dict = $"{{'descr': '{array.Descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int major = dict.Length + 11 > ushort.MaxValue ? 2 : 1;
        int preamble = major == 1 ? 10 : 12;
        int padded = (preamble + dict.Length + 1 + 63) / 64 * 64;
        string header = dict + new string(' ', padded - preamble - dict.Length - 1) + "\n";
        stream.Write(Magic);
        stream.Write([(byte)major, 0]);
        Span<byte> length = stackalloc byte[4];
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
            stream.Write(length[..2]);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)header.Length);
            stream.Write(length);
        }
        stream.Write(Encoding.Latin1.GetBytes(header));
        if (array._data is null) array._writeData!(stream);
        else stream.Write(array._data);
    }

    private NpyArray Normalized()
    {
        var data = new byte[Data.Length];
        for (long k = 0; k < Count; k++)
        {
            long source = StorageIndex(k) * ItemSize;
            for (int b = 0; b < ItemSize; b++) data[k * ItemSize + b] = Data[source + (BigEndian ? ItemSize - 1 - b : b)];
        }
        return new NpyArray(Kind, ItemSize, false, false, Shape, data);
    }

    // Where element k (in C order) sits in the storage: peel its coordinates off k from the last axis.
    private long StorageIndex(long k)
    {
        if (!FortranOrder || Shape.Length < 2) return k;
        long index = 0;
        for (int axis = Shape.Length - 1; axis >= 0; axis--)
        {
            index += k % Shape[axis] * _fortranStrides[axis];
            k /= Shape[axis];
        }
        return index;
    }

    private double Element(long index)
    {
        var bytes = Data.AsSpan((int)(index * ItemSize), ItemSize);
        return (Kind, ItemSize) switch
        {
            ('f', 4) => BigEndian ? BinaryPrimitives.ReadSingleBigEndian(bytes) : BinaryPrimitives.ReadSingleLittleEndian(bytes),
            ('f', 8) => BigEndian ? BinaryPrimitives.ReadDoubleBigEndian(bytes) : BinaryPrimitives.ReadDoubleLittleEndian(bytes),
            ('u', 1) => bytes[0],
            ('i', 1) => (sbyte)bytes[0],
            ('i', 4) => BigEndian ? BinaryPrimitives.ReadInt32BigEndian(bytes) : BinaryPrimitives.ReadInt32LittleEndian(bytes),
            _ => ReadInt64(index),
        };
    }

    private long ReadInt64(long index)
    {
        var bytes = Data.AsSpan((int)(index * ItemSize), ItemSize);
        return BigEndian ? BinaryPrimitives.ReadInt64BigEndian(bytes) : BinaryPrimitives.ReadInt64LittleEndian(bytes);
    }

    private static NpyArray Create<TValue>(char kind, int size, int[] shape, TValue[] values, SpanWriter<TValue> write) where TValue : unmanaged
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != values.Length) throw new ArgumentException($"shape ({string.Join(", ", shape)}) holds {count} elements, got {values.Length}");
        var data = new byte[(long)values.Length * size];
        if (BitConverter.IsLittleEndian) System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(data);
        else for (int k = 0; k < values.Length; k++) write(data.AsSpan(k * size, size), values[k]);
        return new NpyArray(kind, size, false, false, [.. shape], data);
    }

    private delegate void SpanWriter<in TValue>(Span<byte> span, TValue value);

    private static (char kind, int size, bool bigEndian) ParseDescr(string header, string name)
    {
        var match = DescrPattern().Match(header);
        if (!match.Success) throw new DataFormatException($"{name}: .npy header has no 'descr'");
        string descr = match.Groups[1].Value;
        if (descr.Contains('O', StringComparison.Ordinal))
            throw new DataFormatException($"{name}: dtype '{Npz.Printable(descr)}' holds pickled Python objects, which are refused (valid dtypes: {Supported})");
        var dtype = DtypePattern().Match(descr);
        if (!dtype.Success) throw new DataFormatException($"{name}: dtype '{Npz.Printable(descr)}' is not supported (valid dtypes: {Supported})");
        char kind = dtype.Groups[2].Value[0];
        int size = int.Parse(dtype.Groups[3].Value, NumberStyles.None, CultureInfo.InvariantCulture);   // one or two ASCII digits
        bool ok = (kind, size) is ('f', 4) or ('f', 8) or ('u', 1) or ('i', 1) or ('i', 4) or ('i', 8);
        if (!ok) throw new DataFormatException($"{name}: dtype '{Npz.Printable(descr)}' is not supported (valid dtypes: {Supported})");
        bool bigEndian = dtype.Groups[1].Value == ">" || (dtype.Groups[1].Value == "=" && !BitConverter.IsLittleEndian);
        return (kind, size, bigEndian);
    }

    private static string DescrText(char kind, int size) => $"{kind}{size}";

    private static bool ParseFortranOrder(string header, string name)
    {
        var match = FortranPattern().Match(header);
        if (!match.Success) throw new DataFormatException($"{name}: .npy header has no 'fortran_order'");
        return match.Groups[1].Value == "True";
    }

    private static int[] ParseShape(string header, string name)
    {
        var match = ShapePattern().Match(header);
        if (!match.Success) throw new DataFormatException($"{name}: .npy header has no 'shape'");
        var parts = match.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i].TrimEnd('L'), NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new DataFormatException($"{name}: corrupt shape '({Npz.Printable(match.Groups[1].Value)})' in the .npy header");
        return shape;
    }

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"^([<>|=]?)([fiu])([0-9]{1,2})$")]
    private static partial Regex DtypePattern();

    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();
}
