package io.github.sparksam.sharpness;

import java.util.SplittableRandom;

/**
 * The top Hessian eigenvalue by power iteration, as PyHessian does it (Yao et al. 2020): from a
 * normalised Gaussian vector, repeat {@code lambda = v^T H v}, {@code v = Hv / ||Hv||} until the
 * relative change of lambda is below {@code tol} (PyHessian's defaults: 100 iterations, 1e-3).
 * Converges to the eigenvalue of largest <em>magnitude</em> (negative near saddles; reported as
 * is), at a rate set by the ratio of the two largest magnitudes; prefer {@link Lanczos}. One pass
 * per iteration.
 */
public final class PowerIteration {
  private PowerIteration() {}

  public record Result(double value, int iterations, long passes, boolean converged) {}

  public static Result topEigenvalue(HessianOperator h, int maxIter, double tol, long seed) {
    double[] v = Vec.unit(Vec.gaussian(new SplittableRandom(seed), h.dim()));
    long p0 = h.passes();
    double lambda = Double.NaN;
    int it = 0;
    boolean converged = false;
    while (it < maxIter) {
      double[] hv = h.apply(new double[][] {v})[0];
      it++;
      double next = Vec.dot(v, hv);
      double nrm = Vec.norm(hv);
      if (!Double.isNaN(lambda) && Math.abs(next - lambda) / (Math.abs(lambda) + 1e-12) < tol) {
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
    return new Result(lambda, it, h.passes() - p0, converged);
  }
}
