package io.github.sparksam.optim;

/** Argument checks shared by the optimizers and schedules; messages name the parameter and value. */
final class Checks {
  private Checks() {}

  /** {@code 0 <= value < 1} (momentum, Adam's betas). */
  static double inUnitInterval(String name, double value) {
    if (!(value >= 0.0 && value < 1.0)) {
      throw new IllegalArgumentException(name + " must be in [0, 1), got " + value);
    }
    return value;
  }

  /** {@code 0 < value < infinity}. */
  static double positive(String name, double value) {
    if (!(value > 0.0 && value < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException(name + " must be positive and finite, got " + value);
    }
    return value;
  }

  /** {@code 0 <= value < infinity}. */
  static double nonNegative(String name, double value) {
    if (!(value >= 0.0 && value < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException(name + " must be non-negative and finite, got " + value);
    }
    return value;
  }

  /** The vectors an update touches must all have the parameter vector's length. */
  static void sameLength(double[] params, double[] other, String otherName) {
    if (other.length != params.length) {
      throw new IllegalArgumentException(
          otherName + " has " + other.length + " entries but params has " + params.length);
    }
  }

  /** Steps are 0-based update indices. */
  static void stepIndex(long step) {
    if (step < 0) throw new IllegalArgumentException("step must be >= 0, got " + step);
  }
}
