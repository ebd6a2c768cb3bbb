package io.github.sparksam.train;

import java.io.Serializable;
import java.util.Collections;
import java.util.List;

/** What a fit did: per-epoch metrics, time, the BLAS the tasks used, and the data's shape. */
public final class TrainingSummary implements Serializable {
  private static final long serialVersionUID = 1L;

  private final List<EpochMetrics> epochs;
  private final double totalSeconds;
  private final String blas;
  private final long numExamples;
  private final int numPartitions;
  private final int stepsPerEpoch;
  private final String rule;
  private final String optimizer;
  private final Recovery recovery;

  /**
   * What the fit recovered from. {@code failedTaskAttempts}: task attempts of training jobs that
   * failed and were retried by Spark (from the successful attempts' attempt numbers).
   * {@code partitionStateRebuilds}: times a partition's task-local state (batch plan, buffers, SAF
   * records) was found empty after the partition's first task, because its cached block was
   * recomputed (lost executor, eviction) or re-read from disk; SAF reports the records this cost
   * as lower {@code safCoverage}. {@code events}: one line per such event (at most 200).
   * {@code resumedFrom}: the checkpoint the fit started from (null: none). {@code checkpoints}:
   * the checkpoint files this fit wrote.
   */
  public record Recovery(long failedTaskAttempts, long partitionStateRebuilds, List<String> events, String resumedFrom,
                         List<String> checkpoints) implements Serializable {
    public Recovery {
      events = List.copyOf(events);
      checkpoints = List.copyOf(checkpoints);
    }

    public static Recovery none() { return new Recovery(0, 0, List.of(), null, List.of()); }
  }
  private String computeBackend = "cpu";
  private String aggregation = "collect";

  public TrainingSummary(List<EpochMetrics> epochs, double totalSeconds, String blas, long numExamples, int numPartitions,
                         int stepsPerEpoch, String rule, String optimizer) {
    this(epochs, totalSeconds, blas, numExamples, numPartitions, stepsPerEpoch, rule, optimizer, Recovery.none());
  }

  public TrainingSummary(List<EpochMetrics> epochs, double totalSeconds, String blas, long numExamples, int numPartitions,
                         int stepsPerEpoch, String rule, String optimizer, Recovery recovery) {
    this.recovery = recovery;
    this.epochs = Collections.unmodifiableList(epochs);
    this.totalSeconds = totalSeconds;
    this.blas = blas;
    this.numExamples = numExamples;
    this.numPartitions = numPartitions;
    this.stepsPerEpoch = stepsPerEpoch;
    this.rule = rule;
    this.optimizer = optimizer;
  }

  public List<EpochMetrics> epochs() { return epochs; }

  /** Per-epoch training loss, in order (for plotting). */
  public double[] lossHistory() { return epochs.stream().mapToDouble(EpochMetrics::loss).toArray(); }

  public double[] accuracyHistory() { return epochs.stream().mapToDouble(EpochMetrics::accuracy).toArray(); }

  public double totalSeconds() { return totalSeconds; }

  public String blas() { return blas; }

  public long numExamples() { return numExamples; }

  public int numPartitions() { return numPartitions; }

  public int stepsPerEpoch() { return stepsPerEpoch; }

  public String rule() { return rule; }

  public String optimizer() { return optimizer; }

  /** Task retries, lost partition state, resume and checkpoints of this fit. */
  public Recovery recovery() { return recovery; }
  /**
   * The compute backend(s) the tasks used, with the reason when {@code auto} fell back to the CPU,
   * e.g. {@code "cpu (auto: no GPU backend on the classpath ...)"} or {@code "cuda device 0 (...)"}.
   */
  public String computeBackend() { return computeBackend; }

  void setComputeBackend(String s) { this.computeBackend = s; }

  /** How steps were aggregated: {@code collect}, {@code tree} or {@code allReduce} (what {@code auto} picked). */
  public String aggregation() { return aggregation; }

  void setAggregation(String s) { this.aggregation = s; }

  @Override public String toString() {
    EpochMetrics last = epochs.isEmpty() ? null : epochs.get(epochs.size() - 1);
    return "TrainingSummary(" + epochs.size() + " epochs, " + String.format(java.util.Locale.ROOT, "%.1f s", totalSeconds)
        + (last == null ? "" : String.format(java.util.Locale.ROOT, ", final loss %.4f, accuracy %.4f", last.loss(), last.accuracy()))
        + (recovery.failedTaskAttempts() + recovery.partitionStateRebuilds() == 0 ? ""
            : ", recovered from " + recovery.failedTaskAttempts() + " failed task attempts and "
            + recovery.partitionStateRebuilds() + " lost partition states")
        + ", rule=" + rule + ", optimizer=" + optimizer + ", blas=" + blas + ", computeBackend=" + computeBackend + ")";
  }
}
