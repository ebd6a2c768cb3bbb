package io.github.sparksam.nn;

import dev.ludovic.netlib.blas.BLAS;
import io.github.sparksam.backend.LossStats;

/**
 * Loss, gradient and exact Hessian-vector products of a {@link Network} on a block of rows, in
 * double precision: Pearlmutter's R-operator (Pearlmutter 1994, "Fast exact multiplication by the
 * Hessian"), i.e. forward-mode differentiation of the backward pass along a direction {@code v}.
 * For softmax/logistic regression this is the closed form {@code sum_i w_i (x_i x_i^T) (x) (diag(p_i) - p_i p_i^T)};
 * for an MLP it is exact up to the relu kinks (the relu's second derivative is taken as 0, as every
 * autodiff HVP does). One forward and one backward pass are shared by all directions of a call, so
 * several probe vectors cost one sweep over the rows.
 *
 * <p>Sums are of the <em>weighted sum</em> of the rows' losses; dividing by the weight sum is the
 * caller's. Not thread-safe: one per task.
 */
public final class CurvatureWorkspace {
  private final Network net;
  private final int[] s;          // layer sizes
  private final int L;            // number of layers with weights
  private final int[] wOff;
  private final int[] bOff;
  private final boolean tanh;
  private final boolean binomial;
  private int cap;
  private double[][] a;           // a[0] unused (input), a[l] post-activation (a[L] = logits)
  private double[][] delta;       // delta[l]: d(loss sum)/d z_l
  private double[][] e;           // e[l] = W_{l+1}^T delta_{l+1} (before the activation derivative), l < L
  private double[][] ra;          // R(a_l)
  private double[][] rz;          // R(z_l)
  private double[][] rdelta;      // R(delta_l)
  private double[] p;             // probabilities (numOutputs x n)

  CurvatureWorkspace(Network net, int maxRows) {
    this.net = net;
    int[] hidden = net.hiddenLayers();
    this.L = hidden.length + 1;
    this.s = new int[L + 1];
    s[0] = net.numFeatures();
    System.arraycopy(hidden, 0, s, 1, hidden.length);
    s[L] = net.numOutputs();
    wOff = new int[L + 1];
    bOff = new int[L + 1];
    for (int l = 1; l <= L; l++) {
      wOff[l] = net.layout().tensor("W" + l).offset();
      bOff[l] = net.layout().tensor("b" + l).offset();
    }
    tanh = net.activation() == Activation.TANH;
    binomial = net.head() == Network.Head.BINOMIAL;
    ensure(Math.max(1, maxRows));
  }

  public Network network() { return net; }

  private void ensure(int n) {
    if (n <= cap) return;
    a = new double[L + 1][];
    delta = new double[L + 1][];
    e = new double[L + 1][];
    ra = new double[L + 1][];
    rz = new double[L + 1][];
    rdelta = new double[L + 1][];
    for (int l = 1; l <= L; l++) {
      a[l] = new double[s[l] * n];
      delta[l] = new double[s[l] * n];
      e[l] = new double[s[l] * n];
      ra[l] = new double[s[l] * n];
      rz[l] = new double[s[l] * n];
      rdelta[l] = new double[s[l] * n];
    }
    p = new double[s[L] * n];
    cap = n;
  }

  private static BLAS blas() { return BLAS.getInstance(); }

  /**
   * For {@code n} rows ({@code x}: numFeatures x n column-major from {@code xOff}; labels and
   * weights from {@code rowOff}; null weights mean 1): adds the weighted loss statistics to
   * {@code stats}, the gradient of the weighted loss sum to {@code grad} (when non-null), and
   * {@code H_sum v_j} to {@code hv[j]} for each direction {@code vs[j]} (when non-null).
   */
  public void accumulate(double[] w, double[] x, int xOff, int n, double[] labels, double[] weights, int rowOff,
                         double[] grad, double[][] vs, double[][] hv, LossStats stats) {
    ensure(n);
    forward(w, x, xOff, n);
    head(n, labels, weights, rowOff, stats);
    boolean needBackward = grad != null || (vs != null && vs.length > 0);
    if (!needBackward) return;
    // backward for the gradient; keep delta_l and e_l for the R pass
    for (int l = L; l >= 1; l--) {
      int m = s[l], k = s[l - 1];
      if (grad != null) {
        blas().dgemm("N", "T", m, k, n, 1.0, delta[l], 0, m, in(l, x), inOff(l, xOff), k, 1.0, grad, wOff[l], m);
        rowSums(delta[l], m, n, grad, bOff[l], 1.0);
      }
      if (l > 1) {
        blas().dgemm("T", "N", k, n, m, 1.0, w, wOff[l], m, delta[l], 0, m, 0.0, e[l - 1], 0, k);
        double[] al = a[l - 1], dl = delta[l - 1], el = e[l - 1];
        for (int i = 0; i < k * n; i++) dl[i] = el[i] * fprime(al[i]);
      }
    }
    if (vs == null) return;
    for (int j = 0; j < vs.length; j++) rPass(w, vs[j], x, xOff, n, weights, rowOff, hv[j]);
  }

  private double[] in(int l, double[] x) { return l == 1 ? x : a[l - 1]; }

  private int inOff(int l, int xOff) { return l == 1 ? xOff : 0; }

  private double fprime(double act) {
    return tanh ? 1 - act * act : (act > 0 ? 1.0 : 0.0);
  }

