package io.github.sparksam.train;

/**
 * A seeded pseudo-random permutation of {@code [0, n)} that any task can evaluate for one example
 * id without seeing the others: a 4-round Feistel network on the smallest even-width bit domain
 * covering {@code n}, with cycle walking back into range (at most 4x the domain, so a few rounds
 * on average).
 *
 * <p>Why: an epoch's shuffle must put the same examples into the same global batches however the
 * data is partitioned (so 1 and 4 partitions train identically) and must not need the whole index
 * on the driver. Example {@code id} goes to position {@code position(id)} of the epoch's order;
 * the step that uses it is {@code position / batchSize}.
 */
public final class BatchPermutation implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  private static final int ROUNDS = 4;

  private final long n;
  private final int halfBits;
  private final long halfMask;
  private final long[] keys = new long[ROUNDS];

  public BatchPermutation(long n, long seed, int epoch) {
    if (n < 1) throw new IllegalArgumentException("permutation of an empty range");
    this.n = n;
    int bits = 64 - Long.numberOfLeadingZeros(Math.max(1, n - 1));
    this.halfBits = Math.max(1, (bits + 1) / 2);
    this.halfMask = (1L << halfBits) - 1;
    long k = mix(seed ^ mix(0x5851F42D4C957F2DL + epoch));
    for (int r = 0; r < ROUNDS; r++) {
      k = mix(k + 0x9E3779B97F4A7C15L);
      keys[r] = k;
    }
  }

  /** The position of {@code id} (in {@code [0, n)}) in this epoch's order. */
  public long position(long id) {
    if (id < 0 || id >= n) throw new IllegalArgumentException("example id " + id + " outside [0, " + n + ")");
    long x = id;
    do {
      x = encrypt(x);
    } while (x >= n);
    return x;
  }

  private long encrypt(long x) {
    long left = x >>> halfBits, right = x & halfMask;
    for (int r = 0; r < ROUNDS; r++) {
      long next = left ^ (mix(right ^ keys[r]) & halfMask);
      left = right;
      right = next;
    }
    return (left << halfBits) | right;
  }

  /** SplitMix64's finalizer: a fast, well-mixing 64-bit bijection. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
