package io.github.sparksam.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Kendall tau against the spec's hand-made cases (section 6.1) and a brute-force O(K^2) tau-b. */
class KendallTauTest {

  @Test
  void identicalAndReversedRankings() {
    double[] x = {1, 2, 3, 4, 5};
    assertEquals(1.0, KendallTau.tauB(x, new double[] {10, 20, 30, 40, 50}), 1e-12);
    assertEquals(-1.0, KendallTau.tauB(x, new double[] {5, 4, 3, 2, 1}), 1e-12);
    assertEquals(1.0, KendallTau.tauA(x, x), 1e-12);
    assertEquals(-1.0, KendallTau.tauA(x, new double[] {5, 4, 3, 2, 1}), 1e-12);
  }

  @Test
  void oneSwapGivesPointEight() {
    double[] x = {1, 2, 3, 4, 5};
    double[] y = {1, 3, 2, 4, 5};
    assertEquals(0.8, KendallTau.tauB(x, y), 1e-12);
    assertEquals(0.8, KendallTau.tauA(x, y), 1e-12);
  }

  @Test
  void tiesSpecCase() {
    // spec 6.1: x = (1,2,2,3), y = (1,2,3,4): tau-a 0.833333, tau-b 0.912871 (scipy's default)
    double[] x = {1, 2, 2, 3};
    double[] y = {1, 2, 3, 4};
    assertEquals(0.833333, KendallTau.tauA(x, y), 1e-6);
    assertEquals(0.912871, KendallTau.tauB(x, y), 1e-6);
    // tau-b is symmetric in its arguments
    assertEquals(0.912871, KendallTau.tauB(y, x), 1e-6);
  }

  @Test
  void tieCorrectedTestByHand() {
    // S = 5 (5 concordant pairs, 1 tied in x); Var(S) = (4*3*13 - 2*1*9)/18 = 138/18; z = 5/sqrt(7.6667) = 1.80579
    KendallTau.Test t = KendallTau.test(new double[] {1, 2, 2, 3}, new double[] {1, 2, 3, 4});
    assertEquals(5.0, t.s(), 0);
    assertEquals(138.0 / 18.0, t.varianceS(), 1e-12);
    assertEquals(5 / Math.sqrt(138.0 / 18.0), t.z(), 1e-12);
    assertEquals(0.070954, t.pValue(), 1e-5);
  }

  @Test
  void varianceWithoutTiesMatchesClosedForm() {
    // Var(tau) = 2(2K+5) / (9K(K-1)) (spec 1.6); K = 10 gives sd 0.248
    int k = 10;
    double[] x = new double[k];
    double[] y = new double[k];
    for (int i = 0; i < k; i++) {
      x[i] = i;
      y[i] = (i * 7) % k;
    }
    KendallTau.Test t = KendallTau.test(x, y);
    double pairs = k * (k - 1) / 2.0;
    double varTau = t.varianceS() / (pairs * pairs);
    assertEquals(2.0 * (2 * k + 5) / (9.0 * k * (k - 1)), varTau, 1e-12);
    assertEquals(0.248, Math.sqrt(varTau), 5e-4);
  }

  @Test
  void commonsMathEqualsBruteForceWithTies() {
    SplittableRandom r = new SplittableRandom(3);
    for (int rep = 0; rep < 50; rep++) {
      int n = 3 + r.nextInt(30);
      double[] x = new double[n];
      double[] y = new double[n];
      for (int i = 0; i < n; i++) {
        x[i] = r.nextInt(5);       // many ties
        y[i] = r.nextInt(7) + 0.5 * x[i];
      }
      double expected = bruteTauB(x, y);
      double got = KendallTau.tauB(x, y);
      if (Double.isNaN(expected)) {
        assertTrue(Double.isNaN(got));
      } else {
        assertEquals(expected, got, 1e-12, "n=" + n);
      }
    }
  }

  @Test
  void constantVariableIsUndefinedAndNaNPairsAreDropped() {
    assertTrue(Double.isNaN(KendallTau.tauB(new double[] {1, 1, 1}, new double[] {1, 2, 3})));
    double[][] p = KendallTau.finitePairs(new double[] {1, Double.NaN, 3, 4}, new double[] {1, 2, Double.NaN, 5});
    assertEquals(2, p[0].length);
    assertEquals(4.0, p[0][1], 0);
  }

  @Test
  void bootstrapIntervalBracketsTheEstimate() {
    double[] x = new double[20];
    double[] y = new double[20];
    SplittableRandom r = new SplittableRandom(1);
    for (int i = 0; i < 20; i++) {
      x[i] = i;
      y[i] = i + 8 * r.nextDouble();
    }
    double t = KendallTau.tauB(x, y);
    double[] ci = KendallTau.bootstrap(x, y, 500, 0.05, 7);
    assertTrue(ci[0] <= t && t <= ci[1], ci[0] + " " + t + " " + ci[1]);
    double[] again = KendallTau.bootstrap(x, y, 500, 0.05, 7);
    assertEquals(ci[0], again[0], 0);
  }

  /** tau-b = (C - D) / sqrt((n0 - n1)(n0 - n2)), straight from the definition. */
  static double bruteTauB(double[] x, double[] y) {
    int n = x.length;
    long c = 0, d = 0, tx = 0, ty = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        double a = Math.signum(x[i] - x[j]) * Math.signum(y[i] - y[j]);
        if (a > 0) c++;
        if (a < 0) d++;
        if (x[i] == x[j]) tx++;
        if (y[i] == y[j]) ty++;
      }
    }
    double n0 = n * (n - 1) / 2.0;
    double den = Math.sqrt((n0 - tx) * (n0 - ty));
    return den == 0 ? Double.NaN : (c - d) / den;
  }
}
