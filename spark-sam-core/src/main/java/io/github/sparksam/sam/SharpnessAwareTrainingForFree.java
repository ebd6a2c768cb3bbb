package io.github.sparksam.sam;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.train.LocalBatch;
import io.github.sparksam.train.LocalRule;
import io.github.sparksam.train.PartitionWorker;
import io.github.sparksam.train.RuleStateAccess;
import io.github.sparksam.train.UpdateRule;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * SAF, Sharpness-Aware training for Free (Du et al. 2022, "Sharpness-Aware Training for Free",
 * NeurIPS): the base optimizer on the loss plus a trajectory term, {@link TrajectoryLoss}, that
 * compares each example's current logits with the logits the same example had {@code lag} epochs
 * earlier. No second forward/backward pass: the past logits are the ones computed by the ordinary
 * forward pass of that earlier epoch.
 *
 * <p>Records live next to the cached data, in the partition's {@link BlockedPartition#local()} map
 * (key {@code "saf:" + runId}), indexed by the partition-local row: a ring of {@code lag + 1}
 * slots of {@code numRows x numOutputs} logits in the training precision, plus the epoch each
 * slot's row was written in. <b>Memory per partition: numRows x (lag + 1) x numOutputs values</b>
 * (4 bytes each in float32, 8 in float64; one logit per row for a binomial model) plus
 * {@code numRows x (lag + 1)} ints; allocated when first written and dropped with the cached data.
 *
 * <p>Per chunk of a step in epoch {@code e}: the current logits are written to slot
 * {@code e mod (lag + 1)} first (detached; only in epochs some later epoch of the window reads);
 * then, if {@code klStart < e < klEnd}, the record of epoch {@code e - lag} (slot
 * {@code (e - lag) mod (lag + 1)}) is the target. A record that is missing (never written, written
 * in another epoch, or lost because an evicted partition was recomputed) <em>masks</em> that
 * example's term and is counted, never replaced by a uniform target; {@link #epochMetrics} reports
 * {@code safCoverage = found / (found + missing)}. The term enters as a weighted sum like the loss,
 * so the step's mean divides it by the step's example weight (masked examples count as 0).
 *
 * <p>{@code lag = 0} reads the slot just written, {@code lambda = 0} scales the term to 0: both
 * give the base optimizer's weights bit for bit. Local steps ({@code localSteps > 1}) are
 * supported: the term is per example and needs no driver state.
 */
public final class SharpnessAwareTrainingForFree implements UpdateRule {
  private static final long serialVersionUID = 1L;

  /** Named sums added to the step's {@link LossStats}. */
  static final String TRAJECTORY = "saf.trajectorySum";
  static final String TRAJECTORY_WEIGHT = "saf.trajectoryWeight";
  static final String FOUND = "saf.recordsFound";
  static final String MISSING = "saf.recordsMissing";

  private final TrajectoryLoss loss;
  private final int lag;
  private final int klStart;
  private final int klEnd;
  private Local local;

  /**
   * @param lambda  coefficient of the trajectory term (>= 0)
   * @param tau     temperature (> 0)
   * @param lag     E~: compare with the outputs of this many epochs earlier (>= 0)
   * @param klStart the term is on for 0-based epochs e with klStart < e < klEnd; must be
   *                >= lag - 1, so that the first active epoch has a record to read
   * @param klEnd   exclusive end (Integer.MAX_VALUE: never off)
   */
  public SharpnessAwareTrainingForFree(double lambda, double tau, int lag, int klStart, int klEnd) {
    this.loss = new TrajectoryLoss(lambda, tau);
    if (lag < 0) throw new IllegalArgumentException("safLag must be >= 0, got " + lag);
    if (klStart < lag - 1) {
      throw new IllegalArgumentException("klStartEpoch (" + klStart + ") must be >= safLag - 1 (" + (lag - 1)
          + "): the first epoch with the SAF term (" + (klStart + 1) + ") compares with epoch " + (klStart + 1 - lag)
          + ", which does not exist; raise klStartEpoch or lower safLag");
    }
    if (klEnd < 0) throw new IllegalArgumentException("klEndEpoch must be >= 0, got " + klEnd);
    this.lag = lag;
    this.klStart = klStart;
    this.klEnd = klEnd;
    this.local = new Local(loss, lag, klStart, klEnd, null);
  }

