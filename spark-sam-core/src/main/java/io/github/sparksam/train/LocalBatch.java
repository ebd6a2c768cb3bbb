package io.github.sparksam.train;

/**
 * One partition's rows of one step, as a range of the epoch plan's order: rows
 * {@code plan.order[start .. end)}. Empty when the partition holds none of the step's examples.
 */
public final class LocalBatch {
  final EpochPlan plan;
  public final int start;
  public final int end;

  LocalBatch(EpochPlan plan, int start, int end) {
    this.plan = plan;
    this.start = start;
    this.end = end;
  }

  public int size() { return end - start; }

  public boolean isEmpty() { return end == start; }

  /** The epoch (0-based) this batch belongs to. */
  public int epoch() { return plan.epoch; }

  /** Examples {@code [from, to)} of this batch (a micro-batch). */
  public LocalBatch slice(int from, int to) {
    if (from < 0 || to > size() || from > to) {
      throw new IndexOutOfBoundsException("slice [" + from + ", " + to + ") of a batch of " + size());
    }
    return new LocalBatch(plan, start + from, start + to);
  }

  /** Partition-local row index of the batch's {@code i}-th example. */
  public int row(int i) { return plan.order[start + i]; }
}
