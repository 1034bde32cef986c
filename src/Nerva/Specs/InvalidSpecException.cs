namespace Nerva.Specs;

/// <summary>A malformed option value: the message names it and, where there is a list, the valid choices.</summary>
public sealed class InvalidSpecException(string message) : Exception(message);
