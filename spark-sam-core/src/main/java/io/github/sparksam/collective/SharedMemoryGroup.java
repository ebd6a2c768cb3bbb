package io.github.sparksam.collective;

import io.github.sparksam.backend.Float32Conversions;
import java.io.IOException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The all-reduce of a stage whose ranks all run in this JVM (local mode, or a single executor):
 * no ring and no copies in flight. Each rank publishes its addend array, and after a barrier reads
 * its peers' arrays directly: with up to {@link #WHOLE_SUM_MAX_RANKS} ranks every rank adds the
 * whole vector itself, so a value crosses between cores once (a ring moves it twice, through a
 * buffer); with more, rank r adds segment r into a shared array and every rank copies the result,
 * so no rank reads more than about three vectors. A second barrier keeps every addend unchanged
 * until all ranks have read it.
 *
 * <p>The sum is added in rank order, {@code ((0 + v0) + v1) + ...}, as the ring and the driver add
 * it, so the weights stay bit-identical to the other aggregations. Float32 addends (the
 * gradients of a float32 backend, exact in float64) are read as they are: half the bytes of
 * their float64 copies, and no conversion pass.
 *
 * <p>Waits spin for up to {@link #SPIN_NANOS} (the ranks of a step arrive within microseconds of
 * each other when each has a core) and then park; they fail at once when a rank left the group
 * (its task failed), and otherwise like the ring's: on the task's death or after the deadline.
 */
final class SharedMemoryGroup {
  static final int WHOLE_SUM_MAX_RANKS = 3;
  static final long SPIN_NANOS = 50_000;
  /** Values summed at a time: 16 KB of float64 partial sums, well inside L1. */
  private static final int BLOCK = 2048;

  /** One stage attempt of one fit. */
  private record Key(String token, long stageKey) {}

  private static final ConcurrentHashMap<Key, SharedMemoryGroup> GROUPS = new ConcurrentHashMap<>();
  private static final int NOBODY_LEFT = -1;
  /** The fit ended or a newer attempt of the stage started. */
  private static final int REPLACED = -2;

  private final Key key;
  private final int size;
  private final Object[] addends;
  private final byte[][] blobs;
  private final AtomicReferenceArray<Thread> waiting;
  /**
   * Segment sums (more than {@link #WHOLE_SUM_MAX_RANKS} ranks, or a sum in place). One array
   * serves every call: a rank writes its segment only after the call's first barrier, which no
   * rank passes before it has copied out the previous call's sums.
   */
  private double[] segmentSums = new double[0];
  private final AtomicLong arrivals = new AtomicLong();
  /** {@link #NOBODY_LEFT}, {@link #REPLACED}, or the rank that left. */
  private volatile int left = NOBODY_LEFT;
  private int closed;

  private SharedMemoryGroup(Key key, int size) {
    this.key = key;
    this.size = size;
    this.addends = new Object[size];
    this.blobs = new byte[size][];
    this.waiting = new AtomicReferenceArray<>(size);
  }

  /** The group of stage attempt {@code stageKey} of fit {@code token}; groups of its older attempts are dropped. */
  static SharedMemoryGroup join(String token, long stageKey, int size) {
    GROUPS.entrySet().removeIf(e -> {
      boolean stale = e.getKey().token().equals(token) && e.getKey().stageKey() < stageKey;
      if (stale) e.getValue().leave(REPLACED);
      return stale;
    });
    return GROUPS.computeIfAbsent(new Key(token, stageKey), k -> new SharedMemoryGroup(k, size));
  }

  /** Drops every group of fit {@code token}; returns how many. */
  static int release(String token) {
    int[] n = {0};
    GROUPS.entrySet().removeIf(e -> {
      if (!e.getKey().token().equals(token)) return false;
      e.getValue().leave(REPLACED);
      n[0]++;
      return true;
    });
    return n[0];
  }

  static int open() { return GROUPS.size(); }

