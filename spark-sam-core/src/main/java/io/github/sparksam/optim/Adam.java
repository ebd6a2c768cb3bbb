package io.github.sparksam.optim;

/**
 * Adam (Kingma and Ba 2015, "Adam: A method for stochastic optimization", ICLR), with bias
 * correction and {@code epsilon} added to {@code sqrt(v_hat)} as in PyTorch's {@code
 * torch.optim.Adam}:
 *
 * <pre>
 *   t = step + 1
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2
 *   w -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)
 * </pre>
 *
 * Weight decay is not part of this rule: coupled L2 is added to the gradient by the trainer, and
 * decoupled decay is {@link AdamW}, which reuses this class's update. State: slots {@value
 * #FIRST_MOMENT} and {@value #SECOND_MOMENT}; {@code state.step} is the bias-correction count.
 */
public final class Adam implements Optimizer {
  private static final long serialVersionUID = 1L;

  /** Name of the first-moment (mean) slot. */
  public static final String FIRST_MOMENT = "m";
  /** Name of the second-moment (uncentred variance) slot. */
  public static final String SECOND_MOMENT = "v";

  private final double beta1;
  private final double beta2;
  private final double epsilon;

  /** Adam with the usual defaults: beta1 0.9, beta2 0.999, epsilon 1e-8. */
  public Adam() {
    this(0.9, 0.999, 1e-8);
  }

  /**
   * @param beta1 decay of the first moment, in [0, 1)
   * @param beta2 decay of the second moment, in [0, 1)
   * @param epsilon added to {@code sqrt(v_hat)}, positive
   */
  public Adam(double beta1, double beta2, double epsilon) {
    this.beta1 = Checks.inUnitInterval("beta1", beta1);
    this.beta2 = Checks.inUnitInterval("beta2", beta2);
    this.epsilon = Checks.positive("epsilon", epsilon);
  }

  public double beta1() {
    return beta1;
  }

  public double beta2() {
    return beta2;
  }

  public double epsilon() {
    return epsilon;
  }

  @Override
  public OptimizerState init(int numParams) {
    return new OptimizerState(numParams, FIRST_MOMENT, SECOND_MOMENT);
  }

  @Override
  public void step(double[] params, double[] grad, double learningRate, OptimizerState state) {
    Checks.sameLength(params, grad, "grad");
    final double[] m = state.slot(FIRST_MOMENT);
    final double[] v = state.slot(SECOND_MOMENT);
    Checks.sameLength(params, m, "slot " + FIRST_MOMENT);
    Checks.sameLength(params, v, "slot " + SECOND_MOMENT);
    final long t = state.step + 1;
    final double bc1 = 1.0 - Math.pow(beta1, t);
    final double bc2 = 1.0 - Math.pow(beta2, t);
    final double b1 = beta1;
    final double b2 = beta2;
    final double eps = epsilon;
    for (int i = 0; i < params.length; i++) {
      final double g = grad[i];
      m[i] = b1 * m[i] + (1.0 - b1) * g;
      v[i] = b2 * v[i] + (1.0 - b2) * g * g;
      params[i] -= learningRate * (m[i] / bc1) / (Math.sqrt(v[i] / bc2) + eps);
    }
    state.step = t;
  }

  @Override
  public String toString() {
    return "Adam(beta1=" + beta1 + ", beta2=" + beta2 + ", epsilon=" + epsilon + ")";
  }
}
