package io.github.sparksam.optim;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter 2019, "Decoupled weight decay
 * regularization", ICLR). Decay shrinks the weights directly instead of entering the gradient, so
 * it is not rescaled by Adam's per-coordinate step sizes.
 *
 * <p>PyTorch's {@code torch.optim.AdamW} order: first {@code w_i *= 1 - lr * weightDecay *
 * mask_i}, then the {@link Adam} update (delegated to, not duplicated). The decay sees the
 * scheduled learning rate. {@code decayMask} is per parameter: 1.0 decays the entry (a weight),
 * 0.0 leaves it alone (a bias, a normalisation scale); {@code null} decays everything. State is
 * Adam's (slots {@value Adam#FIRST_MOMENT}, {@value Adam#SECOND_MOMENT}).
 */
public final class AdamW implements Optimizer {
  private static final long serialVersionUID = 1L;

  private final Adam adam;
  private final double weightDecay;
  private final double[] decayMask;

  /**
   * @param beta1 decay of the first moment, in [0, 1)
   * @param beta2 decay of the second moment, in [0, 1)
   * @param epsilon added to {@code sqrt(v_hat)}, positive
   * @param weightDecay decoupled decay coefficient, non-negative
   * @param decayMask per-parameter factor in [0, 1] (copied), or {@code null} to decay every entry
   */
  public AdamW(double beta1, double beta2, double epsilon, double weightDecay, double[] decayMask) {
    this.adam = new Adam(beta1, beta2, epsilon);
    this.weightDecay = Checks.nonNegative("weightDecay", weightDecay);
    if (decayMask != null) {
      for (int i = 0; i < decayMask.length; i++) {
        if (!(decayMask[i] >= 0.0 && decayMask[i] <= 1.0)) {
          throw new IllegalArgumentException(
              "decayMask[" + i + "] must be in [0, 1], got " + decayMask[i]);
        }
      }
    }
    this.decayMask = decayMask == null ? null : decayMask.clone();
  }

  public double weightDecay() {
    return weightDecay;
  }

  /** A copy of the decay mask, or {@code null} when every entry is decayed. */
  public double[] decayMask() {
    return decayMask == null ? null : decayMask.clone();
  }

  /** The Adam rule applied after the decay. */
  public Adam adam() {
    return adam;
  }

  @Override
  public OptimizerState init(int numParams) {
    if (decayMask != null && decayMask.length != numParams) {
      throw new IllegalArgumentException(
          "decayMask has " + decayMask.length + " entries but numParams is " + numParams);
    }
    return adam.init(numParams);
  }

  @Override
  public void step(double[] params, double[] grad, double learningRate, OptimizerState state) {
    // Validate before the decay mutates params, so a bad call leaves them untouched.
    Checks.sameLength(params, grad, "grad");
    Checks.sameLength(params, state.slot(Adam.FIRST_MOMENT), "slot " + Adam.FIRST_MOMENT);
    Checks.sameLength(params, state.slot(Adam.SECOND_MOMENT), "slot " + Adam.SECOND_MOMENT);
    if (weightDecay > 0.0) {
      final double shrink = learningRate * weightDecay;
      if (decayMask == null) {
        for (int i = 0; i < params.length; i++) params[i] *= 1.0 - shrink;
      } else {
        Checks.sameLength(params, decayMask, "decayMask");
        for (int i = 0; i < params.length; i++) params[i] *= 1.0 - shrink * decayMask[i];
      }
    }
    adam.step(params, grad, learningRate, state);
  }

  @Override
  public String toString() {
    String mask;
    if (decayMask == null) {
      mask = "all";
    } else {
      int decayed = 0;
      for (double d : decayMask) if (d != 0.0) decayed++;
      mask = decayed + "/" + decayMask.length;
    }
    return "AdamW(beta1=" + adam.beta1() + ", beta2=" + adam.beta2() + ", epsilon="
        + adam.epsilon() + ", weightDecay=" + weightDecay + ", decayMask=" + mask + ")";
  }
}