  /** From the estimator's settings for a run of {@code epochs}. */
  public static SharpnessAwareTrainingForFree of(RuleSettings s, int epochs) {
    return new SharpnessAwareTrainingForFree(s.safLambda(), s.temperature(), s.safLag(), s.effectiveKlStart(epochs),
        s.effectiveKlEnd());
  }

  public TrajectoryLoss trajectoryLoss() { return loss; }

  public int lag() { return lag; }

  public int klStart() { return klStart; }

  public int klEnd() { return klEnd; }

  /** Whether the term is on in 0-based epoch {@code e}. */
  public boolean active(int e) { return klStart < e && e < klEnd; }

  @Override public LocalRule localRule() { return local; }

  @Override public boolean supportsLocalSteps() { return true; }

  /**
   * For epochs with the term on: {@code trajectoryLoss} (weighted mean of the term over the
   * examples that had a record), {@code safCoverage} and {@code safRecordsMissing}.
   */
  @Override public Map<String, Double> epochMetrics(LossStats s) {
    double found = s.metric(FOUND), missing = s.metric(MISSING);
    if (found + missing == 0) return Map.of();
    Map<String, Double> m = new LinkedHashMap<>();
    double w = s.metric(TRAJECTORY_WEIGHT);
    m.put("trajectoryLoss", w > 0 ? s.metric(TRAJECTORY) / w : Double.NaN);
    m.put("safCoverage", found / (found + missing));
    m.put("safRecordsMissing", missing);
    return m;
  }

  /**
   * Checkpoints SAF's per-example records: a job gathers every partition's ring of past logits and
   * the epoch each was written in, keyed by the stable example id (so they are <em>checkpointed</em>,
   * not regenerated: the past logits depend on weights that no longer exist). A resumed run hands
   * them back to the tasks through a broadcast; each partition installs the records of its own
   * examples when it first needs them, so coverage and weights continue exactly. Size: the records'
   * size (numRows x (lag + 1) x outputs values) as doubles, on the driver and in the file.
   */
  @Override public java.io.Serializable checkpointState(RuleStateAccess access) {
    int l = lag;
    List<RecordsState> parts = access.collectFromPartitions(w -> RecordsState.of(w, l));
    return RecordsState.merge(parts, lag);
  }

  @Override public void restoreState(java.io.Serializable state, RuleStateAccess access) {
    if (!(state instanceof RecordsState r)) {
      throw new IllegalArgumentException("resumeFrom: the checkpoint holds no SAF records ("
          + (state == null ? "none" : state.getClass().getName()) + ")");
    }
    if (r.lag != lag) {
      throw new IllegalArgumentException("resumeFrom: the checkpoint's SAF records are for safLag " + r.lag
          + " but this fit has safLag " + lag);
    }
    local = new Local(loss, lag, klStart, klEnd, access.broadcast(r));
  }

  /** SAF records of many examples, sorted by example id: {@code lag + 1} slots per example. */
  static final class RecordsState implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    final int lag;
    final int outputs;
    final long[] ids;
    final int[] epochs;      // ids.length x (lag + 1)
    final double[] logits;   // ids.length x (lag + 1) x outputs

    RecordsState(int lag, int outputs, long[] ids, int[] epochs, double[] logits) {
      this.lag = lag;
      this.outputs = outputs;
      this.ids = ids;
      this.epochs = epochs;
      this.logits = logits;
    }

