package io.github.sparksam.sharpness;

import java.util.SplittableRandom;

/** Small dense vector helpers for the driver-side algorithms. */
final class Vec {
  private Vec() {}

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) s += a[i] * b[i];
    return s;
  }

  static double norm(double[] a) { return Math.sqrt(dot(a, a)); }

  /** {@code y += alpha x}. */
  static void axpy(double alpha, double[] x, double[] y) {
    for (int i = 0; i < x.length; i++) y[i] += alpha * x[i];
  }

  static void scale(double alpha, double[] x) {
    for (int i = 0; i < x.length; i++) x[i] *= alpha;
  }

  static double gaussian(SplittableRandom r) {
    double u1 = r.nextDouble(), u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  static double[] gaussian(SplittableRandom r, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) v[i] = gaussian(r);
    return v;
  }

  /** Rademacher (+-1) entries. */
  static double[] rademacher(SplittableRandom r, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) v[i] = r.nextBoolean() ? 1.0 : -1.0;
    return v;
  }

  static double[] unit(double[] v) {
    double[] u = v.clone();
    scale(1 / norm(u), u);
    return u;
  }
}
