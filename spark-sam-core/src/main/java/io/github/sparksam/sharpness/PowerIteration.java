package io.github.sparksam.sharpness;

import java.util.SplittableRandom;

/**
 * The top Hessian eigenvalue by power iteration, as PyHessian does it (Yao et al. 2020): from a
 * normalised Gaussian vector, repeat {@code lambda = v^T H v}, {@code v = Hv / ||Hv||} until the
 * relative change of lambda is below {@code tol} (PyHessian's defaults: 100 iterations, 1e-3).
 * Converges to the eigenvalue of largest <em>magnitude</em> (negative near saddles; reported as
 * is), at a rate set by the ratio of the two largest magnitudes; prefer {@link Lanczos}. One pass
 * per iteration.
 *
 * <p>The stop rule bounds the change between iterations, not the error: with a small gap the
 * value can stop well below the eigenvalue (0.34% on a SAM-trained MLP at 1e-3), so the tolerance
 * is a parameter ({@code SharpnessConfig.powerTol}, {@code spark-sam sharpness --power-tol}) and the
 * result reports the last relative change.
 */
public final class PowerIteration {
  private PowerIteration() {}

  /**
   * @param tolerance          the stop rule's tol
   * @param lastRelativeChange {@code |lambda_k - lambda_{k-1}| / |lambda_{k-1}|} at the last iteration (NaN after one)
   */
  public record Result(double value, int iterations, long passes, boolean converged, double tolerance,
                       double lastRelativeChange) {}

  /** The stop rule, for reports. */
  public static final String STOP_RULE = "|lambda_k - lambda_(k-1)| / (|lambda_(k-1)| + 1e-12) < tol";

  /**
   * @param tol the stop rule's relative change, {@code >= 0} (0: run {@code maxIter} iterations
   *            unless {@code Hv = 0})
   */
  public static Result topEigenvalue(HessianOperator h, int maxIter, double tol, long seed) {
    if (!(tol >= 0) || Double.isInfinite(tol)) throw new IllegalArgumentException("power iteration tol must be finite and >= 0, got " + tol);
    double[] v = Vec.unit(Vec.gaussian(new SplittableRandom(seed), h.dim()));
    long p0 = h.passes();
    double lambda = Double.NaN;
    int it = 0;
    boolean converged = false;
    double change = Double.NaN;
    while (it < maxIter) {
      double[] hv = h.apply(new double[][] {v})[0];
      it++;
      double next = Vec.dot(v, hv);
      double nrm = Vec.norm(hv);
      if (!Double.isNaN(lambda)) change = Math.abs(next - lambda) / (Math.abs(lambda) + 1e-12);
      if (change < tol) {
        lambda = next;
        converged = true;
        break;
      }
      lambda = next;
      if (nrm == 0) {
        converged = true;
        break;
      }
      for (int i = 0; i < v.length; i++) v[i] = hv[i] / nrm;
    }
    return new Result(lambda, it, h.passes() - p0, converged, tol, change);
  }
}
