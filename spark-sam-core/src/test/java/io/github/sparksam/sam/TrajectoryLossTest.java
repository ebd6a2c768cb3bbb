package io.github.sparksam.sam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.nn.ParamLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The trajectory term of SAF/MESA against the spec's oracles (10.11, 10.12) and finite differences. */
class TrajectoryLossTest {

  private static double gauss(SplittableRandom r) {
    return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
  }

  @Test
  void oracleTwoClasses() {
    TrajectoryLoss t = new TrajectoryLoss(0.3, 5);
    double[] z = {1, 0}, r = {0, 0};
    assertEquals(0.0374376662, t.value(r, z), 1e-10);
    assertEquals(0.1247922205, new TrajectoryLoss(1, 5).value(r, z), 1e-10);
    assertArrayEquals(new double[] {0.0747509960, -0.0747509960}, t.gradient(r, z), 1e-10);
  }

  @Test
  void oracleThreeClasses() {
    TrajectoryLoss t = new TrajectoryLoss(1, 5);
    double[] z = {2, 1, -1}, r = {1, 1, 0};
    assertEquals(0.3175997646, t.value(r, z), 1e-10);
    assertArrayEquals(new double[] {0.3380466, -0.0447750, -0.2932716}, t.gradient(r, z), 1e-7);
    // lambda scales both
    assertEquals(0.3 * 0.3175997646, new TrajectoryLoss(0.3, 5).value(r, z), 1e-10);
  }

  /** Binomial margin z stands for the logits (0, z); gradient lambda tau (sigmoid(z/tau) - sigmoid(r/tau)). */
  @Test
  void binomialMarginIsTheTwoClassTermOnZeroAndZ() {
    TrajectoryLoss t = new TrajectoryLoss(0.3, 5);
    double z = 1.7, r = -0.4;
    assertEquals(t.value(new double[] {0, r}, new double[] {0, z}), t.value(new double[] {r}, new double[] {z}), 1e-15);
    double expected = 0.3 * 5 * (1 / (1 + Math.exp(-z / 5)) - 1 / (1 + Math.exp(-r / 5)));
    assertEquals(expected, t.gradient(new double[] {r}, new double[] {z})[0], 1e-15);
    // the (0, z) oracle of 10.11 with z = -1: logits (1, 0) ~ (0, -1) after a shift
    assertEquals(0.0374376662, t.value(new double[] {0}, new double[] {-1}), 1e-10);
  }

  @Test
  void zeroWhenCurrentEqualsTargetAndWhenLambdaIsZero() {
    double[] z = {0.3, -2, 5};
    TrajectoryLoss t = new TrajectoryLoss(0.8, 5);
    assertEquals(0.0, t.value(z, z), 0.0);
    assertArrayEquals(new double[3], t.gradient(z, z), 0.0);
    TrajectoryLoss off = new TrajectoryLoss(0, 5);
    assertEquals(0.0, off.value(new double[] {1, 2, 3}, z), 0.0);
    assertArrayEquals(new double[3], off.gradient(new double[] {1, 2, 3}, z), 0.0);
  }

  @Test
  void stableForHugeLogits() {
    TrajectoryLoss t = new TrajectoryLoss(0.3, 1);
    double[] z = {1e4, -1e4, 0}, r = {-1e4, 1e4, 0};
    assertTrue(Double.isFinite(t.value(r, z)));
    for (double g : t.gradient(r, z)) assertTrue(Double.isFinite(g));
    assertEquals(0.3, t.gradient(r, z)[0], 1e-12);   // q = e0, p = e1
  }

  @Test
  void gradientMatchesFiniteDifferences() {
    SplittableRandom rnd = new SplittableRandom(3);
    for (int k : new int[] {1, 2, 3, 5}) {
      for (double tau : new double[] {1, 2.5, 5}) {
        TrajectoryLoss t = new TrajectoryLoss(0.7, tau);
        double[] z = new double[k], r = new double[k];
        for (int c = 0; c < k; c++) {
          z[c] = 3 * gauss(rnd);
          r[c] = 3 * gauss(rnd);
        }
        double[] g = t.gradient(r, z);
        double h = 1e-5;
        for (int c = 0; c < k; c++) {
          double[] zp = z.clone(), zm = z.clone();
          zp[c] += h;
          zm[c] -= h;
          double fd = (t.value(r, zp) - t.value(r, zm)) / (2 * h);
          assertEquals(fd, g[c], 1e-8, "K=" + k + " tau=" + tau + " c=" + c);
        }
      }
    }
  }

  @Test
  void validatesSettings() {
    assertThrows(IllegalArgumentException.class, () -> new TrajectoryLoss(-0.1, 5));
    assertThrows(IllegalArgumentException.class, () -> new TrajectoryLoss(0.3, 0));
    assertThrows(IllegalArgumentException.class, () -> new TrajectoryLoss(Double.NaN, 5));
  }

