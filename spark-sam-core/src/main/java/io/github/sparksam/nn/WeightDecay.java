package io.github.sparksam.nn;

/**
 * Coupled L2 weight decay, {@code (lambda/2) * sum_i mask_i w_i^2}, added to the objective (so
 * SGD and Adam see it in the gradient). Biases are not decayed (mask from
 * {@link ParamLayout#weightMask()}). AdamW decouples decay instead and does not use this.
 */
public final class WeightDecay {
  private WeightDecay() {}

  /** Adds {@code lambda * mask * w} to {@code grad} and returns the penalty value. */
  public static double addTo(double[] params, double[] grad, double lambda, double[] mask) {
    if (lambda == 0) return 0;
    double pen = 0;
    for (int i = 0; i < params.length; i++) {
      if (mask[i] == 0) continue;
      double w = params[i];
      pen += w * w;
      grad[i] += lambda * w;
    }
    return 0.5 * lambda * pen;
  }
}