    /** One partition's records of this run (null: it has none). */
    static RecordsState of(PartitionWorker w, int lag) {
      BlockedPartition p = w.partition();
      Records rec;
      synchronized (p) {
        rec = (Records) p.local().get(key(w.runId()));
      }
      if (rec == null) return null;
      int n = p.numRows, k = rec.outputs, slots = lag + 1;
      long[] ids = new long[n];
      int[] ep = new int[n * slots];
      double[] lg = new double[n * slots * k];
      for (int r = 0; r < n; r++) {
        ids[r] = p.id(r);
        for (int s = 0; s < slots; s++) {
          ep[r * slots + s] = rec.epochs[s][r];
          for (int j = 0; j < k; j++) lg[(r * slots + s) * k + j] = rec.slots[s].get(r * k + j);
        }
      }
      return new RecordsState(lag, k, ids, ep, lg).sorted();
    }

    private RecordsState sorted() {
      int n = ids.length, slots = lag + 1;
      Integer[] order = new Integer[n];
      for (int i = 0; i < n; i++) order[i] = i;
      Arrays.sort(order, (a, b) -> Long.compare(ids[a], ids[b]));
      long[] i2 = new long[n];
      int[] e2 = new int[epochs.length];
      double[] l2 = new double[logits.length];
      for (int i = 0; i < n; i++) {
        int o = order[i];
        i2[i] = ids[o];
        System.arraycopy(epochs, o * slots, e2, i * slots, slots);
        System.arraycopy(logits, o * slots * outputs, l2, i * slots * outputs, slots * outputs);
      }
      return new RecordsState(lag, outputs, i2, e2, l2);
    }

    static RecordsState merge(List<RecordsState> parts, int lag) {
      int n = 0, k = 0;
      for (RecordsState r : parts) {
        if (r == null) continue;
        n += r.ids.length;
        k = r.outputs;
      }
      int slots = lag + 1;
      long[] ids = new long[n];
      int[] ep = new int[n * slots];
      double[] lg = new double[n * slots * k];
      int at = 0;
      for (RecordsState r : parts) {
        if (r == null) continue;
        int m = r.ids.length;
        System.arraycopy(r.ids, 0, ids, at, m);
        System.arraycopy(r.epochs, 0, ep, at * slots, m * slots);
        System.arraycopy(r.logits, 0, lg, at * slots * k, m * slots * k);
        at += m;
      }
      return new RecordsState(lag, k, ids, ep, lg).sorted();
    }

    /** Fills {@code rec} with the records of {@code p}'s examples found here. */
    void install(BlockedPartition p, Records rec) {
      int slots = lag + 1, k = outputs;
      if (ids.length > 0 && k != rec.outputs) {
        throw new IllegalStateException("restored SAF records have " + k + " outputs, the model " + rec.outputs);
      }
      for (int r = 0; r < p.numRows; r++) {
        int i = Arrays.binarySearch(ids, p.id(r));
        if (i < 0) continue;
        for (int s = 0; s < slots; s++) {
          rec.epochs[s][r] = epochs[i * slots + s];
          for (int j = 0; j < k; j++) rec.slots[s].set(r * k + j, logits[(i * slots + s) * k + j]);
        }
      }
    }

