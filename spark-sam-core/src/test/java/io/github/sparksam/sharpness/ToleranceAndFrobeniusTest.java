package io.github.sparksam.sharpness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Power iteration's tolerance and Hutchinson's Frobenius estimate against exact small Hessians
 * (issue #16): a small eigen-gap makes the 1e-3 stop rule stop short, a tight one reaches the
 * exact value; {@code ||H||_F^2 = E ||Hv||^2} for Rademacher v, and scaled probes report no
 * Frobenius norm.
 */
class ToleranceAndFrobeniusTest {

  /** Q diag(ev) Q^T with Q a seeded random orthogonal matrix (Gram-Schmidt of a Gaussian matrix). */
  static double[][] withSpectrum(long seed, double... ev) {
    int n = ev.length;
    SplittableRandom r = new SplittableRandom(seed);
    double[][] q = new double[n][];
    for (int j = 0; j < n; j++) {
      double[] v = Vec.gaussian(r, n);
      for (int k = 0; k < j; k++) Vec.axpy(-Vec.dot(q[k], v), q[k], v);
      for (int k = 0; k < j; k++) Vec.axpy(-Vec.dot(q[k], v), q[k], v);
      q[j] = Vec.unit(v);
    }
    double[][] h = new double[n][n];
    for (int a = 0; a < n; a++) {
      for (int b = 0; b < n; b++) {
        double s = 0;
        for (int k = 0; k < n; k++) s += q[k][a] * ev[k] * q[k][b];
        h[a][b] = s;
      }
    }
    return h;
  }

  @Test
  void aTighterPowerToleranceReachesTheExactEigenvalue() {
    double[][] h = withSpectrum(7, 1.0, 0.97, 0.94, 0.9, 0.85, 0.8);
    double top = Oracles.eigenvalues(h)[h.length - 1];
    assertEquals(1.0, top, 1e-12);
    PowerIteration.Result loose = PowerIteration.topEigenvalue(Oracles.matrix(h), 5000, 1e-3, 1);
    PowerIteration.Result tight = PowerIteration.topEigenvalue(Oracles.matrix(h), 5000, 1e-13, 1);
    assertTrue(loose.converged() && tight.converged());
    assertEquals(1e-3, loose.tolerance(), 0.0);
    assertTrue(loose.lastRelativeChange() < 1e-3);
    // with a cluster of eigenvalues near the top the 1e-3 rule stops while the value is still visibly low
    assertTrue(Oracles.relErr(loose.value(), top) > 1e-3, "loose " + loose.value());
    assertTrue(Oracles.relErr(tight.value(), top) < 1e-8, "tight " + tight.value());
    assertTrue(tight.iterations() > loose.iterations());
    assertThrows(IllegalArgumentException.class, () -> PowerIteration.topEigenvalue(Oracles.matrix(h), 10, -1, 1));
    // Lanczos reports its tolerance and needs far fewer products for the same accuracy
    Lanczos.TopEigen lz = Lanczos.topEigenvalue(Oracles.matrix(h), 50, 1e-10, 1);
    assertEquals(1e-10, lz.tolerance(), 0.0);
    assertTrue(Oracles.relErr(lz.value(), top) < 1e-10);
    assertTrue(lz.iterations() <= h.length);
  }

  @Test
  void frobeniusIsTheMeanOfHvSquaredAndScaledProbesReportNone() {
    double[][] h = withSpectrum(3, 2.0, -1.0, 0.7, 0.3, 0.0, 0.1);
    double fro2 = 0, diagTr = 0;
    for (double[] row : h) for (double x : row) fro2 += x * x;
    HessianOperator op = Oracles.matrix(h);
    Hutchinson.Result r = Hutchinson.estimate(op, 4000, 50, 5);
    assertTrue(Math.abs(r.frobeniusSquared() - fro2) < 4 * r.frobeniusSquaredStdError(),
        r.frobeniusSquared() + " +- " + r.frobeniusSquaredStdError() + " vs " + fro2);
    assertEquals(Math.sqrt(r.frobeniusSquared()), r.frobenius(), 1e-15);
    assertTrue(Oracles.relErr(r.frobenius(), Math.sqrt(fro2)) < 0.05, r.frobenius() + " vs " + Math.sqrt(fro2));
    // a single probe's ||Hv||^2 is exact for diagonal H: every Rademacher v gives sum_i H_ii^2
    Hutchinson.Result d = Hutchinson.estimate(Oracles.matrix(new double[][] {{3, 0}, {0, -2}}), 10, 3, 1);
    assertEquals(13.0, d.frobeniusSquared(), 1e-12);
    assertEquals(0.0, d.frobeniusSquaredStdError(), 1e-12);

    double[] c = {1, 2, 0.5, 1, 3, 0.1};
    for (int i = 0; i < c.length; i++) diagTr += c[i] * c[i] * h[i][i];
    Hutchinson.Result s = Hutchinson.estimate(op, 4000, 50, 5, c);
    assertTrue(Math.abs(s.trace() - diagTr) < 4 * s.traceStdError(), s.trace() + " +- " + s.traceStdError() + " vs " + diagTr);
    assertTrue(Double.isNaN(s.frobenius()) && Double.isNaN(s.frobeniusSquared()), "scaled probes do not estimate ||H||_F");
    assertThrows(IllegalArgumentException.class, () -> Hutchinson.estimate(op, 4, 2, 1, new double[] {1}));
  }
}
