package io.github.sparksam.sharpness;

import java.io.Serializable;

/**
 * Which rows of the cached data a measure uses, decided by each row's stable example id alone, so
 * that the same rows are chosen whatever the partitioning. Rows are ordered by a key: the id
 * itself when {@code seed < 0} (the reference protocol of Andriushchenko et al. 2023: the first N
 * training rows), else a seeded hash of the id (a uniformly random, reproducible sample). A
 * selection is "all rows" or "every row whose (key, id) is at most a threshold", the threshold
 * being the N-th smallest (key, id) found by {@link EvaluationSample#collect}.
 */
public final class RowSelection implements Serializable {
  private static final long serialVersionUID = 1L;

  private final long seed;
  private final boolean all;
  private final long maxKey;
  private final long maxId;

  private RowSelection(long seed, boolean all, long maxKey, long maxId) {
    this.seed = seed;
    this.all = all;
    this.maxKey = maxKey;
    this.maxId = maxId;
  }

  /** Every row. */
  public static RowSelection all() { return new RowSelection(-1, true, 0, 0); }

  /** Rows up to and including the row {@code (maxKey, maxId)} in key order. */
  static RowSelection upTo(long seed, long maxKey, long maxId) { return new RowSelection(seed, false, maxKey, maxId); }

  public boolean isAll() { return all; }

  public boolean contains(long id) {
    if (all) return true;
    long k = key(seed, id);
    return k < maxKey || (k == maxKey && id <= maxId);
  }

  /** The ordering key of example {@code id}: the id when {@code seed < 0}, else a non-negative seeded hash. */
  public static long key(long seed, long id) {
    if (seed < 0) return id;
    return mix(id * 0x9E3779B97F4A7C15L + mix(seed)) >>> 1;
  }

  /** SplitMix64's finaliser. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  @Override public String toString() {
    return all ? "all rows" : "rows with key <= (" + maxKey + ", " + maxId + "), seed " + seed;
  }
}
