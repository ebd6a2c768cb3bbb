package io.github.sparksam.optim;

/**
 * Linear learning-rate warm-up (Goyal et al. 2017, "Accurate, large minibatch SGD: Training
 * ImageNet in 1 hour") in front of another schedule, which avoids the early instability of large
 * rates and large batches:
 *
 * <pre>
 *   rate(t) = after.rate(t) * (t + 1) / warmupSteps   for t &lt; warmupSteps
 *   rate(t) = after.rate(t)                           otherwise
 * </pre>
 *
 * The wrapped schedule is evaluated at the same step index (it is not shifted by the warm-up), so
 * the first update uses {@code 1 / warmupSteps} of the wrapped rate and update {@code warmupSteps -
 * 1} the full rate.
 */
public final class LinearWarmup implements LearningRateSchedule {
  private static final long serialVersionUID = 1L;

  private final long warmupSteps;
  private final LearningRateSchedule after;

  /**
   * @param warmupSteps length of the ramp in steps, at least 1
   * @param after the schedule being ramped up to, not null
   */
  public LinearWarmup(long warmupSteps, LearningRateSchedule after) {
    if (warmupSteps < 1) {
      throw new IllegalArgumentException("warmupSteps must be >= 1, got " + warmupSteps);
    }
    if (after == null) throw new IllegalArgumentException("after must not be null");
    this.warmupSteps = warmupSteps;
    this.after = after;
  }

  public LearningRateSchedule after() {
    return after;
  }

  @Override
  public double rate(long step, long totalSteps) {
    double r = after.rate(step, totalSteps);
    return step < warmupSteps ? r * (step + 1) / warmupSteps : r;
  }

  @Override
  public String toString() {
    return "LinearWarmup(warmupSteps=" + warmupSteps + ", after=" + after + ")";
  }
}
