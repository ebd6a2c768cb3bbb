package io.github.sparksam.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SgdTest {
  static final double TOL = 1e-12;
  // Shared fixture: w0, two fixed gradients, lr = 0.1.
  static final double[] W0 = {1.0, -2.0, 0.5};
  static final double[] G1 = {0.5, -1.0, 2.0};
  static final double[] G2 = {0.25, 0.5, -1.0};
  static final double LR = 0.1;

  @Test
  void plainSgdTwoSteps() {
    Sgd opt = new Sgd();
    double[] w = W0.clone();
    OptimizerState s = opt.init(3);
    assertEquals(0, s.slotNames.length, "plain SGD keeps no slots");
    opt.step(w, G1, LR, s);
    // w1 = w0 - 0.1*g1 = [1 - 0.05, -2 + 0.1, 0.5 - 0.2]
    assertArrayEquals(new double[] {0.95, -1.9, 0.3}, w, TOL);
    opt.step(w, G2, LR, s);
    // w2 = w1 - 0.1*g2 = [0.95 - 0.025, -1.9 - 0.05, 0.3 + 0.1]
    assertArrayEquals(new double[] {0.925, -1.95, 0.4}, w, TOL);
    assertEquals(2, s.step);
  }

  @Test
  void heavyBallTwoSteps() {
    Sgd opt = new Sgd(0.9, false);
    double[] w = W0.clone();
    double[] g1 = G1.clone();
    OptimizerState s = opt.init(3);
    opt.step(w, g1, LR, s);
    // v1 = 0.9*0 + g1 = [0.5, -1, 2]; w1 = w0 - 0.1*v1 = [0.95, -1.9, 0.3]
    assertArrayEquals(new double[] {0.5, -1.0, 2.0}, s.slot("momentum"), TOL);
    assertArrayEquals(new double[] {0.95, -1.9, 0.3}, w, TOL);
    opt.step(w, G2, LR, s);
    // v2 = 0.9*v1 + g2 = [0.45+0.25, -0.9+0.5, 1.8-1.0] = [0.7, -0.4, 0.8]
    // w2 = w1 - 0.1*v2 = [0.95-0.07, -1.9+0.04, 0.3-0.08] = [0.88, -1.86, 0.22]
    assertArrayEquals(new double[] {0.7, -0.4, 0.8}, s.slot("momentum"), TOL);
    assertArrayEquals(new double[] {0.88, -1.86, 0.22}, w, TOL);
    assertArrayEquals(G1, g1, 0.0, "gradient must not be modified");
    assertEquals(2, s.step);
  }

  @Test
  void nesterovTwoSteps() {
    Sgd opt = new Sgd(0.9, true);
    double[] w = W0.clone();
    OptimizerState s = opt.init(3);
    opt.step(w, G1, LR, s);
    // v1 = g1; w1 = w0 - 0.1*(g1 + 0.9*v1) = w0 - 0.19*g1 = [1-0.095, -2+0.19, 0.5-0.38]
    assertArrayEquals(new double[] {0.905, -1.81, 0.12}, w, TOL);
    opt.step(w, G2, LR, s);
    // v2 = [0.7, -0.4, 0.8]; g2 + 0.9*v2 = [0.25+0.63, 0.5-0.36, -1+0.72] = [0.88, 0.14, -0.28]
    // w2 = w1 - 0.1*[0.88, 0.14, -0.28] = [0.905-0.088, -1.81-0.014, 0.12+0.028]
    assertArrayEquals(new double[] {0.7, -0.4, 0.8}, s.slot("momentum"), TOL);
    assertArrayEquals(new double[] {0.817, -1.824, 0.148}, w, TOL);
    assertEquals(2, s.step);
  }

  @Test
  void stateSlotsAndDeepCopy() {
    Sgd opt = new Sgd(0.5, false);
    OptimizerState s = opt.init(2);
    assertArrayEquals(new String[] {"momentum"}, s.slotNames);
    double[] w = {1.0, 1.0};
    opt.step(w, new double[] {1.0, 2.0}, 0.1, s);
    OptimizerState c = s.copy();
    assertNotSame(s.slot("momentum"), c.slot("momentum"));
    opt.step(w, new double[] {1.0, 2.0}, 0.1, s);
    assertEquals(2, s.step);
    assertEquals(1, c.step);
    // the copy still holds v1 = g1
    assertArrayEquals(new double[] {1.0, 2.0}, c.slot("momentum"), 0.0);
    // continuing from the copy reproduces the original trajectory
    double[] w2 = {0.9, 0.8};
    opt.step(w2, new double[] {1.0, 2.0}, 0.1, c);
    assertArrayEquals(w, w2, TOL);
    assertThrows(IllegalArgumentException.class, () -> s.slot("m"));
  }

  @Test
  void validationAndToString() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Sgd(1.0, false));
    assertTrue(e.getMessage().contains("momentum"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new Sgd(-0.1, false));
    assertTrue(e.getMessage().contains("momentum") && e.getMessage().contains("-0.1"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new Sgd(Double.NaN, false));
    e = assertThrows(IllegalArgumentException.class, () -> new Sgd(0.0, true));
    assertTrue(e.getMessage().contains("Nesterov"), e.getMessage());
    assertEquals("Sgd(momentum=0.9, nesterov=true, dampening=0.0)", new Sgd(0.9, true).toString());
    assertEquals("Sgd(momentum=0.0, nesterov=false, dampening=0.0)", new Sgd().toString());
  }

  @Test
  void lengthMismatchIsRejected() {
    Sgd opt = new Sgd(0.9, false);
    OptimizerState s = opt.init(3);
    assertThrows(IllegalArgumentException.class, () -> opt.step(new double[3], new double[2], 0.1, s));
    assertThrows(IllegalArgumentException.class, () -> opt.step(new double[2], new double[2], 0.1, s));
  }
}