  private void forward(double[] w, double[] x, int xOff, int n) {
    for (int l = 1; l <= L; l++) {
      int m = s[l], k = s[l - 1];
      double[] z = a[l];
      for (int j = 0; j < n; j++) System.arraycopy(w, bOff[l], z, j * m, m);
      blas().dgemm("N", "N", m, n, k, 1.0, w, wOff[l], m, in(l, x), inOff(l, xOff), k, 1.0, z, 0, m);
      if (l < L) {
        if (tanh) for (int i = 0; i < m * n; i++) z[i] = Math.tanh(z[i]);
        else for (int i = 0; i < m * n; i++) if (z[i] < 0) z[i] = 0;
      }
    }
  }

  /** Probabilities, loss statistics and delta_L = w_i (p_i - y_i). */
  private void head(int n, double[] labels, double[] weights, int rowOff, LossStats stats) {
    double[] z = a[L], d = delta[L];
    int c = s[L];
    for (int j = 0; j < n; j++) {
      double wt = weights == null ? 1.0 : weights[rowOff + j];
      int y = (int) labels[rowOff + j];
      double loss;
      boolean correct;
      if (binomial) {
        double zz = z[j];
        double pr = zz >= 0 ? 1 / (1 + Math.exp(-zz)) : Math.exp(zz) / (1 + Math.exp(zz));
        p[j] = pr;
        loss = Math.max(zz, 0) - y * zz + Math.log1p(Math.exp(-Math.abs(zz)));
        d[j] = wt * (pr - y);
        correct = (zz > 0 ? 1 : 0) == y;
      } else {
        int base = j * c;
        double max = Double.NEGATIVE_INFINITY;
        int arg = 0;
        for (int k = 0; k < c; k++) if (z[base + k] > max) { max = z[base + k]; arg = k; }
        double sum = 0;
        for (int k = 0; k < c; k++) sum += Math.exp(z[base + k] - max);
        double logZ = max + Math.log(sum);
        for (int k = 0; k < c; k++) {
          double pk = Math.exp(z[base + k] - logZ);
          p[base + k] = pk;
          d[base + k] = wt * (pk - (k == y ? 1 : 0));
        }
        loss = logZ - z[base + y];
        correct = arg == y;
      }
      stats.lossSum += wt * loss;
      stats.weightSum += wt;
      if (correct) stats.correctWeight += wt;
      stats.count++;
    }
  }

  private void rPass(double[] w, double[] v, double[] x, int xOff, int n, double[] weights, int rowOff, double[] hv) {
    // R forward: Rz_l = W_l R(a_{l-1}) + V_l a_{l-1} + vb_l; R(a_l) = f'(a_l) Rz_l
    for (int l = 1; l <= L; l++) {
      int m = s[l], k = s[l - 1];
      double[] r = rz[l];
      for (int j = 0; j < n; j++) System.arraycopy(v, bOff[l], r, j * m, m);
      blas().dgemm("N", "N", m, n, k, 1.0, v, wOff[l], m, in(l, x), inOff(l, xOff), k, 1.0, r, 0, m);
      if (l > 1) blas().dgemm("N", "N", m, n, k, 1.0, w, wOff[l], m, ra[l - 1], 0, k, 1.0, r, 0, m);
      if (l < L) {
        double[] al = a[l], ral = ra[l];
        for (int i = 0; i < m * n; i++) ral[i] = fprime(al[i]) * r[i];
      }
    }
    // R of the head: R(delta_L) = w_i (diag(p) - p p^T) Rz_L  (binomial: w_i p (1-p) Rz)
    int c = s[L];
    double[] rzL = rz[L], rdL = rdelta[L];
    for (int j = 0; j < n; j++) {
      double wt = weights == null ? 1.0 : weights[rowOff + j];
      int base = j * c;
      if (binomial) {
        rdL[j] = wt * p[j] * (1 - p[j]) * rzL[j];
      } else {
        double dot = 0;
        for (int k = 0; k < c; k++) dot += p[base + k] * rzL[base + k];
        for (int k = 0; k < c; k++) rdL[base + k] = wt * p[base + k] * (rzL[base + k] - dot);
      }
    }
    // R backward
    for (int l = L; l >= 1; l--) {
      int m = s[l], k = s[l - 1];
      blas().dgemm("N", "T", m, k, n, 1.0, rdelta[l], 0, m, in(l, x), inOff(l, xOff), k, 1.0, hv, wOff[l], m);
      if (l > 1) blas().dgemm("N", "T", m, k, n, 1.0, delta[l], 0, m, ra[l - 1], 0, k, 1.0, hv, wOff[l], m);
      rowSums(rdelta[l], m, n, hv, bOff[l], 1.0);
      if (l > 1) {
        // R(e_{l-1}) = V_l^T delta_l + W_l^T R(delta_l)
        double[] re = rdelta[l - 1];
        blas().dgemm("T", "N", k, n, m, 1.0, v, wOff[l], m, delta[l], 0, m, 0.0, re, 0, k);
        blas().dgemm("T", "N", k, n, m, 1.0, w, wOff[l], m, rdelta[l], 0, m, 1.0, re, 0, k);
        double[] al = a[l - 1], el = e[l - 1], ral = ra[l - 1];
        for (int i = 0; i < k * n; i++) {
          double r = fprime(al[i]) * re[i];
          // tanh: d f'(z)/dz = -2 a (1 - a^2), so R(f'(z)) e = -2 a R(a) e; relu: 0
          if (tanh) r += -2 * al[i] * ral[i] * el[i];
          re[i] = r;
        }
      }
    }
  }

  private static void rowSums(double[] d, int rows, int cols, double[] out, int off, double scale) {
    for (int j = 0; j < cols; j++) {
      int b = j * rows;
      for (int r = 0; r < rows; r++) out[off + r] += scale * d[b + r];
    }
  }
}
