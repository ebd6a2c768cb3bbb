package io.github.sparksam.optim;

/**
 * Piecewise-constant decay: {@code lr * gamma^floor(step / stepSize)}, as PyTorch's {@code
 * StepLR} (the classic "divide by 10 every 30 epochs" schedule of He et al. 2016), but counted in
 * optimizer steps rather than epochs.
 */
public final class StepDecay implements LearningRateSchedule {
  private static final long serialVersionUID = 1L;

  private final double lr;
  private final long stepSize;
  private final double gamma;

  /**
   * @param lr the initial learning rate, non-negative and finite
   * @param stepSize number of steps between decays, at least 1
   * @param gamma multiplicative factor per decay, in (0, 1]
   */
  public StepDecay(double lr, long stepSize, double gamma) {
    this.lr = Checks.nonNegative("lr", lr);
    if (stepSize < 1) throw new IllegalArgumentException("stepSize must be >= 1, got " + stepSize);
    this.stepSize = stepSize;
    if (!(gamma > 0.0 && gamma <= 1.0)) {
      throw new IllegalArgumentException("gamma must be in (0, 1], got " + gamma);
    }
    this.gamma = gamma;
  }

  @Override
  public double rate(long step, long totalSteps) {
    Checks.stepIndex(step);
    return lr * Math.pow(gamma, step / stepSize);
  }

  @Override
  public String toString() {
    return "StepDecay(lr=" + lr + ", stepSize=" + stepSize + ", gamma=" + gamma + ")";
  }
}
