package io.github.sparksam.sharpness;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * One sharpness definition of Andriushchenko et al. 2023 at one radius: worst- or average-case,
 * L2 or L-infinity ball, adaptive ({@code c = |w|}) or standard ({@code c = 1}). Written
 * {@code kind:norm:scaling:rho}, e.g. {@code worst:linf:adaptive:0.002}; its {@link #metricName}
 * (e.g. {@code worstCaseAdaptiveLinf}) is what {@code SharpnessEvaluator} selects.
 */
public record SharpnessSpec(boolean worstCase, Ball.Norm norm, boolean adaptive, double rho) implements Serializable {

  public SharpnessSpec {
    if (!(rho >= 0) || Double.isInfinite(rho)) throw new IllegalArgumentException("rho must be finite and >= 0, got " + rho);
  }

  public String metricName() {
    return (worstCase ? "worstCase" : "averageCase") + (adaptive ? "Adaptive" : "Standard") + (norm == Ball.Norm.L2 ? "L2" : "Linf");
  }

  @Override public String toString() {
    return (worstCase ? "worst" : "average") + ":" + (norm == Ball.Norm.L2 ? "l2" : "linf") + ":"
        + (adaptive ? "adaptive" : "standard") + ":" + rho;
  }

  /** Parses {@code kind:norm:scaling:rho} (kind worst|average, norm l2|linf, scaling adaptive|standard). */
  public static SharpnessSpec parse(String s) {
    String[] p = s.trim().toLowerCase(Locale.ROOT).split(":");
    if (p.length != 4) throw bad(s);
    boolean worst = switch (p[0]) { case "worst" -> true; case "average", "avg" -> false; default -> throw bad(s); };
    Ball.Norm norm = switch (p[1]) { case "l2" -> Ball.Norm.L2; case "linf" -> Ball.Norm.LINF; default -> throw bad(s); };
    boolean adaptive = switch (p[2]) { case "adaptive" -> true; case "standard" -> false; default -> throw bad(s); };
    double rho;
    try {
      rho = Double.parseDouble(p[3]);
    } catch (NumberFormatException e) {
      throw bad(s);
    }
    return new SharpnessSpec(worst, norm, adaptive, rho);
  }

  private static IllegalArgumentException bad(String s) {
    return new IllegalArgumentException("sharpness definition must be kind:norm:scaling:rho with kind worst|average, "
        + "norm l2|linf, scaling adaptive|standard, e.g. worst:linf:adaptive:0.002; got '" + s + "'");
  }

  /**
   * The default rho of each metric: from the doubling grids of the reference's CIFAR-10 scripts
   * (spec 1.5, ResNet column, second value). rho must be calibrated per model family; these are a
   * starting point, not a recommendation.
   */
  public static double defaultRho(String metricName) {
    return switch (metricName) {
      case "worstCaseAdaptiveL2", "worstCaseStandardL2" -> 0.5;
      case "worstCaseAdaptiveLinf" -> 0.002;
      case "worstCaseStandardLinf" -> 0.001;
      case "averageCaseAdaptiveL2", "averageCaseStandardL2" -> 0.1;
      case "averageCaseAdaptiveLinf", "averageCaseStandardLinf" -> 0.2;
      default -> throw new IllegalArgumentException("not a sharpness metric: " + metricName);
    };
  }

  /** The eight definitions at their default radii. */
  public static List<SharpnessSpec> defaults() {
    return List.of(
        ofMetric("worstCaseAdaptiveL2"), ofMetric("worstCaseAdaptiveLinf"),
        ofMetric("worstCaseStandardL2"), ofMetric("worstCaseStandardLinf"),
        ofMetric("averageCaseAdaptiveL2"), ofMetric("averageCaseAdaptiveLinf"),
        ofMetric("averageCaseStandardL2"), ofMetric("averageCaseStandardLinf"));
  }

  /** The definition a metric name names, at rho (or its default when rho is NaN). */
  public static SharpnessSpec ofMetric(String metricName, double rho) {
    String m = metricName;
    boolean worst;
    if (m.startsWith("worstCase")) { worst = true; m = m.substring(9); }
    else if (m.startsWith("averageCase")) { worst = false; m = m.substring(11); }
    else throw new IllegalArgumentException("not a sharpness metric: " + metricName);
    boolean adaptive;
    if (m.startsWith("Adaptive")) { adaptive = true; m = m.substring(8); }
    else if (m.startsWith("Standard")) { adaptive = false; m = m.substring(8); }
    else throw new IllegalArgumentException("not a sharpness metric: " + metricName);
    Ball.Norm norm = switch (m) { case "L2" -> Ball.Norm.L2; case "Linf" -> Ball.Norm.LINF;
      default -> throw new IllegalArgumentException("not a sharpness metric: " + metricName); };
    return new SharpnessSpec(worst, norm, adaptive, Double.isNaN(rho) ? defaultRho(metricName) : rho);
  }

  public static SharpnessSpec ofMetric(String metricName) { return ofMetric(metricName, Double.NaN); }
}
