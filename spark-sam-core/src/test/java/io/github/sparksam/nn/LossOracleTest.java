package io.github.sparksam.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.backend.Precision;
import io.github.sparksam.nn.Network.Head;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Loss values and logit gradients that can be checked by hand. */
class LossOracleTest {

  static ComputeBackend backend(Precision p) { return CpuBackend.of(p); }

  static double tol(ComputeBackend be) { return be.precision() == Precision.FLOAT64 ? 1e-12 : 1e-6; }

  /**
   * Softmax regression with all-zero parameters: every logit is 0, p = 1/K, so each row's loss is
   * log K and d loss / d logits = w (1/K - onehot). Hence dW = sum_i w_i (1/K - onehot_i) x_i^T and
   * db = sum_i w_i (1/K - onehot_i).
   */
  @ParameterizedTest
  @EnumSource(Precision.class)
  void softmaxAtZeroWeights(Precision prec) {
    ComputeBackend be = backend(prec);
    int d = 3, k = 4, n = 3;
    Network net = Network.linear(d, k, Head.MULTINOMIAL);
    double[] x = {1, 2, 3, -1, 0, 2, 0.5, -0.5, 1}; // rows (1,2,3), (-1,0,2), (0.5,-0.5,1)
    double[] labels = {0, 3, 1};
    double[] weights = {1.0, 2.0, 0.5};
    Network.Workspace ws = net.newWorkspace(be, n);
    Buf params = be.allocate(net.numParams());
    Buf g = be.allocate(net.numParams());
    LossStats stats = new LossStats();
    net.lossAndGradient(params, NnFixtures.buf(be, x), n, labels, weights, 0, 0.0, g, ws, stats);
    assertEquals(3.5 * Math.log(4), stats.lossSum, tol(be));
    assertEquals(3.5, stats.weightSum, 0.0);
    assertEquals(Math.log(4), stats.meanLoss(), tol(be));
    assertEquals(3, stats.count);

    ParamLayout.Tensor w = net.layout().tensor("W1");
    ParamLayout.Tensor b = net.layout().tensor("b1");
    for (int c = 0; c < k; c++) {
      double expectedB = 0;
      for (int i = 0; i < n; i++) expectedB += weights[i] * (0.25 - (labels[i] == c ? 1 : 0));
      assertEquals(expectedB, g.get(b.offset() + c), tol(be), "db[" + c + "]");
      for (int f = 0; f < d; f++) {
        double expectedW = 0;
        for (int i = 0; i < n; i++) expectedW += weights[i] * (0.25 - (labels[i] == c ? 1 : 0)) * x[f + i * d];
        assertEquals(expectedW, g.get(w.offset() + c + f * k), tol(be), "dW[" + c + "," + f + "]");
      }
    }
    // e.g. db[0] = 1*(0.25-1) + 2*0.25 + 0.5*0.25 = -0.125
    assertEquals(-0.125, g.get(b.offset()), tol(be));
  }

  /** The softmax kernel on zero logits writes w (1/K - onehot) directly. */
  @ParameterizedTest
  @EnumSource(Precision.class)
  void softmaxKernelDeltaAtZeroLogits(Precision prec) {
    ComputeBackend be = backend(prec);
    Buf logits = be.allocate(6); // K=3, 2 rows
    Buf delta = be.allocate(6);
    LossStats s = new LossStats();
    be.softmaxCrossEntropy(logits, 3, 2, new double[] {9, 2, 1}, new double[] {9, 3.0, 1.0}, 1, 0.0, delta, s);
    double third = 1.0 / 3;
    double[] expected = {3 * third, 3 * third, 3 * (third - 1), third, third - 1, third};
    for (int i = 0; i < 6; i++) assertEquals(expected[i], delta.get(i), tol(be), "delta[" + i + "]");
    assertEquals(4 * Math.log(3), s.lossSum, tol(be));
    // ties resolve to class 0, which neither row has
    assertEquals(0.0, s.correctWeight, 0.0);
  }

  /** Binomial head at z = 0: loss log 2 per row, d loss / dz = w (1/2 - y), predictRaw = [-0, 0]. */
  @ParameterizedTest
  @EnumSource(Precision.class)
  void binomialAtZero(Precision prec) {
    ComputeBackend be = backend(prec);
    int d = 2, n = 2;
    Network net = Network.linear(d, 2, Head.BINOMIAL);
    assertEquals(1, net.numOutputs());
    double[] x = {1, -2, 3, 0.5};
    double[] labels = {1, 0};
    double[] weights = {2.0, 0.5};
    Buf g = be.allocate(net.numParams());
    LossStats stats = new LossStats();
    net.lossAndGradient(be.allocate(net.numParams()), NnFixtures.buf(be, x), n, labels, weights, 0, 0.0, g,
        net.newWorkspace(be, n), stats);
    assertEquals(2.5 * Math.log(2), stats.lossSum, tol(be));
    // dz = (2*(0.5-1), 0.5*(0.5-0)) = (-1, 0.25); dW = -1*(1,-2) + 0.25*(3,0.5) = (-0.25, 2.125); db = -0.75
    assertEquals(-0.25, g.get(0), tol(be));
    assertEquals(2.125, g.get(1), tol(be));
    assertEquals(-0.75, g.get(2), tol(be));
    double[] raw = net.predictRaw(new double[3], new double[] {1, 1}, net.predictionWorkspace());
    assertEquals(0.0, raw[0], 0.0);
    assertEquals(0.0, raw[1], 0.0);
  }

