package io.github.sparksam.optim;

/**
 * Cosine annealing without restarts (Loshchilov and Hutter 2017, "SGDR: Stochastic gradient
 * descent with warm restarts", ICLR), the schedule of most SAM/SAF/MESA experiments:
 *
 * <pre>
 *   rate(t) = minLr + (lr - minLr) * (1 + cos(pi * t / totalSteps)) / 2
 * </pre>
 *
 * so {@code rate(0) = lr}, the midpoint {@code totalSteps / 2} gives {@code (lr + minLr) / 2}, and
 * {@code rate(totalSteps) = minLr}; steps beyond {@code totalSteps} stay at {@code minLr}. As in
 * PyTorch's {@code CosineAnnealingLR} with {@code T_max = totalSteps}, the last update (index
 * {@code totalSteps - 1}) is slightly above {@code minLr}, so no update is wasted at rate 0.
 */
public final class CosineDecay implements LearningRateSchedule {
  private static final long serialVersionUID = 1L;

  private final double lr;
  private final double minLr;

  /**
   * @param lr the initial learning rate, non-negative and finite
   * @param minLr the final learning rate, in [0, lr]
   */
  public CosineDecay(double lr, double minLr) {
    this.lr = Checks.nonNegative("lr", lr);
    Checks.nonNegative("minLr", minLr);
    if (minLr > lr) {
      throw new IllegalArgumentException("minLr must be <= lr (" + lr + "), got " + minLr);
    }
    this.minLr = minLr;
  }

  /** @throws IllegalArgumentException if {@code totalSteps < 1}: the cosine needs a horizon */
  @Override
  public double rate(long step, long totalSteps) {
    Checks.stepIndex(step);
    if (totalSteps < 1) {
      throw new IllegalArgumentException("totalSteps must be >= 1 for a cosine schedule, got " + totalSteps);
    }
    if (step >= totalSteps) return minLr;
    return minLr + (lr - minLr) * 0.5 * (1.0 + Math.cos(Math.PI * step / totalSteps));
  }

  @Override
  public String toString() {
    return "CosineDecay(lr=" + lr + ", minLr=" + minLr + ")";
  }
}
