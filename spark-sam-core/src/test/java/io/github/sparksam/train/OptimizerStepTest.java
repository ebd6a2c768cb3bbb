package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.nn.Network;
import io.github.sparksam.optim.GradientClipping;
import io.github.sparksam.optim.OptimizerState;
import io.github.sparksam.optim.Sgd;
import org.junit.jupiter.api.Test;

/** The step's refusal of a non-finite direction, without the BLAS norm it used to take. */
class OptimizerStepTest {

  @Test
  void allFiniteFindsEveryNaNAndInfinityAtEveryPositionAndNothingElse() {
    double[] finite = {0.0, -0.0, Double.MAX_VALUE, -Double.MAX_VALUE, Double.MIN_VALUE, -Double.MIN_NORMAL, 1e-310, 1.0};
    assertTrue(GradientClipping.allFinite(new double[0]));
    for (int n : new int[] {1, 7, 8, 9, 33, 1000}) {
      double[] v = new double[n];
      for (int i = 0; i < n; i++) v[i] = finite[i % finite.length];
      assertTrue(GradientClipping.allFinite(v), "finite, n " + n);
      for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
          Double.longBitsToDouble(0xfff8_0000_0000_0001L)}) {
        for (int at : new int[] {0, n / 2, n - 1}) {
          double[] w = v.clone();
          w[at] = bad;
          assertFalse(GradientClipping.allFinite(w), bad + " at " + at + " of " + n);
        }
      }
    }
  }

  @Test
  void aNonFiniteDirectionLeavesTheWeightsAsTheyWere() {
    Network net = Network.mlp(3, new int[] {2}, 2, io.github.sparksam.nn.Activation.RELU, Network.Head.MULTINOMIAL);
    OptimizerStep step = new OptimizerStep(new Sgd(0.9, false), 0.0, 0.0, net.layout());
    double[] params = new double[net.numParams()];
    for (int i = 0; i < params.length; i++) params[i] = 0.1 * i;
    double[] before = params.clone();
    OptimizerState state = new Sgd(0.9, false).init(params.length);
    double[] direction = new double[params.length];
    direction[3] = Double.POSITIVE_INFINITY;
    assertFalse(step.apply(params, direction, 0.1, state));
    assertArrayEquals(before, params, 0.0);
    direction[3] = 1.0;
    assertTrue(step.apply(params, direction, 0.1, state));
    assertEquals(before[3] - 0.1, params[3], 1e-15);
  }
}
