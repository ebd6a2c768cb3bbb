package io.github.sparksam.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.nn.Network.Head;
import io.github.sparksam.nn.NnFixtures.Problem;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A block of rows is the sum of its rows; forward on a block matches the reference and predictRaw. */
class BlockInvarianceTest {
  static final int N = 10;
  static final int D = 5;

  static Stream<Arguments> models() {
    return Stream.of(
        Arguments.of("softmax K=4", (Supplier<Network>) () -> Network.linear(D, 4, Head.MULTINOMIAL)),
        Arguments.of("logistic", (Supplier<Network>) () -> Network.linear(D, 2, Head.BINOMIAL)),
        Arguments.of("mlp[7] relu K=3",
            (Supplier<Network>) () -> Network.mlp(D, new int[] {7}, 3, Activation.RELU, Head.MULTINOMIAL)),
        Arguments.of("mlp[6,4] tanh K=4",
            (Supplier<Network>) () -> Network.mlp(D, new int[] {6, 4}, 4, Activation.TANH, Head.MULTINOMIAL)),
        Arguments.of("mlp[6,3] relu binomial",
            (Supplier<Network>) () -> Network.mlp(D, new int[] {6, 3}, 2, Activation.RELU, Head.BINOMIAL)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void blockEqualsSumOfRows(String name, Supplier<Network> make) {
    ComputeBackend be = CpuBackend.FLOAT64;
    Network net = make.get();
    Problem p = NnFixtures.randomProblem(net, N, 42, 0.7);
    double eps = 0.1;
    // one workspace for both: a 10-row block, then single rows reusing the (larger) buffers
    Network.Workspace ws = net.newWorkspace(be, N);
    Buf params = NnFixtures.buf(be, p.params);
    Buf gBlock = be.allocate(net.numParams());
    LossStats sBlock = new LossStats();
    net.lossAndGradient(params, NnFixtures.buf(be, p.x), N, p.labels, p.weights, 0, eps, gBlock, ws, sBlock);

    Buf gRows = be.allocate(net.numParams());
    LossStats sRows = new LossStats();
    LossStats sRowsLossOnly = new LossStats();
    for (int i = 0; i < N; i++) {
      Buf xi = NnFixtures.buf(be, Arrays.copyOfRange(p.x, i * D, (i + 1) * D));
      // labels and weights are addressed through rowOff
      net.lossAndGradient(params, xi, 1, p.labels, p.weights, i, eps, gRows, ws, sRows);
      net.loss(params, xi, 1, p.labels, p.weights, i, eps, ws, sRowsLossOnly);
    }
    assertEquals(sBlock.lossSum, sRows.lossSum, 1e-12 * Math.abs(sBlock.lossSum));
    assertEquals(sBlock.lossSum, sRowsLossOnly.lossSum, 1e-12 * Math.abs(sBlock.lossSum));
    assertEquals(sBlock.weightSum, sRows.weightSum, 1e-12);
    assertEquals(sBlock.correctWeight, sRows.correctWeight, 1e-12);
    assertEquals(N, sBlock.count);
    assertEquals(N, sRows.count);
    double[] a = NnFixtures.toArray(gBlock, net.numParams());
    double[] b = NnFixtures.toArray(gRows, net.numParams());
    assertEquals(0.0, NnFixtures.relDiff(a, b), 1e-12, name);

    // also: two chunks of 4 and 6 rows (rowOff 4) sum to the block
    Buf gChunks = be.allocate(net.numParams());
    LossStats sChunks = new LossStats();
    net.lossAndGradient(params, NnFixtures.buf(be, Arrays.copyOfRange(p.x, 0, 4 * D)), 4, p.labels, p.weights, 0,
        eps, gChunks, ws, sChunks);
    net.lossAndGradient(params, NnFixtures.buf(be, Arrays.copyOfRange(p.x, 4 * D, N * D)), 6, p.labels, p.weights, 4,
        eps, gChunks, ws, sChunks);
    assertEquals(sBlock.lossSum, sChunks.lossSum, 1e-12 * Math.abs(sBlock.lossSum));
    assertEquals(0.0, NnFixtures.relDiff(a, NnFixtures.toArray(gChunks, net.numParams())), 1e-12, name);
  }

  /** A workspace built for 1 row grows when given a larger block. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void workspaceGrows(String name, Supplier<Network> make) {
    ComputeBackend be = CpuBackend.FLOAT64;
    Network net = make.get();
    Problem p = NnFixtures.randomProblem(net, N, 7, 0.7);
    Buf params = NnFixtures.buf(be, p.params);
    Buf x = NnFixtures.buf(be, p.x);
    Buf g1 = be.allocate(net.numParams()), g2 = be.allocate(net.numParams());
    LossStats s1 = new LossStats(), s2 = new LossStats();
    net.lossAndGradient(params, x, N, p.labels, p.weights, 0, 0.0, g1, net.newWorkspace(be, 1), s1);
    net.lossAndGradient(params, x, N, p.labels, p.weights, 0, 0.0, g2, net.newWorkspace(be, N), s2);
    assertEquals(s2.lossSum, s1.lossSum, 0.0);
    assertArrayEquals(NnFixtures.toArray(g2, net.numParams()), NnFixtures.toArray(g1, net.numParams()), 0.0);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void forwardMatchesReferenceAndPredictRaw(String name, Supplier<Network> make) {
    Network net = make.get();
    Problem p = NnFixtures.randomProblem(net, N, 3, 0.7);
    double[][] ref = NnFixtures.referencePreActivations(net, p.params, p.x, N);
    double[] refLogits = ref[ref.length - 1];
    int out = net.numOutputs();
    for (ComputeBackend be : new ComputeBackend[] {CpuBackend.FLOAT64, CpuBackend.FLOAT32}) {
      double tol = be == CpuBackend.FLOAT64 ? 1e-12 : 1e-5;
      Network.Workspace ws = net.newWorkspace(be, N);
      Buf logits = net.forward(NnFixtures.buf(be, p.params), NnFixtures.buf(be, p.x), N, ws);
      for (int i = 0; i < out * N; i++) {
        assertEquals(refLogits[i], logits.get(i), tol * (1 + Math.abs(refLogits[i])), be + " logit " + i);
      }
    }
    Network.Workspace pws = net.predictionWorkspace();
    for (int j = 0; j < N; j++) {
      double[] raw = net.predictRaw(p.params, Arrays.copyOfRange(p.x, j * D, (j + 1) * D), pws);
      assertEquals(net.numClasses(), raw.length);
      if (net.head() == Head.BINOMIAL) {
        double z = refLogits[j];
        assertEquals(-z, raw[0], 1e-12 * (1 + Math.abs(z)), "row " + j);
        assertEquals(z, raw[1], 1e-12 * (1 + Math.abs(z)), "row " + j);
      } else {
        for (int k = 0; k < out; k++) {
          assertEquals(refLogits[k + j * out], raw[k], 1e-12 * (1 + Math.abs(raw[k])), "row " + j + " class " + k);
        }
      }
    }
  }

  /**
   * predictRaw must use the parameters' current values: optimizers update the parameter array in
   * place, so a reused prediction workspace must not serve a stale copy of an earlier call.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void predictRawSeesInPlaceParameterUpdates(String name, Supplier<Network> make) {
    Network net = make.get();
    Problem p = NnFixtures.randomProblem(net, 1, 5, 0.7);
    Network.Workspace pws = net.predictionWorkspace();
    Network.Workspace pws32 = net.newWorkspace(CpuBackend.FLOAT32, 1);
    double[] before = net.predictRaw(p.params, p.x, pws);
    net.predictRaw(p.params, p.x, pws32);
    for (int i = 0; i < p.params.length; i++) p.params[i] *= -0.5; // in-place update, same array
    double[] after = net.predictRaw(p.params, p.x, pws);
    double[] fresh = net.predictRaw(p.params, p.x, net.predictionWorkspace());
    assertArrayEquals(fresh, after, 1e-12, name);
    assertArrayEquals(fresh, net.predictRaw(p.params, p.x, pws32), 1e-5, name + " (float32 workspace)");
    if (net.hiddenLayers().length == 0) {
      // linear logits scale with the parameters
      assertEquals(-0.5, after[after.length - 1] / before[before.length - 1], 1e-9, name);
    }
  }

  /** The binomial accuracy counts z > 0 as class 1, multinomial the argmax. */
  @Test
  void accuracyMatchesPredictRawArgmax() {
    for (Network net : new Network[] {
        Network.mlp(D, new int[] {6}, 3, Activation.TANH, Head.MULTINOMIAL),
        Network.mlp(D, new int[] {6}, 2, Activation.TANH, Head.BINOMIAL)}) {
      Problem p = NnFixtures.randomProblem(net, N, 11, 1.0);
      LossStats s = new LossStats();
      net.loss(NnFixtures.buf(CpuBackend.FLOAT64, p.params), NnFixtures.buf(CpuBackend.FLOAT64, p.x), N, p.labels,
          p.weights, 0, 0.0, net.newWorkspace(CpuBackend.FLOAT64, N), s);
      double correct = 0;
      Network.Workspace pws = net.predictionWorkspace();
      for (int j = 0; j < N; j++) {
        double[] raw = net.predictRaw(p.params, Arrays.copyOfRange(p.x, j * D, (j + 1) * D), pws);
        int arg = 0;
        for (int k = 1; k < raw.length; k++) if (raw[k] > raw[arg]) arg = k;
        if (arg == p.labels[j]) correct += p.weights[j];
      }
      assertEquals(correct, s.correctWeight, 1e-12, net.toString());
    }
  }
}
