package io.github.sparksam.sam;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.train.LocalBatch;
import io.github.sparksam.train.LocalRule;
import io.github.sparksam.train.PartitionWorker;
import io.github.sparksam.train.UpdateRule;
import java.util.Arrays;
import java.util.LinkedHashMap;
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
  private final Local local;

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
    this.local = new Local(loss, lag, klStart, klEnd);
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

    Local(TrajectoryLoss loss, int lag, int klStart, int klEnd) {
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
        if (r == null && create) {
          r = new Records(worker.backend(), lag, p.numRows, worker.network().numOutputs());
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
