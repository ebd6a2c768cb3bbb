package io.github.sparksam.sam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.nn.ParamLayout;
import io.github.sparksam.sam.SharpnessAwareMinimization.PerturbationScope;
import io.github.sparksam.sam.SharpnessAwareMinimization.WeightDecayMode;
import io.github.sparksam.train.StepContext;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The task-side m-SAM step ({@link MicroBatchSam#accumulate}) and the driver's global step on
 * hand-checkable problems: spec 10.5 (m-SAM differs from SAM, count-weighted), 10.6 in the task,
 * 10.8 (logistic regression), 10.9 (softmax regression), the ReLU-rescaling part of 10.4 and
 * 10.18(d) (one micro-batch holding the whole batch is global SAM).
 */
class MicroBatchSamOracleTest {

  static final CpuBackend BE = CpuBackend.FLOAT64;

  /** A 1-D quadratic "micro-batch" of {@code count} unit-weight examples, each with loss (a/2)(w - c)^2. */
  static MicroBatchSam.MicroBatch quadratic(double a, double c, int count) {
    return (at, g, st) -> {
      g.set(0, g.get(0) + count * a * (at.get(0) - c));
      st.weightSum += count;
      st.count += count;
      st.lossSum += count * 0.5 * a * (at.get(0) - c) * (at.get(0) - c);
    };
  }

  static Buf buf(double... v) {
    Buf b = BE.allocate(v.length);
    b.setFrom(v, 0, 0, v.length);
    return b;
  }

  /** One task's direction sum over its micro-batches (what {@link MicroBatchSam#direction} adds up). */
  static double[] taskSum(Perturbation p, double lossL2, ParamLayout layout, double[] w, LossStats stats,
                          MicroBatchSam.MicroBatch... microBatches) {
    int n = w.length;
    Buf params = buf(w), grad = BE.allocate(n);
    for (MicroBatchSam.MicroBatch mb : microBatches) {
      MicroBatchSam.accumulate(p, lossL2, 0.0, layout, params, mb, BE.allocate(n), BE.allocate(n), new double[n],
          new double[n], grad, stats);
    }
    double[] out = new double[n];
    grad.addTo(out, 0, 0, n, 1.0);
    for (int i = 0; i < n; i++) assertEquals(w[i], params.get(i), 0.0, "params must be left unchanged");
    return out;
  }

  @Test
  void mSamDiffersFromSamOnTwoPartitions() {   // 10.5: L1 = (w-1)^2/2, L2 = 3 (w+1/3)^2/2, w = 0
    SamPerturbation p = new SamPerturbation(0.05);
    LossStats s1 = new LossStats(), s2 = new LossStats();
    double[] sum1 = taskSum(p, 0, null, new double[] {0}, s1, quadratic(1, 1, 2));
    double[] sum2 = taskSum(p, 0, null, new double[] {0}, s2, quadratic(3, -1.0 / 3, 2));
    double mSam = (sum1[0] + sum2[0]) / (s1.weightSum + s2.weightSum);
    assertEquals(0.05, mSam, 1e-12);
    // global SAM: the mean clean gradient is 0, so eps = 0 and g_SAM = 0
    SharpnessAwareMinimization global = new SharpnessAwareMinimization(p, PerturbationScope.GLOBAL, 0,
        WeightDecayMode.DECOUPLED, 0, null);
    double gSam = global.globalStep(new double[] {0}, at -> pooledPass(at, quadratic(1, 1, 2), quadratic(3, -1.0 / 3, 2)))
        .direction()[0];
    assertEquals(0.0, gSam, 1e-15);
    // unequal counts: the count-weighted mean (1 * (-1.05) + 3 * 1.15) / 4
    s1 = new LossStats();
    s2 = new LossStats();
    sum1 = taskSum(p, 0, null, new double[] {0}, s1, quadratic(1, 1, 1));
    sum2 = taskSum(p, 0, null, new double[] {0}, s2, quadratic(3, -1.0 / 3, 3));
    assertEquals(0.6, (sum1[0] + sum2[0]) / (s1.weightSum + s2.weightSum), 1e-12);
    // clean stats are reported: 4 examples
    assertEquals(4, s1.count + s2.count);
  }

  /** A pass whose batch is the union of {@code parts}. */
  static StepContext.Pass pooledPass(double[] at, MicroBatchSam.MicroBatch... parts) {
    Buf g = BE.allocate(at.length);
    LossStats st = new LossStats();
    for (MicroBatchSam.MicroBatch mb : parts) mb.gradient(buf(at), g, st);
    double[] sum = new double[at.length];
    g.addTo(sum, 0, 0, at.length, 1.0);
    return new StepContext.Pass(sum, st);
  }

  @Test
  void oneMicroBatchHoldingTheWholeBatchIsGlobalSam() {   // 10.18(d)
    MicroBatchSam.MicroBatch both = (at, g, st) -> {
      quadratic(1, 1, 2).gradient(at, g, st);
      quadratic(3, -0.2, 5).gradient(at, g, st);
    };
    for (WeightDecayMode mode : WeightDecayMode.values()) {
      SamPerturbation p = new SamPerturbation(0.05);
      double lossL2 = mode == WeightDecayMode.LOSS ? 0.1 : 0;
      LossStats st = new LossStats();
      double[] sum = taskSum(p, lossL2, null, new double[] {0.4}, st, both);
      SharpnessAwareMinimization global = new SharpnessAwareMinimization(p, PerturbationScope.GLOBAL, 0, mode, 0.1, null);
      double g = global.globalStep(new double[] {0.4}, at -> pooledPass(at, both)).direction()[0];
      assertEquals(g, sum[0] / st.weightSum, 1e-14, mode.toString());
    }
  }

  @Test
  void weightDecayStylesInTheTask() {   // 10.6 with the trainer's coupled 0.1 * w added afterwards
    LossStats st = new LossStats();
    double a = taskSum(new SamPerturbation(0.05), 0, null, new double[] {1}, st, quadratic(2, 0, 1))[0];
    assertEquals(2.2, a / st.weightSum + 0.1 * 1, 1e-12);
    st = new LossStats();
    double b = taskSum(new SamPerturbation(0.05), 0.1, null, new double[] {1}, st, quadratic(2, 0, 1))[0];
    assertEquals(2.205, b / st.weightSum + 0.1 * 1, 1e-12);
  }

  @Test
  void zeroWeightMicroBatchAddsNothing() {
    double[] sum = taskSum(new SamPerturbation(0.05), 0, null, new double[] {1}, new LossStats(), quadratic(2, 0, 0));
    assertEquals(0.0, sum[0], 0.0);
  }

  // ---------------------------------------------------------------- model families, float64

  /** One example through {@code net}; the bias gradient is zeroed (the oracles have no intercept). */
  static MicroBatchSam.MicroBatch example(Network net, double[] x, double label, boolean freezeBias) {
    Network.Workspace ws = net.newWorkspace(BE, 1);
    return (at, g, st) -> {
      Buf tmp = BE.allocate(net.numParams());
      net.lossAndGradient(at, buf(x), 1, new double[] {label}, new double[] {1.0}, 0, 0.0, tmp, ws, st);
      for (ParamLayout.Tensor t : net.layout().tensors()) {
        if (freezeBias && t.kind() == ParamLayout.Kind.BIAS) continue;
        for (int i = t.offset(); i < t.offset() + t.size(); i++) g.set(i, g.get(i) + tmp.get(i));
      }
    };
  }

  static double[] samDirection(Perturbation p, Network net, double[] w, MicroBatchSam.MicroBatch mb) {
    LossStats st = new LossStats();
    double[] sum = taskSum(p, 0, net.layout(), w, st, mb);
    double[] viaGlobal = new SharpnessAwareMinimization(p, PerturbationScope.GLOBAL, 0, WeightDecayMode.DECOUPLED, 0,
        net.layout()).globalStep(w, at -> pooledPass(at, mb)).direction();
    for (int i = 0; i < sum.length; i++) sum[i] /= st.weightSum;
    assertArrayEquals(viaGlobal, sum, 1e-15);
    return sum;
  }

  @Test
  void binaryLogisticRegressionOneExample() {   // 10.8: x = (1, 2), y = +1, w = 0, rho = 0.1
    Network net = Network.linear(2, 2, Network.Head.BINOMIAL);   // W1 (1x2), b1
    MicroBatchSam.MicroBatch mb = example(net, new double[] {1, 2}, 1.0, true);
    double[] w = new double[3];
    double[] clean = pooledPass(w, mb).directionSum();
    assertArrayEquals(new double[] {-0.5, -1.0, 0}, clean, 1e-15);
    double[] eps = new double[3];
    new SamPerturbation(0.1).perturb(clean, w, eps);
    assertArrayEquals(new double[] {-0.0447213595, -0.0894427191, 0}, eps, 1e-10);
    assertArrayEquals(new double[] {-0.5556699, -1.1113399, 0}, samDirection(new SamPerturbation(0.1), net, w, mb), 1e-7);
    // ASAM (weights scope; the frozen bias has zero gradient): eta = 0 gives eps = 0 at w = 0
    Perturbation asam0 = new AsamPerturbation(0.1, 0.0, AsamPerturbation.Scope.WEIGHTS, net.layout());
    assertEquals(0.0, asam0.perturb(clean, w, eps), 0.0);
    assertArrayEquals(new double[3], eps, 0.0);
    assertArrayEquals(clean, samDirection(asam0, net, w, mb), 0.0);
    Perturbation asam = new AsamPerturbation(0.1, 0.01, AsamPerturbation.Scope.WEIGHTS, net.layout());
    asam.perturb(clean, w, eps);
    assertArrayEquals(new double[] {-0.00044721, -0.00089443, 0}, eps, 1e-8);
    assertArrayEquals(new double[] {-0.50055902, -1.00111803, 0}, samDirection(asam, net, w, mb), 1e-8);
  }

  @Test
  void softmaxRegressionOneExample() {   // 10.9
    Network net = Network.linear(2, 3, Network.Head.MULTINOMIAL);   // W1 3x2 column-major, b1 (3)
    double[][] rows = {{0.5, 0.25}, {0, 0.5}, {-0.5, 0}};
    double[] w = new double[net.numParams()];
    for (int r = 0; r < 3; r++) for (int c = 0; c < 2; c++) w[r + 3 * c] = rows[r][c];
    MicroBatchSam.MicroBatch mb = example(net, new double[] {1, 2}, 0.0, true);
    double[] clean = pooledPass(w, mb).directionSum();
    double[][] cleanRows = {{-0.5501838, -1.1003676}, {0.4498162, 0.8996324}, {0.1003676, 0.2007351}};
    double[][] samRows = {{-0.5860060, -1.1720121}, {0.4837794, 0.9675587}, {0.1022267, 0.2044534}};
    assertEquals(1.6048528, PerturbationTest.norm(clean), 1e-7);
    double[] sam = samDirection(new SamPerturbation(0.05), net, w, mb);
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 2; c++) {
        assertEquals(cleanRows[r][c], clean[r + 3 * c], 1e-7, "clean " + r + "," + c);
        assertEquals(samRows[r][c], sam[r + 3 * c], 1e-7, "sam " + r + "," + c);
      }
    }
    for (int i = 6; i < 9; i++) assertEquals(0.0, sam[i], 0.0);
  }

  /** Mean loss at {@code w + eps(w)} on a fixed batch. */
  static double perturbedLoss(Network net, Perturbation p, double[] w, double[] x, double[] labels) {
    int n = labels.length;
    Network.Workspace ws = net.newWorkspace(BE, n);
    double[] ones = new double[n];
    java.util.Arrays.fill(ones, 1.0);
    Buf g = BE.allocate(net.numParams());
    LossStats st = new LossStats();
    net.lossAndGradient(buf(w), buf(x), n, labels, ones, 0, 0.0, g, ws, st);
    double[] mean = new double[w.length];
    g.addTo(mean, 0, 0, w.length, 1.0 / st.weightSum);
    double[] eps = new double[w.length];
    p.perturb(mean, w, eps);
    double[] at = w.clone();
    for (int i = 0; i < at.length; i++) at[i] += eps[i];
    LossStats s2 = new LossStats();
    net.loss(buf(at), buf(x), n, labels, ones, 0, 0.0, ws, s2);
    return s2.meanLoss();
  }

  @Test
  void asamAllParametersIsInvariantToReluLayerRescaling() {   // 10.4, second part
    Network net = Network.mlp(3, new int[] {4}, 3, Activation.RELU, Network.Head.MULTINOMIAL);
    SplittableRandom r = new SplittableRandom(9);
    double[] w = new double[net.numParams()];
    for (int i = 0; i < w.length; i++) w[i] = 2 * r.nextDouble() - 1;   // b1 != 0
    int n = 6;
    double[] x = new double[3 * n], labels = new double[n];
    for (int i = 0; i < x.length; i++) x[i] = 2 * r.nextDouble() - 1;
    for (int i = 0; i < n; i++) labels[i] = i % 3;
    double c = 2.5;
    double[] v = w.clone();
    ParamLayout lay = net.layout();
    for (String name : new String[] {"W1", "b1"}) {
      ParamLayout.Tensor t = lay.tensor(name);
      for (int i = t.offset(); i < t.offset() + t.size(); i++) v[i] *= c;
    }
    ParamLayout.Tensor w2 = lay.tensor("W2");
    for (int i = w2.offset(); i < w2.offset() + w2.size(); i++) v[i] /= c;
    Perturbation all = AsamPerturbation.allParameters(0.5, 0.0);
    double la = perturbedLoss(net, all, w, x, labels), lb = perturbedLoss(net, all, v, x, labels);
    assertEquals(la, lb, 1e-12 * Math.abs(la));
    Perturbation weights = new AsamPerturbation(0.5, 0.0, AsamPerturbation.Scope.WEIGHTS, lay);
    double wa = perturbedLoss(net, weights, w, x, labels), wb = perturbedLoss(net, weights, v, x, labels);
    assertTrue(Math.abs(wa - wb) > 1e-6, "weights-only ASAM should not be invariant: " + wa + " vs " + wb);
    Perturbation sam = new SamPerturbation(0.5);
    assertTrue(Math.abs(perturbedLoss(net, sam, w, x, labels) - perturbedLoss(net, sam, v, x, labels)) > 1e-6);
  }
}
