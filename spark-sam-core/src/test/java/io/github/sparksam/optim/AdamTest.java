package io.github.sparksam.optim;

import static io.github.sparksam.optim.SgdTest.G1;
import static io.github.sparksam.optim.SgdTest.G2;
import static io.github.sparksam.optim.SgdTest.TOL;
import static io.github.sparksam.optim.SgdTest.W0;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AdamTest {
  // beta1 = 0.9, beta2 = 0.99, eps = 0.1 (large, so its placement matters), lr = 0.1.
  // w0 = [1, -2, 0.5], g1 = [0.5, -1, 2], g2 = [0.25, 0.5, -1].
  //
  // Step 1 (t = 1): m = 0.1*g1, v = 0.01*g1^2, bc1 = 0.1, bc2 = 0.01 => m_hat = g1, v_hat = g1^2,
  //   update = 0.1 * g / (|g| + 0.1) = [0.05/0.6, -0.1/1.1, 0.2/2.1]
  //          = [0.0833333333, -0.0909090909, 0.0952380952]
  //   w1 = [0.9166666667, -1.9090909091, 0.4047619048]
  // Step 2 (t = 2): m = 0.09*g1 + 0.1*g2 = [0.07, -0.04, 0.08]
  //   v = 0.0099*g1^2 + 0.01*g2^2 = [0.0031, 0.0124, 0.0496]
  //   bc1 = 1 - 0.81 = 0.19, bc2 = 1 - 0.9801 = 0.0199
  //   entry 0: m_hat = 0.07/0.19 = 0.368421, sqrt(0.0031/0.0199) = 0.394689,
  //            update = 0.1 * 0.368421 / 0.494689 = 0.0744753 => w = 0.8421913
  //   (entries 1, 2 likewise; values from python3 float64)
  static final double[] W1 = {0.9166666666666666, -1.9090909090909092, 0.40476190476190477};
  static final double[] W2 = {0.8421912819455994, -1.8854196890913626, 0.3796806372867104};

  @Test
  void twoStepTrace() {
    Adam opt = new Adam(0.9, 0.99, 0.1);
    double[] w = W0.clone();
    OptimizerState s = opt.init(3);
    opt.step(w, G1, 0.1, s);
    assertArrayEquals(W1, w, TOL);
    assertArrayEquals(new double[] {0.05, -0.1, 0.2}, s.slot("m"), TOL);
    assertArrayEquals(new double[] {0.0025, 0.01, 0.04}, s.slot("v"), TOL);
    assertEquals(1, s.step);
    opt.step(w, G2, 0.1, s);
    assertArrayEquals(W2, w, TOL);
    assertArrayEquals(new double[] {0.07, -0.04, 0.08}, s.slot("m"), TOL);
    assertArrayEquals(new double[] {0.0031, 0.0124, 0.0496}, s.slot("v"), TOL);
    assertEquals(2, s.step);
  }

  @Test
  void stateSlotsAndDeepCopy() {
    Adam opt = new Adam(0.9, 0.99, 0.1);
    OptimizerState s = opt.init(3);
    assertArrayEquals(new String[] {"m", "v"}, s.slotNames);
    assertEquals(0, s.step);
    double[] w = W0.clone();
    opt.step(w, G1, 0.1, s);
    OptimizerState c = s.copy();
    assertNotSame(s.slot("m"), c.slot("m"));
    assertNotSame(s.slot("v"), c.slot("v"));
    opt.step(w, G2, 0.1, s);
    assertEquals(1, c.step);
    assertArrayEquals(new double[] {0.05, -0.1, 0.2}, c.slot("m"), TOL);
    // resuming from the copy (including the bias-correction step count) reproduces step 2
    double[] w2 = W1.clone();
    opt.step(w2, G2, 0.1, c);
    assertArrayEquals(W2, w2, TOL);
  }

  @Test
  void validationAndToString() {
    for (double b : new double[] {-0.1, 1.0, Double.NaN}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Adam(b, 0.999, 1e-8));
      assertTrue(e.getMessage().contains("beta1"), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> new Adam(0.9, b, 1e-8));
      assertTrue(e.getMessage().contains("beta2"), e.getMessage());
    }
    for (double eps : new double[] {0.0, -1e-8, Double.NaN, Double.POSITIVE_INFINITY}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Adam(0.9, 0.999, eps));
      assertTrue(e.getMessage().contains("epsilon"), e.getMessage());
    }
    assertEquals("Adam(beta1=0.9, beta2=0.999, epsilon=1.0E-8)", new Adam().toString());
  }
}
