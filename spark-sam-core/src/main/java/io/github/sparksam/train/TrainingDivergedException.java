package io.github.sparksam.train;

/** Training produced a non-finite loss, gradient or weights; says where and the likely cause. */
public final class TrainingDivergedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public final int epoch;
  public final long globalStep;

  public TrainingDivergedException(int epoch, int step, long globalStep, String what, String hint) {
    super("training diverged at epoch " + (epoch + 1) + ", step " + (step + 1) + " (global step " + (globalStep + 1)
        + "): " + what + "; " + hint);
    this.epoch = epoch;
    this.globalStep = globalStep;
  }

  /** The usual cause of a divergence at learning rate {@code lr}, for {@code hint}. */
  static String learningRateHint(double lr) {
    return "likely cause: the learning rate (" + lr + ") is too large for this model and data (or a rule's "
        + "radius such as rho); lower it, or set maxGradNorm to clip gradients";
  }
}
