package io.github.sparksam.nn;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.nn.layers.Layer;
import io.github.sparksam.nn.layers.LayerBuffers;
import java.util.Arrays;

/**
 * Loss, gradient and exact Hessian-vector products of a {@link Network} on a block of rows, in
 * double precision: Pearlmutter's R-operator (Pearlmutter 1994, "Fast exact multiplication by the
 * Hessian"), i.e. forward-mode differentiation of the backward pass along a direction {@code v},
 * chained through each layer's own R-operator ({@link Layer#rForward}, {@link Layer#rBackward}).
 * For softmax/logistic regression this is the closed form {@code sum_i w_i (x_i x_i^T) (x) (diag(p_i) - p_i p_i^T)};
 * for an MLP or a CNN it is exact up to the relu kinks and max-pooling ties (the relu's second derivative is taken as 0, as every
 * autodiff HVP does). One forward and one backward pass are shared by all directions of a call, so
 * several probe vectors cost one sweep over the rows.
 *
 * <p>Sums are of the <em>weighted sum</em> of the rows' losses; dividing by the weight sum is the
 * caller's. Not thread-safe: one per task.
 */
public final class CurvatureWorkspace {
  /** Doubles of per-row buffers above which a call is split into sub-blocks (keeps CNN sweeps in memory). */
  private static final long MAX_BUFFER_DOUBLES = 16L << 20;

  private final Network net;
  private final Layer[] layers;
  private final ComputeBackend be = CpuBackend.FLOAT64;
  private final boolean binomial;
  private final int rowsPerPass;
  private int cap;
  private Buf.DoubleBuf input;    // the block's rows, copied from the caller's array
  private Buf.DoubleBuf[] out;    // out[i]: output of layer i (out[L-1] = logits)
  private Buf.DoubleBuf[] dOut;   // d(loss sum)/d out[i]
  private Buf.DoubleBuf[] rOut;   // R(out[i])
  private Buf.DoubleBuf[] rdOut;  // R(dOut[i])
  private LayerBuffers[] buffers;
  private double[] p;             // probabilities (numOutputs x n)

  CurvatureWorkspace(Network net, int maxRows) {
    this.net = net;
    this.layers = net.layers().toArray(new Layer[0]);
    binomial = net.head() == Network.Head.BINOMIAL;
    long perRow = net.numFeatures() + 4L * Arrays.stream(layers).mapToLong(l -> l.outputShape().size()).sum();
    rowsPerPass = (int) Math.max(1, Math.min(Integer.MAX_VALUE, MAX_BUFFER_DOUBLES / perRow));
    ensure(Math.max(1, Math.min(maxRows, rowsPerPass)));
  }

  public Network network() { return net; }

  private void ensure(int n) {
    if (n <= cap) return;
    int len = layers.length;
    input = new Buf.DoubleBuf(new double[net.numFeatures() * n]);
    out = new Buf.DoubleBuf[len];
    dOut = new Buf.DoubleBuf[len];
    rOut = new Buf.DoubleBuf[len];
    rdOut = new Buf.DoubleBuf[len];
    buffers = new LayerBuffers[len];
    int maxCols = 0;
    for (Layer l : layers) maxCols = Math.max(maxCols, l.colsFor(n));
    Buf cols = maxCols == 0 ? null : new Buf.DoubleBuf(new double[maxCols]);
    for (int i = 0; i < len; i++) {
      int size = layers[i].outputShape().size() * n;
      out[i] = new Buf.DoubleBuf(new double[size]);
      dOut[i] = new Buf.DoubleBuf(new double[size]);
      rOut[i] = new Buf.DoubleBuf(new double[size]);
      rdOut[i] = new Buf.DoubleBuf(new double[size]);
      int idx = layers[i].indicesPerRow();
      buffers[i] = new LayerBuffers(cols, idx == 0 ? null : new int[idx * n]);
    }
    p = new double[net.numOutputs() * n];
    cap = n;
  }

  /**
   * For {@code n} rows ({@code x}: numFeatures x n column-major from {@code xOff}; labels and
   * weights from {@code rowOff}; null weights mean 1): adds the weighted loss statistics to
   * {@code stats}, the gradient of the weighted loss sum to {@code grad} (when non-null), and
   * {@code H_sum v_j} to {@code hv[j]} for each direction {@code vs[j]} (when non-null).
   */
  public void accumulate(double[] w, double[] x, int xOff, int n, double[] labels, double[] weights, int rowOff,
                         double[] grad, double[][] vs, double[][] hv, LossStats stats) {
    for (int from = 0; from < n; from += rowsPerPass) {
      int m = Math.min(rowsPerPass, n - from);
      block(w, x, xOff + from * net.numFeatures(), m, labels, weights, rowOff + from, grad, vs, hv, stats);
    }
  }

  private void block(double[] w, double[] x, int xOff, int n, double[] labels, double[] weights, int rowOff,
                     double[] grad, double[][] vs, double[][] hv, LossStats stats) {
    ensure(n);
    System.arraycopy(x, xOff, input.a, 0, net.numFeatures() * n);
    Buf wb = new Buf.DoubleBuf(w);
    for (int i = 0; i < layers.length; i++) layers[i].forward(be, wb, in(i), n, out[i], buffers[i]);
    head(n, labels, weights, rowOff, stats);
    boolean needBackward = grad != null || (vs != null && vs.length > 0);
    if (!needBackward) return;
    // backward for the gradient; keep every dOut for the R pass
    Buf gb = grad == null ? null : new Buf.DoubleBuf(grad);
    for (int i = layers.length - 1; i >= 0; i--) {
      layers[i].backward(be, wb, in(i), out[i], dOut[i], n, gb, i == 0 ? null : dOut[i - 1], buffers[i]);
    }
    if (vs == null) return;
    for (int j = 0; j < vs.length; j++) rPass(wb, new Buf.DoubleBuf(vs[j]), n, weights, rowOff, new Buf.DoubleBuf(hv[j]));
  }

  private Buf in(int i) { return i == 0 ? input : out[i - 1]; }

  /** Probabilities, loss statistics and delta_L = w_i (p_i - y_i). */
  private void head(int n, double[] labels, double[] weights, int rowOff, LossStats stats) {
    double[] z = out[layers.length - 1].a, d = dOut[layers.length - 1].a;
    int c = net.numOutputs();
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

  private void rPass(Buf w, Buf v, int n, double[] weights, int rowOff, Buf hv) {
    int last = layers.length - 1;
    for (int i = 0; i <= last; i++) {
      layers[i].rForward(be, w, v, in(i), i == 0 ? null : rOut[i - 1], out[i], n, rOut[i], buffers[i]);
    }
    // R of the head: R(delta_L) = w_i (diag(p) - p p^T) Rz_L  (binomial: w_i p (1-p) Rz)
    int c = net.numOutputs();
    double[] rzL = rOut[last].a, rdL = rdOut[last].a;
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
    for (int i = last; i >= 0; i--) {
      layers[i].rBackward(be, w, v, in(i), i == 0 ? null : rOut[i - 1], out[i], rOut[i], dOut[i], rdOut[i], n, hv,
          i == 0 ? null : rdOut[i - 1], buffers[i]);
    }
  }
}
