package io.github.sparksam.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.nn.Network.Head;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Parameter layout of the model family and argument validation of {@link Network}. */
class ParamLayoutTest {

  @Test
  void mlpLayoutSizesOffsetsAndKinds() {
    // 5 -> 6 -> 4 -> 3: W1 6x5=30 @0, b1 6 @30, W2 4x6=24 @36, b2 4 @60, W3 3x4=12 @64, b3 3 @76; 79 in all
    Network net = Network.mlp(5, new int[] {6, 4}, 3, Activation.TANH, Head.MULTINOMIAL);
    ParamLayout layout = net.layout();
    assertEquals(79, layout.size());
    assertEquals(79, net.numParams());
    List<ParamLayout.Tensor> ts = layout.tensors();
    assertEquals(6, ts.size());
    String[] names = {"W1", "b1", "W2", "b2", "W3", "b3"};
    int[] offsets = {0, 30, 36, 60, 64, 76};
    int[] rows = {6, 6, 4, 4, 3, 3};
    int[] cols = {5, 1, 6, 1, 4, 1};
    for (int i = 0; i < 6; i++) {
      ParamLayout.Tensor t = ts.get(i);
      assertEquals(names[i], t.name());
      assertEquals(offsets[i], t.offset(), names[i]);
      assertEquals(rows[i], t.rows(), names[i]);
      assertEquals(cols[i], t.cols(), names[i]);
      assertEquals(rows[i] * cols[i], t.size(), names[i]);
      assertEquals(i % 2 == 0 ? ParamLayout.Kind.WEIGHT : ParamLayout.Kind.BIAS, t.kind(), names[i]);
      assertEquals(t, layout.tensor(names[i]));
    }
    assertEquals("ParamLayout(79 params: W1[6x5] b1[6x1] W2[4x6] b2[4x1] W3[3x4] b3[3x1])", layout.toString());
    assertEquals(5, net.numFeatures());
    assertEquals(3, net.numClasses());
    assertEquals(3, net.numOutputs());
    assertArrayEquals(new int[] {6, 4}, net.hiddenLayers());
    assertEquals("MLP[5, 6, 4, 3](tanh), 79 params", net.toString());
  }

  @Test
  void weightMaskIsOneOnWeightsZeroOnBiases() {
    Network net = Network.mlp(5, new int[] {6, 4}, 3, Activation.RELU, Head.MULTINOMIAL);
    double[] mask = net.layout().weightMask();
    assertEquals(79, mask.length);
    for (int i = 0; i < 79; i++) {
      boolean bias = (i >= 30 && i < 36) || (i >= 60 && i < 64) || i >= 76;
      assertEquals(bias ? 0.0 : 1.0, mask[i], "mask[" + i + "]");
    }
  }

  @Test
  void linearLayouts() {
    Network lr = Network.linear(5, 2, Head.BINOMIAL);
    assertEquals(6, lr.numParams());
    assertEquals(1, lr.numOutputs());
    assertEquals(2, lr.numClasses());
    assertEquals(0, lr.hiddenLayers().length);
    assertEquals("ParamLayout(6 params: W1[1x5] b1[1x1])", lr.layout().toString());
    assertArrayEquals(new double[] {1, 1, 1, 1, 1, 0}, lr.layout().weightMask());
    assertEquals("LogisticRegression[5, 1], 6 params", lr.toString());

    Network sm = Network.linear(5, 4, Head.MULTINOMIAL);
    assertEquals(24, sm.numParams());
    assertEquals(20, sm.layout().tensor("b1").offset());
    assertEquals("SoftmaxRegression[5, 4], 24 params", sm.toString());

    // a two-class multinomial model keeps two logits
    assertEquals(2, Network.linear(5, 2, Head.MULTINOMIAL).numOutputs());
    // binomial MLP: last layer has one unit
    Network bm = Network.mlp(5, new int[] {3}, 2, Activation.RELU, Head.BINOMIAL);
    assertEquals(5 * 3 + 3 + 3 + 1, bm.numParams());
  }

  @Test
  void unknownTensorIsRejected() {
    ParamLayout layout = Network.linear(3, 2, Head.BINOMIAL).layout();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> layout.tensor("W2"));
    assertTrue(e.getMessage().contains("W2"), e.getMessage());
  }

  @Test
  void builderOrderAndOverflow() {
    ParamLayout l = new ParamLayout.Builder().add("a", 2, 3, ParamLayout.Kind.WEIGHT)
        .add("c", 4, 1, ParamLayout.Kind.BIAS).build();
    assertEquals(10, l.size());
    assertEquals(6, l.tensor("c").offset());
    assertThrows(UnsupportedOperationException.class, () -> l.tensors().clear());
    assertThrows(IllegalArgumentException.class,
        () -> new ParamLayout.Builder().add("huge", 65536, 65536, ParamLayout.Kind.WEIGHT));
  }

  @Test
  void networkRejectsBadArguments() {
    assertThrows(IllegalArgumentException.class, () -> Network.linear(5, 1, Head.MULTINOMIAL));
    assertThrows(IllegalArgumentException.class, () -> Network.linear(5, 0, Head.MULTINOMIAL));
    assertThrows(IllegalArgumentException.class, () -> Network.linear(5, 1, Head.BINOMIAL));
    assertThrows(IllegalArgumentException.class, () -> Network.linear(5, 3, Head.BINOMIAL));
    assertThrows(IllegalArgumentException.class,
        () -> Network.mlp(5, new int[] {4}, 3, Activation.RELU, Head.BINOMIAL));
    assertThrows(IllegalArgumentException.class,
        () -> Network.mlp(5, new int[] {0}, 3, Activation.RELU, Head.MULTINOMIAL));
    assertThrows(IllegalArgumentException.class,
        () -> Network.mlp(5, new int[] {4, 0}, 3, Activation.TANH, Head.MULTINOMIAL));
    assertThrows(IllegalArgumentException.class,
        () -> Network.mlp(5, new int[] {-2}, 3, Activation.TANH, Head.MULTINOMIAL));
    assertThrows(IllegalArgumentException.class, () -> Network.linear(0, 3, Head.MULTINOMIAL));
  }

  @Test
  void mlpCopiesHiddenSizes() {
    int[] hidden = {4, 3};
    Network net = Network.mlp(5, hidden, 3, Activation.TANH, Head.MULTINOMIAL);
    hidden[0] = 100;
    assertArrayEquals(new int[] {4, 3}, net.hiddenLayers());
  }

  @Test
  void activationParse() {
    assertEquals(Activation.RELU, Activation.parse("ReLU"));
    assertEquals(Activation.TANH, Activation.parse("tanh"));
    assertEquals("relu", Activation.RELU.paramValue());
    assertThrows(IllegalArgumentException.class, () -> Activation.parse("sigmoid"));
  }
}
