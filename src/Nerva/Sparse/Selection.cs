using System.Numerics;

namespace Nerva.Sparse;

/// <summary>The k-th smallest of n values in expected O(n) (the selection behind magnitude pruning).</summary>
internal static class Selection
{
    /// <summary>
    /// The value that would sit at index k if <paramref name="values"/> were sorted in <see cref="IComparable{T}"/>
    /// order (NaN first); reorders the array. Hoare partitions around a median of three; after 2·log₂ n partitions
    /// that did not finish, the remaining range is sorted (so the worst case is O(n log n), never O(n²)).
    /// </summary>
    public static T Smallest<T>(T[] values, int k) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if ((uint)k >= (uint)values.Length) throw new ArgumentOutOfRangeException(nameof(k), $"index {k} of {values.Length} values");
        int lo = 0, hi = values.Length - 1, budget = 2 * (BitOperations.Log2((uint)values.Length) + 1);
        while (lo < hi)
        {
            if (budget-- == 0)
            {
                Array.Sort(values, lo, hi - lo + 1);
                return values[k];
            }
            T pivot = MedianOfThree(values[lo], values[lo + (hi - lo) / 2], values[hi]);
            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i].CompareTo(pivot) < 0) i++;
                while (values[j].CompareTo(pivot) > 0) j--;
                if (i > j) break;
                (values[i], values[j]) = (values[j], values[i]);
                i++;
                j--;
            }
            // now values[lo … j] ≤ pivot ≤ values[i … hi], and anything between equals the pivot
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return values[k];
        }
        return values[k];
    }

    private static T MedianOfThree<T>(T a, T b, T c) where T : IComparable<T>
    {
        if (a.CompareTo(b) > 0) (a, b) = (b, a);
        if (b.CompareTo(c) > 0) b = c;
        return a.CompareTo(b) > 0 ? a : b;
    }
}
