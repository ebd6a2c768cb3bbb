package io.github.sparksam.sharpness;

import io.github.sparksam.optim.LearningRateSchedule;
import java.util.Locale;

/**
 * The linear-stability threshold on the top Hessian eigenvalue for one step of a base optimizer
 * at learning rate {@code lr_t}: the edge-of-stability line (Cohen, Kaur, Li, Kolter and
 * Talwalkar 2021, "Gradient Descent on Neural Networks Typically Occurs at the Edge of
 * Stability", ICLR). On a quadratic with curvature lambda the iteration is stable iff lambda is
 * below it. For the update rules of {@link io.github.sparksam.optim.Sgd} (PyTorch's, dampening 0):
 *
 * <ul>
 *   <li>plain SGD {@code w -= lr g}: {@code 2 / lr};
 *   <li>heavy ball {@code v = beta v + g; w -= lr v}: the characteristic polynomial
 *       {@code z^2 - (1 + beta - lr lambda) z + beta} has a root at -1 when
 *       {@code lambda = (2 + 2 beta) / lr};
 *   <li>Nesterov {@code v = beta v + g; w -= lr (g + beta v)}: {@code z^2 - (1 + beta -
 *       lr lambda (1 + beta)) z + beta (1 - lr lambda)} has a root at -1 when
 *       {@code lambda = (2 + 2 beta) / ((1 + 2 beta) lr)}, lower than heavy ball's;
 *   <li>Adam/AdamW: {@code (2 + 2 beta1) / ((1 - beta1) lr)} (Cohen et al. 2022, "Adaptive Gradient
 *       Methods at the Edge of Stability"), a bound on the <em>preconditioned</em> sharpness
 *       {@code lambda_max(P^-1 H)}, not on {@code lambda_max(H)}: the two are not comparable, and
 *       {@link #comparableToHessian()} is false.
 * </ul>
 *
 * With a schedule the threshold moves every step: {@link #at} evaluates it at the step's rate.
 *
 * @param value               the threshold ({@code +Infinity} at {@code lr = 0})
 * @param learningRate        the step's rate lr_t
 * @param formula             how it was computed, e.g. {@code (2 + 2 beta) / lr_t, beta = 0.9}
 * @param comparableToHessian whether it bounds the Hessian's lambda_max (false for Adam)
 * @param label               a short legend for plots
 */
public record StabilityThreshold(double value, double learningRate, String formula, boolean comparableToHessian,
                                 String label) {

  /**
   * @param optimizer sgd | momentum | nesterov | adam | adamw (case-insensitive)
   * @param momentum  beta of momentum and nesterov (ignored otherwise)
   * @param beta1     Adam's beta1 (ignored otherwise)
   * @param lr        the step's learning rate, {@code >= 0}
   */
  public static StabilityThreshold of(String optimizer, double momentum, double beta1, double lr) {
    if (!(lr >= 0) || Double.isInfinite(lr)) throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
    String o = optimizer == null ? "" : optimizer.toLowerCase(Locale.ROOT);
    switch (o) {
      case "sgd":
        return new StabilityThreshold(2 / lr, lr, "2 / lr_t", true, "GD stability 2 / lr_t");
      case "momentum":
        checkBeta("momentum", momentum);
        return new StabilityThreshold((2 + 2 * momentum) / lr, lr, "(2 + 2 beta) / lr_t, beta = " + momentum, true,
            "heavy-ball stability (2 + 2 beta) / lr_t");
      case "nesterov":
        checkBeta("momentum", momentum);
        return new StabilityThreshold((2 + 2 * momentum) / ((1 + 2 * momentum) * lr), lr,
            "(2 + 2 beta) / ((1 + 2 beta) lr_t), beta = " + momentum, true,
            "Nesterov stability (2 + 2 beta) / ((1 + 2 beta) lr_t)");
      case "adam":
      case "adamw":
        checkBeta("beta1", beta1);
        return new StabilityThreshold((2 + 2 * beta1) / ((1 - beta1) * lr), lr,
            "(2 + 2 beta1) / ((1 - beta1) lr_t), beta1 = " + beta1 + "; a bound on the preconditioned sharpness "
                + "lambda_max(P^-1 H) (Cohen et al. 2022), not comparable with lambda_max(H)", false,
            "Adam threshold (2 + 2 beta1) / ((1 - beta1) lr_t): for the preconditioned sharpness, not this lambda_max");
      default:
        throw new IllegalArgumentException("no stability threshold for optimizer '" + optimizer
            + "'; valid: sgd, momentum, nesterov, adam, adamw");
    }
  }

  /** The threshold at global step {@code step} (0-based) of a run of {@code totalSteps} under {@code schedule}. */
  public static StabilityThreshold at(String optimizer, double momentum, double beta1, LearningRateSchedule schedule,
                                      long step, long totalSteps) {
    return of(optimizer, momentum, beta1, schedule.rate(step, totalSteps));
  }

  private static void checkBeta(String name, double b) {
    if (!(b >= 0 && b < 1)) throw new IllegalArgumentException(name + " must be in [0, 1), got " + b);
  }
}
