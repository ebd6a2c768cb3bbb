package io.github.sparksam.optim;

import java.util.Locale;

/**
 * Builds optimizers and learning-rate schedules from the flat, string-named parameters that Spark
 * ML {@code Param}s and command lines carry. Names are case-insensitive.
 */
public final class Optimizers {
  private Optimizers() {}

  /** Optimizer names accepted by {@link #create}. */
  public static final String[] NAMES = {"sgd", "momentum", "nesterov", "adam", "adamw"};

  /** Schedule names accepted by {@link #schedule}. */
  public static final String[] SCHEDULE_NAMES = {"constant", "step", "cosine"};

  /**
   * Creates an optimizer by name.
   *
   * <ul>
   *   <li>{@code sgd}: plain SGD when {@code momentum == 0}, heavy-ball {@link Sgd} when {@code
   *       momentum > 0}
   *   <li>{@code momentum}: heavy-ball {@link Sgd}; requires {@code momentum > 0}
   *   <li>{@code nesterov}: Nesterov {@link Sgd}; requires {@code momentum > 0}
   *   <li>{@code adam}: {@link Adam}
   *   <li>{@code adamw}: {@link AdamW} with {@code weightDecay} and {@code decayMask}
   * </ul>
   *
   * Parameters a rule does not use are ignored, except that {@code weightDecay} must be
   * non-negative for every name (for the others the trainer uses it as coupled L2).
   *
   * @throws IllegalArgumentException for an unknown name (the message lists the valid ones) or an
   *     invalid hyper-parameter (the message names it)
   */
  public static Optimizer create(
      String name,
      double momentum,
      double beta1,
      double beta2,
      double epsilon,
      double weightDecay,
      double[] decayMask) {
    Checks.nonNegative("weightDecay", weightDecay);
    switch (normalise(name, NAMES, "optimizer")) {
      case "sgd":
        return new Sgd(momentum, false);
      case "momentum":
        requirePositiveMomentum(momentum, "momentum");
        return new Sgd(momentum, false);
      case "nesterov":
        requirePositiveMomentum(momentum, "nesterov");
        return new Sgd(momentum, true);
      case "adam":
        return new Adam(beta1, beta2, epsilon);
      case "adamw":
        return new AdamW(beta1, beta2, epsilon, weightDecay, decayMask);
      default:
        throw new AssertionError(name);
    }
  }

  /**
   * Creates a learning-rate schedule by name: {@code constant} ({@link ConstantRate}), {@code step}
   * ({@link StepDecay} with {@code stepSizeSteps} and {@code gamma}) or {@code cosine} ({@link
   * CosineDecay} down to {@code minLr}); wrapped in a {@link LinearWarmup} when {@code warmupSteps
   * > 0}. Parameters a schedule does not use are ignored.
   *
   * @throws IllegalArgumentException for an unknown name, a negative {@code warmupSteps} or an
   *     invalid hyper-parameter
   */
  public static LearningRateSchedule schedule(
      String name, double lr, long stepSizeSteps, double gamma, double minLr, long warmupSteps) {
    if (warmupSteps < 0) {
      throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
    }
    LearningRateSchedule base;
    switch (normalise(name, SCHEDULE_NAMES, "schedule")) {
      case "constant":
        base = new ConstantRate(lr);
        break;
      case "step":
        base = new StepDecay(lr, stepSizeSteps, gamma);
        break;
      case "cosine":
        base = new CosineDecay(lr, minLr);
        break;
      default:
        throw new AssertionError(name);
    }
    return warmupSteps > 0 ? new LinearWarmup(warmupSteps, base) : base;
  }

  private static String normalise(String name, String[] valid, String what) {
    String key = name == null ? null : name.trim().toLowerCase(Locale.ROOT);
    for (String v : valid) if (v.equals(key)) return v;
    throw new IllegalArgumentException(
        "unknown " + what + " '" + name + "'; valid names: " + String.join(", ", valid));
  }

  private static void requirePositiveMomentum(double momentum, String name) {
    if (!(momentum > 0.0 && momentum < 1.0)) {
      throw new IllegalArgumentException(
          "momentum must be in (0, 1) for optimizer '" + name + "', got " + momentum);
    }
  }
}
