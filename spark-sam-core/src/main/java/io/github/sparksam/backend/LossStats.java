package io.github.sparksam.backend;

import java.io.Serializable;

/** Weighted sums of loss and accuracy over examples; merged across blocks, tasks and steps. */
public final class LossStats implements Serializable {
  private static final long serialVersionUID = 1L;

  public double lossSum;
  public double weightSum;
  public double correctWeight;
  public long count;

  public LossStats merge(LossStats o) {
    lossSum += o.lossSum;
    weightSum += o.weightSum;
    correctWeight += o.correctWeight;
    count += o.count;
    return this;
  }

  public void reset() {
    lossSum = 0;
    weightSum = 0;
    correctWeight = 0;
    count = 0;
  }

  /** Weighted mean loss, NaN when no weight was seen. */
  public double meanLoss() { return lossSum / weightSum; }

  /** Weighted accuracy, NaN when no weight was seen. */
  public double accuracy() { return correctWeight / weightSum; }

  @Override public String toString() {
    return String.format(java.util.Locale.ROOT, "LossStats(n=%d, loss=%.6f, acc=%.4f)", count, meanLoss(), accuracy());
  }
}
