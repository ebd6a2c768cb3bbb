package io.github.sparksam.train;

import io.github.sparksam.backend.LossStats;

/**
 * What an {@link UpdateRule} sees of one synchronous step (on the driver, or in every task of an
 * all-reduce stage): the current weights, the
 * step's position and learning rate, a way to run a distributed pass over the step's batch, and
 * the update that finishes the step.
 */
public final class StepContext {

  /**
   * The sum over all partitions of one pass: direction summed with example weights, and stats.
   * {@code directionSum} is valid until the step's next pass (an engine may reuse the array): copy
   * what you keep, e.g. with {@link #meanDirection}.
   */
  public record Pass(double[] directionSum, LossStats stats) {
    /** The weighted mean direction (a new array). */
    public double[] meanDirection() {
      return scale(directionSum.clone(), 1.0 / stats.weightSum);
    }

    /**
     * The weighted mean direction computed in {@code directionSum}'s own array, which it returns: no
     * copy and no allocation of a parameter-sized array per step. For a rule that uses the pass
     * only for its update; the same values as {@link #meanDirection}, bit for bit.
     */
    public double[] meanDirectionInPlace() {
      return scale(directionSum, 1.0 / stats.weightSum);
    }

    private static double[] scale(double[] m, double inv) {
      for (int i = 0; i < m.length; i++) m[i] *= inv;
      return m;
    }
  }

  private final StepEngine engine;
  private final int epoch;
  private final int step;
  private final long globalStep;
  private final double learningRate;
  private boolean updated;

  StepContext(StepEngine engine, int epoch, int step, long globalStep, double learningRate) {
    this.engine = engine;
    this.epoch = epoch;
    this.step = step;
    this.globalStep = globalStep;
    this.learningRate = learningRate;
  }

  /** The current weights (the driver's or the task's copy; updated in place by {@link #applyUpdate}). */
  public double[] params() { return engine.params(); }

  public int epoch() { return epoch; }

  public int step() { return step; }

  public long globalStep() { return globalStep; }

  public double learningRate() { return learningRate; }

  /**
   * One distributed pass: every task runs {@code rule} on its slice of this step's batch at
   * {@code at}; the sum over partitions (one Spark job, or one all-reduce inside the epoch's stage).
   */
  public Pass pass(LocalRule rule, double[] at) {
    return engine.pass(rule, at, epoch, step);
  }

  /**
   * Finishes the step: coupled L2, clipping and the base optimizer on {@code meanDirection}, with
   * {@code stats} recorded as this step's loss and accuracy. Stops training with a
   * {@link TrainingDivergedException} on a non-finite loss or gradient.
   */
  public void applyUpdate(double[] meanDirection, LossStats stats) {
    if (updated) throw new IllegalStateException("applyUpdate called twice in one step");
    updated = true;
    engine.applyUpdate(meanDirection, stats, this);
  }

  boolean updated() { return updated; }
}
