package io.github.sparksam.sharpness;

import java.util.SplittableRandom;

/**
 * Hutchinson's trace estimator (Hutchinson 1989; PyHessian's {@code trace}): {@code tr(H) = E[v^T H v]}
 * for Rademacher probes v, averaged over {@code probes} probes, {@code perPass} of them per data
 * pass. The standard error is the sample standard deviation of {@code v^T H v} over the probes
 * divided by {@code sqrt(probes)} (its exact variance is {@code 2 (||H||_F^2 - sum_i H_ii^2)}).
 * The same products give {@code ||H||_F^2 = tr(H^2) = E ||Hv||^2} (spec 2.4). With a scale vector c
 * the probes are {@code c (.) v}, estimating {@code tr(diag(c)^2 H)}, the adaptive trace that
 * average-case adaptive sharpness approaches as {@code (rho^2/2) tr(diag(c)^2 H)} for small rho
 * (spec section 1.1); their {@code ||H (c (.) v)||^2} would estimate {@code ||H diag(c)||_F^2}, not
 * {@code ||H||_F^2}, so no Frobenius norm is reported for scaled probes (NaN).
 */
public final class Hutchinson {
  private Hutchinson() {}

  /**
   * Trace and Frobenius-norm estimates with their standard errors: {@code frobeniusSquared} is the
   * mean of {@code ||Hv||^2} (unbiased for {@code ||H||_F^2}), {@code frobenius} its square root;
   * both NaN for scaled probes.
   */
  public record Result(double trace, double traceStdError, double frobenius, double frobeniusSquared,
                       double frobeniusSquaredStdError, int probes, long passes, double[] samples) {}

  /** Trace and Frobenius norm of H from {@code probes} Rademacher probes. */
  public static Result estimate(HessianOperator h, int probes, int perPass, long seed) {
    return estimate(h, probes, perPass, seed, null);
  }

  /** With {@code scale} c (null: none), the trace of {@code diag(c)^2 H}; no Frobenius norm then (see above). */
  public static Result estimate(HessianOperator h, int probes, int perPass, long seed, double[] scale) {
    if (probes < 2) throw new IllegalArgumentException("Hutchinson needs >= 2 probes, got " + probes);
    if (scale != null && scale.length != h.dim()) {
      throw new IllegalArgumentException("scale has " + scale.length + " entries, the Hessian " + h.dim());
    }
    int b = Math.max(1, perPass);
    SplittableRandom rnd = new SplittableRandom(seed);
    double[] q = new double[probes];
    double[] f = new double[probes];
    long p0 = h.passes();
    for (int done = 0; done < probes; ) {
      int k = Math.min(b, probes - done);
      double[][] vs = new double[k][];
      for (int j = 0; j < k; j++) {
        vs[j] = Vec.rademacher(rnd, h.dim());
        if (scale != null) for (int i = 0; i < scale.length; i++) vs[j][i] *= scale[i];
      }
      double[][] hv = h.apply(vs);
      for (int j = 0; j < k; j++) {
        q[done + j] = Vec.dot(vs[j], hv[j]);
        f[done + j] = Vec.dot(hv[j], hv[j]);
      }
      done += k;
    }
    double[] mq = meanAndSe(q), mf = scale == null ? meanAndSe(f) : new double[] {Double.NaN, Double.NaN};
    return new Result(mq[0], mq[1], Math.sqrt(Math.max(0, mf[0])), mf[0], mf[1], probes, h.passes() - p0, q);
  }

  /**
   * The exact trace {@code sum_i e_i^T H e_i} from {@code dim} products with unit vectors,
   * {@code perPass} per pass: {@code ceil(dim / perPass)} passes, so only for small models (an
   * oracle and a check of the estimator).
   */
  public static double exactTrace(HessianOperator h, int perPass) {
    int p = h.dim();
    double t = 0;
    for (int from = 0; from < p; from += perPass) {
      int k = Math.min(perPass, p - from);
      double[][] e = new double[k][p];
      for (int j = 0; j < k; j++) e[j][from + j] = 1;
      double[][] he = h.apply(e);
      for (int j = 0; j < k; j++) t += he[j][from + j];
    }
    return t;
  }

  static double[] meanAndSe(double[] x) {
    double m = 0;
    for (double v : x) m += v;
    m /= x.length;
    double ss = 0;
    for (double v : x) ss += (v - m) * (v - m);
    double sd = Math.sqrt(ss / (x.length - 1));
    return new double[] {m, sd / Math.sqrt(x.length)};
  }
}