  /**
   * Rank {@code rank}'s call: {@code out[0..len)} becomes the rank-order sum of every rank's {@code
   * addend} (a {@code float[]} or {@code double[]}, the same kind and length on every rank; {@code
   * out} may be the rank's own {@code double[]} addend). Returns every rank's blob, by rank.
   */
  byte[][] sum(int rank, Object addend, int len, double[] out, byte[] blob, long call, BooleanSupplier alive,
               long deadline) throws IOException {
    addends[rank] = addend;
    blobs[rank] = blob;
    await(rank, 2 * call + 1, alive, deadline);
    byte[][] gathered = blobs.clone();
    boolean inPlace = addend == out;
    if (size <= WHOLE_SUM_MAX_RANKS && !inPlace) {
      addRange(0, len, out, 0);
      await(rank, 2 * call + 2, alive, deadline);
    } else {
      int segment = (len + size - 1) / size;
      double[] sums = segmentSums(segment * size);
      int lo = Math.min(len, rank * segment), hi = Math.min(len, lo + segment);
      addRange(lo, hi, sums, lo);
      await(rank, 2 * call + 2, alive, deadline);          // every addend read, every segment summed
      System.arraycopy(sums, 0, out, 0, len);
    }
    return gathered;
  }

  private synchronized double[] segmentSums(int n) {
    if (segmentSums.length < n) segmentSums = new double[n];
    return segmentSums;
  }

  /**
   * {@code dst[dstOff + i - lo] = ((0 + a0[i]) + a1[i]) + ...} for i in [lo, hi), a block at a time
   * so that the partial sums stay in the core's L1 cache while the addends stream past.
   */
  private void addRange(int lo, int hi, double[] dst, int dstOff) {
    boolean floats = addends[0] instanceof float[];
    for (int b = lo; b < hi; b += BLOCK) {
      int n = Math.min(BLOCK, hi - b), at = dstOff + b - lo;
      if (floats) {
        Float32Conversions.widen((float[]) addends[0], b, dst, at, n);
        for (int k = 1; k < size; k++) Float32Conversions.addWidened((float[]) addends[k], b, dst, at, n);
      } else {
        double[] first = (double[]) addends[0];
        for (int i = 0; i < n; i++) dst[at + i] = 0.0 + first[b + i];
        for (int k = 1; k < size; k++) {
          double[] a = (double[]) addends[k];
          for (int i = 0; i < n; i++) dst[at + i] = dst[at + i] + a[b + i];
        }
      }
    }
  }

  /** Barrier: returns once every rank has arrived {@code round} times. */
  private void await(int rank, long round, BooleanSupplier alive, long deadline) throws IOException {
    long target = round * size;
    if (arrivals.incrementAndGet() == target) {
      wakeAll();
      return;
    }
    long spinUntil = System.nanoTime() + SPIN_NANOS;
    while (arrivals.get() < target) {
      if (System.nanoTime() < spinUntil) {
        Thread.onSpinWait();
        continue;
      }
      waiting.set(rank, Thread.currentThread());     // then re-read arrivals: the last arriver unparks after its increment
      if (arrivals.get() >= target) break;
      if (left != NOBODY_LEFT) {
        throw new IOException(left == REPLACED ? "the stage attempt was replaced or the fit ended"
            : "rank " + left + " left the all-reduce");
      }
      RingAllReduce.check(deadline, alive, "the other ranks in this JVM");
      LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(RingAllReduce.POLL_MS));
      if (Thread.currentThread().isInterrupted()) {
        throw new IOException("interrupted while waiting for the other ranks in this JVM");
      }
    }
    waiting.set(rank, null);
  }

  /**
   * Rank {@code rank} is done with the group. After its last call no rank waits for it any more
   * (every rank made the same calls, and that call's last barrier is complete); before it (its task
   * failed), the ranks still waiting stop at once. The group is dropped when every rank closed.
   */
  void close(int rank) {
    leave(rank);
    synchronized (this) {
      if (++closed < size) return;
    }
    GROUPS.remove(key, this);
  }

  private void leave(int who) {
    left = who;
    wakeAll();
  }

  private void wakeAll() {
    for (int r = 0; r < size; r++) {
      Thread t = waiting.get(r);
      if (t != null) LockSupport.unpark(t);
    }
  }
}
