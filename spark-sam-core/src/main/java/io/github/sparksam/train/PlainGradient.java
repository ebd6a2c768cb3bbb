package io.github.sparksam.train;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.LossStats;

/** The gradient of the loss at the broadcast weights: the task side of ordinary training. */
public final class PlainGradient implements LocalRule {
  private static final long serialVersionUID = 1L;

  public static final PlainGradient INSTANCE = new PlainGradient();

  private PlainGradient() {}

  @Override public void direction(PartitionWorker worker, Buf params, LocalBatch batch, Buf grad, LossStats stats) {
    worker.gradient(params, batch, grad, stats);
  }

  private Object readResolve() { return INSTANCE; }

  @Override public String toString() { return "PlainGradient"; }
}
