package io.github.sparksam.multiplicity;

/** Cholesky factor {@code H = L L^T} of a small symmetric positive-definite matrix, and solves with it. */
final class Cholesky {
  private final int n;
  private final double[] l;   // row-major lower triangle, n x n

  private Cholesky(int n, double[] l) {
    this.n = n;
    this.l = l;
  }

  /** Factors {@code h}; null when it is not (numerically) positive definite. */
  static Cholesky of(double[][] h) {
    int n = h.length;
    double[] l = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        double s = h[i][j];
        for (int k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
        if (i == j) {
          if (!(s > 1e-300) || !Double.isFinite(s)) return null;
          l[i * n + i] = Math.sqrt(s);
        } else {
          l[i * n + j] = s / l[j * n + j];
        }
      }
    }
    return new Cholesky(n, l);
  }

  /** {@code H^{-1} b}. */
  double[] solve(double[] b) {
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      double s = b[i];
      for (int k = 0; k < i; k++) s -= l[i * n + k] * y[k];
      y[i] = s / l[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
      double s = y[i];
      for (int k = i + 1; k < n; k++) s -= l[k * n + i] * y[k];
      y[i] = s / l[i * n + i];
    }
    return y;
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }
}
