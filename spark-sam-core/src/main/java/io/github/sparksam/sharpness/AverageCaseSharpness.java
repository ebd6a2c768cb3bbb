package io.github.sparksam.sharpness;

import java.util.SplittableRandom;

/**
 * Average-case m-sharpness of one batch, {@code E_delta L_S(w + delta) - L_S(w)}, estimated as the
 * reference code of Andriushchenko et al. 2023 does: {@code draws} perturbations from
 * {@link Ball#sample} (Gaussian with per-coordinate std {@code rho c_j} for L2, uniform in the box
 * for L-infinity), each shared by all rows of the batch. With {@code antithetic} the draws come in
 * pairs {@code (delta, -delta)}, which cancels the first-order Monte-Carlo noise exactly (not in
 * the reference; spec 1.4). The draws of batch b come from a generator seeded by (seed, b), so the
 * result does not depend on where the batch is computed. Cost: {@code draws + 1} forward sweeps.
 */
public final class AverageCaseSharpness {
  private AverageCaseSharpness() {}

  /** One batch's result, with the standard error of the mean over draws (pairs when antithetic). */
  public record BatchResult(int batch, double initLoss, double meanLoss, double initError, double meanError,
                            double stdError, long sweeps) {
    public double sharpness() { return meanLoss - initLoss; }

    public double errorSharpness() { return meanError - initError; }
  }

  public static BatchResult run(SampleBatch.Objective f, int batch, double[] w, Ball ball, int draws, boolean antithetic,
                                long seed) {
    SampleBatch.Value v0 = f.value(w, false);
    SplittableRandom rnd = new SplittableRandom(RowSelection.mix(seed * 0x9E3779B97F4A7C15L + batch + 1));
    int dim = w.length;
    double[] point = new double[dim];
    int groups = antithetic ? Math.max(1, draws / 2) : draws;
    double[] vals = new double[groups];
    double errSum = 0;
    int evals = 0;
    for (int k = 0; k < groups; k++) {
      double[] d = ball.sample(rnd);
      double s = 0;
      for (int sign = 1; sign >= (antithetic ? -1 : 1); sign -= 2) {
        for (int j = 0; j < dim; j++) point[j] = w[j] + sign * d[j];
        SampleBatch.Value v = f.value(point, false);
        s += v.loss();
        errSum += v.error();
        evals++;
      }
      vals[k] = s / (antithetic ? 2 : 1);
    }
    double[] ms = groups > 1 ? Hutchinson.meanAndSe(vals) : new double[] {vals[0], Double.NaN};
    return new BatchResult(batch, v0.loss(), ms[0], v0.error(), errSum / evals, ms[1], f.sweeps());
  }
}
