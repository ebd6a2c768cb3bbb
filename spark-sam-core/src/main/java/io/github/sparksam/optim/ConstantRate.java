package io.github.sparksam.optim;

/** The same learning rate at every step: the baseline schedule. */
public final class ConstantRate implements LearningRateSchedule {
  private static final long serialVersionUID = 1L;

  private final double lr;

  /** @param lr the learning rate, non-negative and finite */
  public ConstantRate(double lr) {
    this.lr = Checks.nonNegative("lr", lr);
  }

  @Override
  public double rate(long step, long totalSteps) {
    Checks.stepIndex(step);
    return lr;
  }

  @Override
  public String toString() {
    return "ConstantRate(lr=" + lr + ")";
  }
}
