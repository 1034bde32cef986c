namespace Nerva.Data;

/// <summary>Reading a byte count that an untrusted header announced, without allocating more than the stream delivers.</summary>
internal static class StreamReading
{
    /// <summary>Above this many bytes a read grows its buffer with the data instead of allocating the announced size.</summary>
    private const int Step = 16 << 20;

    /// <summary>
    /// Up to <paramref name="bytes"/> bytes of the stream (fewer when it ends first: <paramref name="read"/> says how many).
    /// Above 16 MB the buffer grows (doubling) as the data arrives, so a header that claims more than the stream delivers
    /// costs at most about twice what the stream really holds.
    /// </summary>
    public static byte[] ReadUpTo(Stream stream, int bytes, out int read)
    {
        var data = new byte[Math.Min(bytes, Step)];
        read = ReadFully(stream, data);
        while (read == data.Length && read < bytes)
        {
            Array.Resize(ref data, (int)Math.Min(bytes, 2L * data.Length));
            read += ReadFully(stream, data.AsSpan(read));
        }
        return data;
    }

    /// <summary>Fills <paramref name="buffer"/> unless the stream ends first; returns the bytes read.</summary>
    public static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }
}