  /** 10.12: the example of 10.9 (softmax regression) with stored logits r = (1, 1, 0), tau 5, lambda 0.3. */
  @Test
  void oracleSoftmaxRegressionThroughTheNetwork() {
    ComputeBackend be = CpuBackend.FLOAT64;
    Network net = Network.linear(2, 3, Network.Head.MULTINOMIAL);
    ParamLayout.Tensor w = net.layout().tensor("W1");
    double[] p = new double[net.numParams()];
    double[][] rows = {{0.5, 0.25}, {0, 0.5}, {-0.5, 0}};
    for (int k = 0; k < 3; k++) for (int j = 0; j < 2; j++) p[w.offset() + k + j * 3] = rows[k][j];
    Buf params = new Buf.DoubleBuf(p);
    Buf x = new Buf.DoubleBuf(new double[] {1, 2});
    Buf target = new Buf.DoubleBuf(new double[] {1, 1, 0});
    TrajectoryLoss t = new TrajectoryLoss(0.3, 5);
    double[] work = TrajectoryLoss.workFor(3);
    Network.Workspace ws = net.newWorkspace(be, 1);

    Buf ce = be.allocate(net.numParams());
    net.lossAndGradient(params, x, 1, new double[] {0}, new double[] {1}, 0, 0.0, ce, ws, new LossStats());
    Buf total = be.allocate(net.numParams());
    double[] termValue = new double[1];
    net.lossAndGradient(params, x, 1, new double[] {0}, new double[] {1}, 0, 0.0, total, ws, new LossStats(),
        (logits, delta, n, st) -> {
          assertArrayEquals(new double[] {1, 1, -0.5}, new double[] {logits.get(0), logits.get(1), logits.get(2)}, 1e-15);
          termValue[0] = t.accumulate(target, 0, logits, 0, 3, 1.0, delta, 0, work);
        });
    double[][] klPart = {{0.0151274, 0.0302548}, {0.0151274, 0.0302548}, {-0.0302548, -0.0605097}};
    double[][] totalRows = {{-0.5350564, -1.0701127}, {0.4649436, 0.9298873}, {0.0701127, 0.1402255}};
    for (int k = 0; k < 3; k++) {
      for (int j = 0; j < 2; j++) {
        int i = w.offset() + k + j * 3;
        assertEquals(totalRows[k][j], total.get(i), 1e-7, "total[" + k + "," + j + "]");
        assertEquals(klPart[k][j], total.get(i) - ce.get(i), 1e-7, "KL part[" + k + "," + j + "]");
      }
    }
    // the K=3 oracle's term value for these logits: r=(1,1,0), z=(1,1,-0.5)
    assertEquals(t.value(new double[] {1, 1, 0}, new double[] {1, 1, -0.5}), termValue[0], 1e-15);
  }

  /**
   * The whole objective sum_i w_i (CE_i + term_i) of an MLP, differentiated by the network with the
   * term added through a delta hook, against central finite differences on the parameters.
   */
  @Test
  void networkGradientWithTheTermMatchesFiniteDifferences() {
    for (Network.Head head : Network.Head.values()) {
      ComputeBackend be = CpuBackend.FLOAT64;
      Network net = Network.mlp(3, new int[] {4}, 3 - (head == Network.Head.BINOMIAL ? 1 : 0), Activation.TANH, head);
      int n = 5, k = net.numOutputs();
      SplittableRandom rnd = new SplittableRandom(17);
      double[] x = new double[3 * n], labels = new double[n], weights = new double[n], target = new double[k * n];
      for (int i = 0; i < x.length; i++) x[i] = gauss(rnd);
      for (int i = 0; i < n; i++) {
        labels[i] = rnd.nextInt(net.numClasses());
        weights[i] = 0.3 + rnd.nextDouble();
      }
      for (int i = 0; i < target.length; i++) target[i] = 2 * gauss(rnd);
      double[] p = new double[net.numParams()];
      for (int i = 0; i < p.length; i++) p[i] = 0.7 * gauss(rnd);
      TrajectoryLoss t = new TrajectoryLoss(0.6, 2);
      Network.Workspace ws = net.newWorkspace(be, n);
      Buf xb = new Buf.DoubleBuf(x);
      Buf tb = new Buf.DoubleBuf(target);
      double[] work = TrajectoryLoss.workFor(k);

      Buf grad = be.allocate(p.length);
      net.lossAndGradient(new Buf.DoubleBuf(p), xb, n, labels, weights, 0, 0.1, grad, ws, new LossStats(),
          (logits, delta, rows, st) -> {
            for (int j = 0; j < rows; j++) t.accumulate(tb, j * k, logits, j * k, k, weights[j], delta, j * k, work);
          });
      double h = 1e-6;
      for (int i = 0; i < p.length; i++) {
        double[] pp = p.clone(), pm = p.clone();
        pp[i] += h;
        pm[i] -= h;
        double fd = (objective(net, pp, xb, n, labels, weights, t, tb, ws) - objective(net, pm, xb, n, labels, weights, t, tb, ws))
            / (2 * h);
        assertEquals(fd, grad.get(i), 1e-7 * Math.max(1, Math.abs(fd)), head + " param " + i);
      }
    }
  }

  private static double objective(Network net, double[] p, Buf x, int n, double[] labels, double[] weights,
                                  TrajectoryLoss t, Buf target, Network.Workspace ws) {
    LossStats st = new LossStats();
    net.loss(new Buf.DoubleBuf(p), x, n, labels, weights, 0, 0.1, ws, st);
    Buf logits = net.forward(new Buf.DoubleBuf(p), x, n, ws);
    int k = net.numOutputs();
    double term = 0;
    Buf sink = new Buf.DoubleBuf(new double[k]);
    double[] work = TrajectoryLoss.workFor(k);
    for (int j = 0; j < n; j++) term += weights[j] * t.accumulate(target, j * k, logits, j * k, k, 0.0, sink, 0, work);
    return st.lossSum + term;
  }
}
