package io.github.sparksam.train;

import io.github.sparksam.backend.LossStats;

/**
 * Where a synchronous step's passes run and its update is applied: on the driver, one Spark job per
 * pass ({@link DriverSteps}, {@code aggregation = collect} or {@code tree}), or inside every task of
 * an epoch-long barrier stage, one all-reduce per pass ({@link AllReduceEpoch}). Rules see only
 * {@link StepContext}, so they run unchanged on either.
 */
interface StepEngine {
  /** The current weights (updated in place by {@link #applyUpdate}). */
  double[] params();

  StepContext.Pass pass(LocalRule rule, double[] at, int epoch, int step);

  void applyUpdate(double[] meanDirection, LossStats stats, StepContext ctx);
}