    int size() { return ids.length; }
  }

  @Override public String name() { return "saf"; }

  @Override public String toString() {
    return String.format(Locale.ROOT, "SAF(lambda=%s, tau=%s, lag=%d, on for epochs %d < e < %s)", loss.lambda(),
        loss.temperature(), lag, klStart, klEnd == Integer.MAX_VALUE ? "inf" : Integer.toString(klEnd));
  }

  /** The storage key of a run's records in {@link BlockedPartition#local()}. */
  static String key(String runId) { return "saf:" + runId; }

  /** One partition's ring of past logits. */
  static final class Records {
    final int outputs;
    final Buf[] slots;       // slot -> numRows x outputs
    final int[][] epochs;    // slot -> epoch each row was written in (-1: never)

    Records(ComputeBackend be, int lag, int numRows, int outputs) {
      long size = (long) numRows * outputs;
      if (size > Integer.MAX_VALUE - 8) {
        throw new IllegalStateException("SAF records of a partition with " + numRows + " rows and " + outputs
            + " outputs exceed one array; use more partitions");
      }
      this.outputs = outputs;
      this.slots = new Buf[lag + 1];
      this.epochs = new int[lag + 1][];
      for (int s = 0; s <= lag; s++) {
        slots[s] = be.allocate((int) size);
        epochs[s] = new int[numRows];
        Arrays.fill(epochs[s], -1);
      }
    }
  }

  /** The task side: a chunk hook that records logits and adds the trajectory term. */
  static final class Local implements LocalRule {
    private static final long serialVersionUID = 1L;
    private final TrajectoryLoss loss;
    private final int lag;
    private final int klStart;
    private final int klEnd;
    /** Records restored from a checkpoint (null: none). */
    private final org.apache.spark.broadcast.Broadcast<RecordsState> restored;

    Local(TrajectoryLoss loss, int lag, int klStart, int klEnd,
          org.apache.spark.broadcast.Broadcast<RecordsState> restored) {
      this.restored = restored;
      this.loss = loss;
      this.lag = lag;
      this.klStart = klStart;
      this.klEnd = klEnd;
    }

    private boolean active(int e) { return klStart < e && e < klEnd; }

    @Override public void direction(PartitionWorker worker, Buf params, LocalBatch batch, Buf grad, LossStats stats) {
      int e = batch.epoch();
      boolean read = active(e);
      // write only what a later epoch of the window (or this one, lag 0) will read
      boolean write = e <= Integer.MAX_VALUE - lag && active(e + lag);
      if (!read && !write) {
        worker.gradient(params, batch, grad, stats);
        return;
      }
      Records rec = records(worker, write);
      worker.gradient(params, batch, grad, stats, new Hook(worker, rec, e, read, write));
    }

    private Records records(PartitionWorker worker, boolean create) {
      BlockedPartition p = worker.partition();
      synchronized (p) {
        String k = key(worker.runId());
        Records r = (Records) p.local().get(k);
        if (r == null && (create || restored != null)) {
          r = new Records(worker.backend(), lag, p.numRows, worker.network().numOutputs());
          if (restored != null) restored.value().install(p, r);
          p.local().put(k, r);
        }
        return r;
      }
    }

    private final class Hook implements PartitionWorker.ChunkHook {
      private final PartitionWorker worker;
      private final Records rec;
      private final int epoch;
      private final boolean read;
      private final boolean write;
      private final double[] work;

      Hook(PartitionWorker worker, Records rec, int epoch, boolean read, boolean write) {
        this.worker = worker;
        this.rec = rec;
        this.epoch = epoch;
        this.read = read;
        this.write = write;
        this.work = TrajectoryLoss.workFor(worker.network().numOutputs());
      }

      @Override public void adjust(LocalBatch chunk, Buf logits, Buf delta, LossStats stats) {
        int k = worker.network().numOutputs();
        int n = chunk.size();
        ComputeBackend be = worker.backend();
        if (write) {
          int ws = epoch % (lag + 1);
          Buf slot = rec.slots[ws];
          int[] ep = rec.epochs[ws];
          for (int j = 0; j < n; j++) {
            int row = chunk.row(j);
            be.copy(logits, j * k, slot, row * k, k);
            ep[row] = epoch;
          }
        }
        if (!read) return;
        int want = epoch - lag;
        long found = 0, missing = 0;
        double sum = 0, weight = 0;
        if (rec == null || want < 0) {
          missing = n;
        } else {
          int rs = want % (lag + 1);
          Buf slot = rec.slots[rs];
          int[] ep = rec.epochs[rs];
          for (int j = 0; j < n; j++) {
            int row = chunk.row(j);
            if (ep[row] != want) {
              missing++;
              continue;
            }
            double w = worker.weight(chunk, j);
            double v = loss.accumulate(slot, row * k, logits, j * k, k, w, delta, j * k, work);
            sum += w * v;
            weight += w;
            found++;
          }
        }
        stats.add(TRAJECTORY, sum);
        stats.add(TRAJECTORY_WEIGHT, weight);
        stats.add(FOUND, found);
        stats.add(MISSING, missing);
      }
    }

    @Override public String toString() { return "SAF.Local(" + loss + ", lag=" + lag + ")"; }
  }
}
