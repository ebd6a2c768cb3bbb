package io.github.sparksam.nn;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.LossStats;
import java.util.SplittableRandom;

/**
 * Shared helpers for the nn tests: seeded random problems, Buf conversions, the full objective
 * (weighted loss sum plus optional coupled L2), and an independent plain-loop reference forward pass
 * that encodes the documented conventions (W_l is out x in column-major, followed by b_l).
 */
final class NnFixtures {
  private NnFixtures() {}

  /** A seeded problem: features (d x n column-major), labels, non-uniform weights, parameters. */
  static final class Problem {
    final Network net;
    final int n;
    final double[] x;
    final double[] labels;
    final double[] weights;
    final double[] params;

    Problem(Network net, int n, double[] x, double[] labels, double[] weights, double[] params) {
      this.net = net;
      this.n = n;
      this.x = x;
      this.labels = labels;
      this.weights = weights;
      this.params = params;
    }
  }

  static double gaussian(SplittableRandom r) {
    double u1 = r.nextDouble(), u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Random data and random (non-zero, non-init) parameters of scale {@code paramScale}. */
  static Problem randomProblem(Network net, int n, long seed, double paramScale) {
    SplittableRandom r = new SplittableRandom(seed);
    int d = net.numFeatures();
    double[] x = new double[d * n];
    for (int i = 0; i < x.length; i++) x[i] = gaussian(r);
    double[] labels = new double[n];
    for (int i = 0; i < n; i++) labels[i] = r.nextInt(net.numClasses());
    double[] weights = new double[n];
    for (int i = 0; i < n; i++) weights[i] = 0.2 + 1.8 * r.nextDouble();
    double[] params = new double[net.numParams()];
    for (int i = 0; i < params.length; i++) params[i] = paramScale * gaussian(r);
    return new Problem(net, n, x, labels, weights, params);
  }

  static Buf buf(ComputeBackend be, double[] a) {
    Buf b = be.allocate(a.length);
    b.setFrom(a, 0, 0, a.length);
    return b;
  }

  static double[] toArray(Buf b, int len) {
    double[] out = new double[len];
    b.addTo(out, 0, 0, len, 1.0);
    return out;
  }

  /**
   * The objective {@code sum_i w_i loss_i + (lambda/2) sum mask*w^2} at {@code params}. When
   * {@code gradOut} is non-null, its gradient is added into it (through lossAndGradient and
   * WeightDecay.addTo); otherwise only {@link Network#loss} is used.
   */
  static double objective(Problem p, ComputeBackend be, double[] params, double eps, double lambda,
                          double[] gradOut) {
    Network net = p.net;
    Network.Workspace ws = net.newWorkspace(be, p.n);
    Buf pb = buf(be, params);
    Buf xb = buf(be, p.x);
    LossStats stats = new LossStats();
    double pen;
    if (gradOut != null) {
      Buf g = be.allocate(params.length);
      net.lossAndGradient(pb, xb, p.n, p.labels, p.weights, 0, eps, g, ws, stats);
      g.addTo(gradOut, 0, 0, params.length, 1.0);
      pen = WeightDecay.addTo(params, gradOut, lambda, net.layout().weightMask());
    } else {
      net.loss(pb, xb, p.n, p.labels, p.weights, 0, eps, ws, stats);
      pen = WeightDecay.addTo(params, new double[params.length], lambda, net.layout().weightMask());
    }
    return stats.lossSum + pen;
  }

  /**
   * Reference forward pass with plain loops. Returns per layer l = 1..L the pre-activation
   * {@code z_l} (sizes[l] x n, column-major); z_L are the logits.
   */
  static double[][] referencePreActivations(Network net, double[] params, double[] x, int n) {
    int[] hidden = net.hiddenLayers();
    int layers = hidden.length + 1;
    int[] sizes = new int[layers + 1];
    sizes[0] = net.numFeatures();
    System.arraycopy(hidden, 0, sizes, 1, hidden.length);
    sizes[layers] = net.numOutputs();
    double[][] z = new double[layers + 1][];
    double[] a = x;
    for (int l = 1; l <= layers; l++) {
      ParamLayout.Tensor w = net.layout().tensor("W" + l);
      ParamLayout.Tensor b = net.layout().tensor("b" + l);
      int out = sizes[l], in = sizes[l - 1];
      if (w.rows() != out || w.cols() != in) throw new AssertionError("W" + l + " shape " + w);
      z[l] = new double[out * n];
      for (int j = 0; j < n; j++) {
        for (int r = 0; r < out; r++) {
          double s = params[b.offset() + r];
          for (int c = 0; c < in; c++) s += params[w.offset() + r + c * out] * a[c + j * in];
          z[l][r + j * out] = s;
        }
      }
      if (l < layers) {
        double[] act = z[l].clone();
        for (int i = 0; i < act.length; i++) {
          act[i] = net.activation() == Activation.RELU ? Math.max(0, act[i]) : Math.tanh(act[i]);
        }
        a = act;
      }
    }
    return z;
  }

  /** Smallest |pre-activation| over all hidden layers (infinity for a linear model). */
  static double minHiddenPreActivation(Network net, double[] params, double[] x, int n) {
    double[][] z = referencePreActivations(net, params, x, n);
    double min = Double.POSITIVE_INFINITY;
    for (int l = 1; l < z.length - 1; l++) for (double v : z[l]) min = Math.min(min, Math.abs(v));
    return min;
  }

  static double norm(double[] a) {
    double s = 0;
    for (double v : a) s += v * v;
    return Math.sqrt(s);
  }

  static double relDiff(double[] a, double[] b) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) d[i] = a[i] - b[i];
    double den = Math.max(norm(a), norm(b));
    return den == 0 ? 0 : norm(d) / den;
  }
}
