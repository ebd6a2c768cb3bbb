package io.github.sparksam.sharpness;

import java.util.SplittableRandom;

/**
 * The perturbation set of adaptive and standard sharpness (Andriushchenko et al. 2023; adaptive
 * scaling from Kwon et al. 2021, ASAM): {@code {delta : ||delta / c||_p <= rho}} with
 * {@code c = |w|} elementwise (adaptive; every parameter, biases included, as the reference code)
 * or {@code c = 1} (standard), {@code p} in {2, infinity}. Coordinates with {@code w_j = 0} get
 * {@code c_j = 0}: they are never perturbed (the 0/0 := 0 convention; the reference's ellipsoid
 * projection would divide by zero there, spec section 0.5).
 */
public final class Ball {
  public enum Norm { L2, LINF }

  private final Norm norm;
  private final double rho;
  private final double[] c;

  public Ball(Norm norm, boolean adaptive, double rho, double[] w) {
    if (!(rho >= 0) || Double.isInfinite(rho)) throw new IllegalArgumentException("rho must be finite and >= 0, got " + rho);
    this.norm = norm;
    this.rho = rho;
    this.c = new double[w.length];
    for (int i = 0; i < w.length; i++) c[i] = adaptive ? Math.abs(w[i]) : 1.0;
  }

  public double[] scale() { return c; }

  public double rho() { return rho; }

  public Norm norm() { return norm; }

  /** {@code ||delta / c||_p} (coordinates with c = 0 must hold 0 and are skipped). */
  public double scaledNorm(double[] delta) {
    double s = 0;
    for (int i = 0; i < delta.length; i++) {
      if (c[i] == 0) continue;
      double v = delta[i] / c[i];
      if (norm == Norm.L2) s += v * v;
      else s = Math.max(s, Math.abs(v));
    }
    return norm == Norm.L2 ? Math.sqrt(s) : s;
  }

  /**
   * The reference's ascent step: {@code delta += alpha c (.) g / ||g||_2} (L2) or
   * {@code delta += alpha c (.) sign(g)} (L-infinity). For L2 this is not the exact steepest ascent
   * in the ellipsoid (that would be {@code c^2 g / ||c g||}); kept as the reference has it.
   */
  public void ascend(double[] delta, double[] g, double alpha) {
    if (norm == Norm.L2) {
      double gn = Vec.norm(g);
      double f = alpha / (gn + 1e-12);
      for (int i = 0; i < delta.length; i++) delta[i] += f * g[i] * c[i];
    } else {
      for (int i = 0; i < delta.length; i++) delta[i] += alpha * Math.signum(g[i]) * c[i];
    }
  }

  /** Euclidean projection onto the set (for the adaptive L2 ellipsoid by bisection on the Lagrange multiplier). */
  public void project(double[] delta) {
    if (norm == Norm.LINF) {
      for (int i = 0; i < delta.length; i++) delta[i] = Math.max(-rho * c[i], Math.min(rho * c[i], delta[i]));
      return;
    }
    for (int i = 0; i < delta.length; i++) if (c[i] == 0) delta[i] = 0;
    double n = scaledNorm(delta);
    if (n <= rho) return;
    boolean uniform = true;
    for (double ci : c) if (ci != c[0] && ci != 0) { uniform = false; break; }
    if (uniform) {
      Vec.scale(rho / n, delta);
      return;
    }
    // minimise ||x - delta||^2 s.t. sum x_j^2 / c_j^2 <= rho^2:  x_j = delta_j c_j^2 / (c_j^2 + mu), mu > 0
    double lo = 0, hi = 1;
    while (normAt(delta, hi) > rho) hi *= 2;
    for (int it = 0; it < 200 && (hi - lo) > 1e-15 * hi; it++) {
      double mid = 0.5 * (lo + hi);
      if (normAt(delta, mid) > rho) lo = mid;
      else hi = mid;
    }
    for (int i = 0; i < delta.length; i++) {
      double c2 = c[i] * c[i];
      delta[i] = c2 == 0 ? 0 : delta[i] * c2 / (c2 + hi);
    }
  }

  private double normAt(double[] delta, double mu) {
    double s = 0;
    for (int i = 0; i < delta.length; i++) {
      double c2 = c[i] * c[i];
      if (c2 == 0) continue;
      double x = delta[i] * c2 / (c2 + mu);
      s += x * x / c2;
    }
    return Math.sqrt(s);
  }

  /**
   * A random perturbation as the reference's average case draws it: {@code delta_j ~ N(0, rho^2 c_j^2)}
   * (L2) or {@code Uniform[-rho c_j, rho c_j]} (L-infinity), independent coordinates.
   */
  public double[] sample(SplittableRandom r) {
    double[] d = new double[c.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = norm == Norm.L2 ? rho * c[i] * Vec.gaussian(r) : rho * c[i] * (2 * r.nextDouble() - 1);
    }
    return d;
  }
}
