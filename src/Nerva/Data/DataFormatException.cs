namespace Nerva.Data;

/// <summary>A data or weights file that cannot be read: missing, truncated, corrupt or of the wrong kind.</summary>
public sealed class DataFormatException(string message, Exception? inner = null) : Exception(message, inner);