  /**
   * Label smoothing, multinomial, one row. Logits z = (0, ln 2, ln 5): exp(z) = (1, 2, 5), sum 8,
   * so p = (1/8, 2/8, 5/8) and logZ = ln 8. Label y = 1, eps = 0.3, K = 3: targets
   * t = 0.7*onehot + 0.1 = (0.1, 0.8, 0.1). Loss = -sum t_k (z_k - logZ)
   * = ln 8 - (0.8 ln 2 + 0.1 ln 5) = 2.2 ln 2 - 0.1 ln 5 ~= 1.5249238 - 0.1609438 = 1.3639800.
   * Gradient (weight 2) = 2 (p - t) = 2 (0.025, -0.55, 0.525) = (0.05, -1.1, 1.05).
   */
  @ParameterizedTest
  @EnumSource(Precision.class)
  void labelSmoothingMultinomialClosedForm(Precision prec) {
    ComputeBackend be = backend(prec);
    Buf logits = NnFixtures.buf(be, new double[] {0, Math.log(2), Math.log(5)});
    Buf delta = be.allocate(3);
    LossStats s = new LossStats();
    be.softmaxCrossEntropy(logits, 3, 1, new double[] {1}, new double[] {2.0}, 0, 0.3, delta, s);
    double tol = be.precision() == Precision.FLOAT64 ? 1e-12 : 1e-6;
    assertEquals(1.3639800059884697, 2.2 * Math.log(2) - 0.1 * Math.log(5), 1e-15);
    assertEquals(2 * 1.3639800059884697, s.lossSum, tol);
    assertEquals(0.05, delta.get(0), tol);
    assertEquals(-1.1, delta.get(1), tol);
    assertEquals(1.05, delta.get(2), tol);
    assertEquals(0.0, s.correctWeight, 0.0); // argmax is class 2, label is 1
    // logits are left unchanged when delta is a separate buffer
    assertEquals(Math.log(5), logits.get(2), tol);
  }

  /**
   * Label smoothing, binomial, one row: z = ln 3 gives sigmoid(z) = 3/4. y = 1, eps = 0.1:
   * t = 0.9 + 0.05 = 0.95. Loss = -(0.95 ln(3/4) + 0.05 ln(1/4)) = ln 4 - 0.95 ln 3
   * ~= 1.3862944 - 1.0436817 = 0.3426127; dz = 3/4 - 0.95 = -0.2.
   * With y = 0: t = 0.05, loss = -(0.05 ln(3/4) + 0.95 ln(1/4)) = ln 4 - 0.05 ln 3, dz = 0.7.
   */
  @ParameterizedTest
  @EnumSource(Precision.class)
  void labelSmoothingBinomialClosedForm(Precision prec) {
    ComputeBackend be = backend(prec);
    double tol = be.precision() == Precision.FLOAT64 ? 1e-12 : 1e-6;
    Buf logits = NnFixtures.buf(be, new double[] {Math.log(3), Math.log(3)});
    Buf delta = be.allocate(2);
    LossStats s = new LossStats();
    be.sigmoidCrossEntropy(logits, 1, new double[] {1, 0}, null, 0, 0.1, delta, s);
    assertEquals(Math.log(4) - 0.95 * Math.log(3), s.lossSum, tol);
    assertEquals(0.3426126868851863, s.lossSum, 1e-6);
    assertEquals(-0.2, delta.get(0), tol);
    assertEquals(1.0, s.correctWeight, 0.0);
    LossStats s0 = new LossStats();
    be.sigmoidCrossEntropy(logits, 1, new double[] {1, 0}, null, 1, 0.1, delta, s0);
    assertEquals(Math.log(4) - 0.05 * Math.log(3), s0.lossSum, tol);
    assertEquals(0.7, delta.get(0), tol);
    assertEquals(0.0, s0.correctWeight, 0.0);
  }

  /** Large logits do not overflow: the sigmoid loss uses the stable form, the softmax subtracts max. */
  @Test
  void extremeLogitsStayFinite() {
    ComputeBackend be = CpuBackend.FLOAT64;
    Buf z = NnFixtures.buf(be, new double[] {800, -800});
    Buf delta = be.allocate(2);
    LossStats s = new LossStats();
    be.sigmoidCrossEntropy(z, 2, new double[] {0, 1}, null, 0, 0.0, delta, s);
    assertEquals(1600, s.lossSum, 1e-9); // both confidently wrong by 800
    assertEquals(1.0, delta.get(0), 0.0);
    assertEquals(-1.0, delta.get(1), 0.0);
    Buf logits = NnFixtures.buf(be, new double[] {1000, 0, -1000});
    Buf d3 = be.allocate(3);
    LossStats s3 = new LossStats();
    be.softmaxCrossEntropy(logits, 3, 1, new double[] {1}, null, 0, 0.0, d3, s3);
    assertEquals(1000, s3.lossSum, 1e-9);
    assertEquals(1.0, d3.get(0), 0.0);
    assertEquals(-1.0, d3.get(1), 0.0);
    assertEquals(0.0, d3.get(2), 0.0);
  }
}
