package io.github.sparksam.sharpness;

import io.github.sparksam.backend.LossStats;
import io.github.sparksam.nn.CurvatureWorkspace;
import io.github.sparksam.nn.Network;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;

/** Test helpers: explicit matrices as operators, dense eigenvalues, in-memory data, finite differences. */
final class Oracles {
  private Oracles() {}

  /** A dense symmetric matrix as a {@link HessianOperator}. */
  static HessianOperator matrix(double[][] h) {
    return new HessianOperator() {
      long calls;

      @Override public int dim() { return h.length; }

      @Override public double[][] apply(double[][] vs) {
        calls++;
        double[][] out = new double[vs.length][h.length];
        for (int j = 0; j < vs.length; j++) {
          for (int r = 0; r < h.length; r++) out[j][r] = Vec.dot(h[r], vs[j]);
        }
        return out;
      }

      @Override public long passes() { return calls; }
    };
  }

  /** Eigenvalues ascending (Commons Math). */
  static double[] eigenvalues(double[][] h) {
    double[] ev = new EigenDecomposition(new Array2DRowRealMatrix(h)).getRealEigenvalues();
    Arrays.sort(ev);
    return ev;
  }

  static double trace(double[][] h) {
    double t = 0;
    for (int i = 0; i < h.length; i++) t += h[i][i];
    return t;
  }

  /** The full Hessian built column by column from an operator's products with unit vectors. */
  static double[][] fromColumns(HessianOperator op) {
    int p = op.dim();
    double[][] e = new double[p][p];
    for (int i = 0; i < p; i++) e[i][i] = 1;
    double[][] cols = op.apply(e);
    double[][] h = new double[p][p];
    for (int i = 0; i < p; i++) for (int j = 0; j < p; j++) h[i][j] = 0.5 * (cols[j][i] + cols[i][j]);
    return h;
  }

  /**
   * Closed-form Hessian of the weighted mean softmax cross-entropy of softmax regression in the
   * network's layout (W: K x d column-major at 0, then b: K):
   * {@code (1/sum w) sum_i w_i (diag(p_i) - p_i p_i^T) (x) [x_i;1][x_i;1]^T}.
   */
  static double[][] softmaxHessian(Network net, double[] w, double[][] x, double[] y, double[] wt) {
    int d = net.numFeatures(), k = net.numClasses();
    int p = net.numParams();
    double[][] h = new double[p][p];
    double wsum = 0;
    for (int i = 0; i < x.length; i++) {
      double[] z = new double[k];
      for (int c = 0; c < k; c++) {
        z[c] = w[k * d + c];
        for (int j = 0; j < d; j++) z[c] += w[c + k * j] * x[i][j];
      }
      double max = Arrays.stream(z).max().getAsDouble(), s = 0;
      for (int c = 0; c < k; c++) s += Math.exp(z[c] - max);
      double[] pr = new double[k];
      for (int c = 0; c < k; c++) pr[c] = Math.exp(z[c] - max) / s;
      double[] xe = Arrays.copyOf(x[i], d + 1);
      xe[d] = 1;
      for (int a = 0; a < k; a++) for (int b = 0; b < k; b++) {
        double m = wt[i] * ((a == b ? pr[a] : 0) - pr[a] * pr[b]);
        if (m == 0) continue;
        for (int ja = 0; ja <= d; ja++) for (int jb = 0; jb <= d; jb++) {
          int ia = ja < d ? a + k * ja : k * d + a;
          int ib = jb < d ? b + k * jb : k * d + b;
          h[ia][ib] += m * xe[ja] * xe[jb];
        }
      }
      wsum += wt[i];
    }
    for (double[] r : h) for (int j = 0; j < p; j++) r[j] /= wsum;
    return h;
  }

  /** Mean loss gradient of in-memory rows. */
  static double[] gradient(Network net, double[] w, double[][] x, double[] y, double[] wt) {
    CurvatureWorkspace ws = net.newCurvatureWorkspace(x.length);
    double[] g = new double[w.length];
    LossStats st = new LossStats();
    ws.accumulate(w, flat(x), 0, x.length, y, wt, 0, g, null, null, st);
    for (int i = 0; i < g.length; i++) g[i] /= st.weightSum;
    return g;
  }

  static double[] hvp(Network net, double[] w, double[][] x, double[] y, double[] wt, double[] v) {
    CurvatureWorkspace ws = net.newCurvatureWorkspace(x.length);
    double[][] hv = new double[1][w.length];
    LossStats st = new LossStats();
    ws.accumulate(w, flat(x), 0, x.length, y, wt, 0, null, new double[][] {v}, hv, st);
    for (int i = 0; i < w.length; i++) hv[0][i] /= st.weightSum;
    return hv[0];
  }

  static double[] flat(double[][] x) {
    int d = x[0].length;
    double[] f = new double[x.length * d];
    for (int i = 0; i < x.length; i++) System.arraycopy(x[i], 0, f, i * d, d);
    return f;
  }

  static double[] randomVector(long seed, int n, double scale) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) v[i] = scale * Vec.gaussian(r);
    return v;
  }

  static double relErr(double a, double b) { return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300); }
}
