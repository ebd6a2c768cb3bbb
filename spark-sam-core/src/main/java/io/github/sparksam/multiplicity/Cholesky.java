package io.github.sparksam.multiplicity;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.lapack.LAPACK;
import org.netlib.util.intW;

/**
 * Cholesky factor {@code H = L L^T} of a small symmetric positive-definite matrix, and solves with
 * it, by LAPACK ({@code dpotrf}/{@code dpotrs} through {@code dev.ludovic.netlib}, Spark's own
 * LAPACK binding: native when the machine has one, else its pure-Java port).
 */
final class Cholesky {
  private final int n;
  private final double[] l;   // the factor in LAPACK's column-major storage (lower triangle used), n x n

  private Cholesky(int n, double[] l) {
    this.n = n;
    this.l = l;
  }

  /** Factors {@code h} (only its lower triangle is read); null when it is not (numerically) positive definite. */
  static Cholesky of(double[][] h) {
    int n = h.length;
    double[] a = new double[n * n];
    for (int j = 0; j < n; j++) {
      for (int i = j; i < n; i++) {
        double v = h[i][j];
        if (!Double.isFinite(v)) return null;
        a[i + j * n] = v;
      }
    }
    intW info = new intW(0);
    LAPACK.getInstance().dpotrf("L", n, a, Math.max(1, n), info);
    if (info.val < 0) throw new IllegalStateException("dpotrf: argument " + (-info.val) + " is invalid");
    return info.val == 0 ? new Cholesky(n, a) : null;   // info > 0: the leading minor of that order is not PD
  }

  /** {@code H^{-1} b}. */
  double[] solve(double[] b) {
    if (b.length != n) throw new IllegalArgumentException("right-hand side has " + b.length + " entries, expected " + n);
    double[] x = b.clone();
    intW info = new intW(0);
    LAPACK.getInstance().dpotrs("L", n, 1, l, Math.max(1, n), x, Math.max(1, n), info);
    if (info.val != 0) throw new IllegalStateException("dpotrs failed: info " + info.val);
    return x;
  }

  static double dot(double[] a, double[] b) {
    return BLAS.getInstance().ddot(a.length, a, 1, b, 1);
  }
}
