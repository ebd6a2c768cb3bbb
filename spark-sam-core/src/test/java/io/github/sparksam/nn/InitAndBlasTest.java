package io.github.sparksam.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ludovic.netlib.blas.BLAS;
import io.github.sparksam.backend.BlasInfo;
import io.github.sparksam.nn.Network.Head;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** {@link Network#initialParams} and {@link BlasInfo}. */
class InitAndBlasTest {

  @Test
  void deterministicPerSeed() {
    Network net = Network.mlp(20, new int[] {16, 8}, 3, Activation.RELU, Head.MULTINOMIAL);
    assertArrayEquals(net.initialParams(5), net.initialParams(5), 0.0);
    assertFalse(Arrays.equals(net.initialParams(5), net.initialParams(6)));
  }

  @Test
  void linearModelsStartAtZero() {
    for (Network net : new Network[] {Network.linear(10, 4, Head.MULTINOMIAL), Network.linear(10, 2, Head.BINOMIAL)}) {
      double[] w = net.initialParams(123);
      assertEquals(net.numParams(), w.length);
      for (double v : w) assertEquals(0.0, v, 0.0);
    }
  }

  static double[] meanStd(double[] w, int off, int len) {
    double s = 0, ss = 0;
    for (int i = off; i < off + len; i++) s += w[i];
    double mean = s / len;
    for (int i = off; i < off + len; i++) ss += (w[i] - mean) * (w[i] - mean);
    return new double[] {mean, Math.sqrt(ss / len)};
  }

  @Test
  void heScaleForRelu() {
    Network net = Network.mlp(784, new int[] {128}, 10, Activation.RELU, Head.MULTINOMIAL);
    double[] w = net.initialParams(2024);
    ParamLayout.Tensor w1 = net.layout().tensor("W1");
    assertEquals(128 * 784, w1.size());
    double[] ms = meanStd(w, w1.offset(), w1.size());
    double he = Math.sqrt(2.0 / 784);
    assertTrue(Math.abs(ms[1] - he) < 0.2 * he, "W1 std " + ms[1] + " vs He " + he);
    assertTrue(Math.abs(ms[0]) < 0.05 * he, "W1 mean " + ms[0]);
    ParamLayout.Tensor w2 = net.layout().tensor("W2");
    double he2 = Math.sqrt(2.0 / 128);
    double[] ms2 = meanStd(w, w2.offset(), w2.size());
    assertTrue(Math.abs(ms2[1] - he2) < 0.2 * he2, "W2 std " + ms2[1] + " vs He " + he2);
    assertBiasesZero(net, w);
  }

  @Test
  void glorotScaleForTanh() {
    Network net = Network.mlp(300, new int[] {100}, 10, Activation.TANH, Head.MULTINOMIAL);
    double[] w = net.initialParams(9);
    ParamLayout.Tensor w1 = net.layout().tensor("W1");
    double glorot = Math.sqrt(2.0 / (300 + 100));
    double[] ms = meanStd(w, w1.offset(), w1.size());
    assertTrue(Math.abs(ms[1] - glorot) < 0.2 * glorot, "W1 std " + ms[1] + " vs Glorot " + glorot);
    assertBiasesZero(net, w);
  }

  static void assertBiasesZero(Network net, double[] w) {
    for (ParamLayout.Tensor t : net.layout().tensors()) {
      if (t.kind() != ParamLayout.Kind.BIAS) continue;
      for (int i = t.offset(); i < t.offset() + t.size(); i++) assertEquals(0.0, w[i], 0.0, t.name());
    }
  }

  @Test
  void blasInfoNamesTheImplementation() {
    String s = BlasInfo.describe();
    assertFalse(s.isBlank());
    String impl = BLAS.getInstance().getClass().getSimpleName();
    assertTrue(s.startsWith(impl), s + " should name " + impl);
  }
}
