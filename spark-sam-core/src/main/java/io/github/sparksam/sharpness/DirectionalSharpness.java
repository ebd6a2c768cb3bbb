package io.github.sparksam.sharpness;

/**
 * Directional sharpness (Pan and Li 2023, "Toward understanding why Adam converges faster than SGD
 * for transformers"): the curvature {@code u^T H u} of the loss along an update direction u, raw and
 * normalised by {@code ||u||^2}, with the slope {@code g^T u}, the quadratic model's optimal step
 * {@code eta* = -g^T u / u^T H u} (for a descent direction with positive curvature) and the loss
 * change that model predicts at {@code eta*}. One distributed pass (gradient and HVP in the same
 * sweep); when u is the negative gradient, one more pass to get it first.
 */
public final class DirectionalSharpness {
  private DirectionalSharpness() {}

  public record Result(double curvature, double normalizedCurvature, double slope, double optimalStep,
                       double predictedLossChange, double directionNorm, long passes) {}

  /** Along {@code u}. */
  public static Result along(DistributedObjective obj, double[] w, double[] u) {
    long p0 = obj.passes();
    DistributedObjective.Result r = obj.evaluate(w, true, new double[][] {u});
    return of(u, r.gradient(), r.hv()[0], obj.passes() - p0);
  }

  /** Along the (plain gradient descent) update direction {@code u = -grad L(w)}. */
  public static Result alongNegativeGradient(DistributedObjective obj, double[] w) {
    long p0 = obj.passes();
    double[] g = obj.evaluate(w, true, null).gradient();
    double[] u = g.clone();
    Vec.scale(-1, u);
    DistributedObjective.Result r = obj.evaluate(w, false, new double[][] {u});
    return of(u, g, r.hv()[0], obj.passes() - p0);
  }

  static Result of(double[] u, double[] g, double[] hu, long passes) {
    double c = Vec.dot(u, hu);
    double uu = Vec.dot(u, u);
    double slope = Vec.dot(g, u);
    double eta = c > 0 ? -slope / c : Double.NaN;
    double change = c > 0 ? slope * eta + 0.5 * eta * eta * c : Double.NaN;
    return new Result(c, uu > 0 ? c / uu : Double.NaN, slope, eta, change, Math.sqrt(uu), passes);
  }
}
