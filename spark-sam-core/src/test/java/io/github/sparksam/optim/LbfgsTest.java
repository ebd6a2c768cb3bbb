package io.github.sparksam.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.junit.jupiter.api.Test;

/** Breeze L-BFGS through {@link Lbfgs}: closed-form optima, stopping rule, listener, bad arguments. */
class LbfgsTest {

  /** f(w) = 1/2 w^T A w - b^T w with an ill-conditioned SPD A: the minimiser solves A w = b (Commons Math). */
  @Test
  void quadraticReachesTheClosedFormMinimiser() {
    int n = 6;
    double[][] a = new double[n][n];
    double[] b = new double[n];
    for (int i = 0; i < n; i++) {
      b[i] = i - 2.5;
      for (int j = 0; j < n; j++) a[i][j] = 1.0 / (i + j + 1) + (i == j ? 0.1 * (i + 1) : 0);  // Hilbert + diag
    }
    double[] expected = new CholeskyDecomposition(new Array2DRowRealMatrix(a)).getSolver()
        .solve(new ArrayRealVector(b)).toArray();
    Lbfgs.Objective f = (w, g) -> {
      double v = 0;
      for (int i = 0; i < n; i++) {
        double aw = 0;
        for (int j = 0; j < n; j++) aw += a[i][j] * w[j];
        g[i] = aw - b[i];
        v += 0.5 * w[i] * aw - b[i] * w[i];
      }
      return v;
    };
    List<Integer> seen = new ArrayList<>();
    Lbfgs.Result r = new Lbfgs(500, 10, 1e-12).minimize(f, new double[n], (it, v, gn, ev, w) -> seen.add(it));
    assertArrayEquals(expected, r.weights(), 1e-6);
    assertTrue(r.gradientNorm() < 1e-7, "gradient norm " + r.gradientNorm());
    assertTrue(r.converged(), r.stopReason());
    assertEquals(r.iterations(), seen.size());
    assertEquals(1, seen.get(0));
    assertTrue(r.evaluations() >= r.iterations());
  }

  @Test
  void rosenbrockReachesOneOne() {
    Lbfgs.Objective f = (w, g) -> {
      double x = w[0], y = w[1];
      g[0] = -2 * (1 - x) - 400 * x * (y - x * x);
      g[1] = 200 * (y - x * x);
      return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
    };
    Lbfgs.Result r = new Lbfgs(1000, 5, 1e-12).minimize(f, new double[] {-1.2, 1.0}, null);
    assertArrayEquals(new double[] {1, 1}, r.weights(), 1e-5);
  }

  @Test
  void iterationLimitStopsTheRun() {
    Lbfgs.Objective f = (w, g) -> {
      double x = w[0], y = w[1];
      g[0] = -2 * (1 - x) - 400 * x * (y - x * x);
      g[1] = 200 * (y - x * x);
      return (1 - x) * (1 - x) + 100 * (y - x * x) * (y - x * x);
    };
    Lbfgs.Result r = new Lbfgs(3, 5, 1e-12).minimize(f, new double[] {-1.2, 1.0}, null);
    assertEquals(3, r.iterations());
    assertTrue(!r.converged(), r.stopReason());
  }

  @Test
  void nonFiniteObjectiveIsReported() {
    Lbfgs.Objective f = (w, g) -> Double.NaN;
    ArithmeticException e = assertThrows(ArithmeticException.class,
        () -> new Lbfgs(10, 5, 1e-6).minimize(f, new double[2], null));
    assertTrue(e.getMessage().contains("not finite"), e.getMessage());
  }

  @Test
  void badSettingsAreRejected() {
    assertThrows(IllegalArgumentException.class, () -> new Lbfgs(0, 10, 1e-6));
    assertThrows(IllegalArgumentException.class, () -> new Lbfgs(10, 0, 1e-6));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Lbfgs(10, 10, 0));
    assertTrue(e.getMessage().contains("tol"), e.getMessage());
  }
}
