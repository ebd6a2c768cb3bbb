package io.github.sparksam.optim;

/**
 * Stochastic gradient descent, optionally with heavy-ball momentum (Polyak 1964, "Some methods of
 * speeding up the convergence of iteration methods") or Nesterov momentum (Nesterov 1983, in the
 * form of Sutskever, Martens, Dahl and Hinton 2013, "On the importance of initialization and
 * momentum in deep learning").
 *
 * <p>Follows PyTorch's {@code torch.optim.SGD} with dampening 0, the convention of every SAM
 * reference implementation, so that hyper-parameters transfer unchanged:
 *
 * <ul>
 *   <li>plain ({@code momentum == 0}): {@code w -= lr * g}
 *   <li>heavy ball: {@code v = mu * v + g; w -= lr * v}
 *   <li>Nesterov: {@code v = mu * v + g; w -= lr * (g + mu * v)}
 * </ul>
 *
 * The buffer {@code v} starts at zero, so the first update equals {@code lr * g} (heavy ball) or
 * {@code lr * (1 + mu) * g} (Nesterov), as in PyTorch. State: slot {@value #MOMENTUM} when
 * {@code momentum > 0}; plain SGD keeps no slots.
 */
public final class Sgd implements Optimizer {
  private static final long serialVersionUID = 1L;

  /** Name of the momentum buffer slot. */
  public static final String MOMENTUM = "momentum";

  private final double momentum;
  private final boolean nesterov;

  /** Plain SGD, no momentum. */
  public Sgd() {
    this(0.0, false);
  }

  /**
   * @param momentum momentum coefficient {@code mu} in [0, 1); 0 means plain SGD
   * @param nesterov use Nesterov momentum; requires {@code momentum > 0}
   */
  public Sgd(double momentum, boolean nesterov) {
    this.momentum = Checks.inUnitInterval("momentum", momentum);
    if (nesterov && momentum == 0.0) {
      throw new IllegalArgumentException("momentum must be > 0 for Nesterov SGD, got " + momentum);
    }
    this.nesterov = nesterov;
  }

  public double momentum() {
    return momentum;
  }

  public boolean nesterov() {
    return nesterov;
  }

  @Override
  public OptimizerState init(int numParams) {
    return momentum > 0.0 ? new OptimizerState(numParams, MOMENTUM) : new OptimizerState(numParams);
  }

  @Override
  public void step(double[] params, double[] grad, double learningRate, OptimizerState state) {
    Checks.sameLength(params, grad, "grad");
    final int n = params.length;
    if (momentum == 0.0) {
      for (int i = 0; i < n; i++) params[i] -= learningRate * grad[i];
    } else {
      final double[] v = state.slot(MOMENTUM);
      Checks.sameLength(params, v, "slot " + MOMENTUM);
      final double mu = momentum;
      if (nesterov) {
        for (int i = 0; i < n; i++) {
          v[i] = mu * v[i] + grad[i];
          params[i] -= learningRate * (grad[i] + mu * v[i]);
        }
      } else {
        for (int i = 0; i < n; i++) {
          v[i] = mu * v[i] + grad[i];
          params[i] -= learningRate * v[i];
        }
      }
    }
    state.step++;
  }

  @Override
  public String toString() {
    return "Sgd(momentum=" + momentum + ", nesterov=" + nesterov + ", dampening=0.0)";
  }
}
