package io.github.sparksam.optim;

import static io.github.sparksam.optim.SgdTest.G1;
import static io.github.sparksam.optim.SgdTest.G2;
import static io.github.sparksam.optim.SgdTest.TOL;
import static io.github.sparksam.optim.SgdTest.W0;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import org.junit.jupiter.api.Test;

class AdamWTest {
  // Same Adam settings and data as AdamTest (beta1 0.9, beta2 0.99, eps 0.1, lr 0.1), plus
  // weightDecay = 0.5 and mask [1, 0, 1]: entries 0 and 2 are multiplied by 1 - 0.1*0.5 = 0.95
  // before each Adam step, entry 1 is not. The Adam updates do not depend on w (fixed gradients),
  // so they are AdamTest's: u1 = [0.0833333333, -0.0909090909, 0.0952380952],
  // u2 = W1 - W2 of AdamTest = [0.0744753847, -0.0236712200, 0.0250812675].
  //   w1 = [0.95*1 - 0.0833333, -2 + 0.0909091, 0.95*0.5 - 0.0952381]
  //      = [0.8666666667, -1.9090909091, 0.3797619048]
  //   w2 = [0.95*0.8666667 - 0.0744754, -1.9090909 + 0.0236712, 0.95*0.3797619 - 0.0250813]
  //      = [0.7488579486, -1.8854196891, 0.3356925420]
  static final double[] MASK = {1.0, 0.0, 1.0};

  @Test
  void twoStepTraceWithMask() {
    AdamW opt = new AdamW(0.9, 0.99, 0.1, 0.5, MASK);
    double[] w = W0.clone();
    OptimizerState s = opt.init(3);
    assertArrayEquals(new String[] {"m", "v"}, s.slotNames);
    opt.step(w, G1, 0.1, s);
    assertArrayEquals(new double[] {0.8666666666666666, -1.9090909090909092, 0.37976190476190474}, w, TOL);
    opt.step(w, G2, 0.1, s);
    assertArrayEquals(new double[] {0.7488579486122661, -1.8854196890913626, 0.33569254204861515}, w, TOL);
    // the undecayed entry follows plain Adam exactly
    assertEquals(AdamTest.W2[1], w[1], TOL);
    assertEquals(2, s.step);
  }

  @Test
  void nullMaskDecaysEverythingAndZeroDecayIsAdam() {
    double[] all = W0.clone();
    AdamW opt = new AdamW(0.9, 0.99, 0.1, 0.5, null);
    OptimizerState s = opt.init(3);
    opt.step(all, G1, 0.1, s);
    // entry 1: 0.95*(-2) + 0.1/1.1 = -1.9 + 0.0909090909
    assertEquals(-1.8090909090909091, all[1], TOL);

    double[] noDecay = W0.clone();
    AdamW opt0 = new AdamW(0.9, 0.99, 0.1, 0.0, MASK);
    OptimizerState s0 = opt0.init(3);
    opt0.step(noDecay, G1, 0.1, s0);
    assertArrayEquals(AdamTest.W1, noDecay, TOL);
  }

  @Test
  void validation() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new AdamW(0.9, 0.999, 1e-8, -0.01, null));
    assertTrue(e.getMessage().contains("weightDecay"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new AdamW(0.9, 0.999, 1e-8, 0.01, new double[] {1, 2}));
    assertTrue(e.getMessage().contains("decayMask[1]"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new AdamW(0.9, 1.5, 1e-8, 0.01, null));
    assertTrue(e.getMessage().contains("beta2"), e.getMessage());
    AdamW opt = new AdamW(0.9, 0.999, 1e-8, 0.01, MASK);
    e = assertThrows(IllegalArgumentException.class, () -> opt.init(4));
    assertTrue(e.getMessage().contains("decayMask"), e.getMessage());
  }

  @Test
  void maskIsCopiedAndToString() {
    double[] mask = MASK.clone();
    AdamW opt = new AdamW(0.9, 0.999, 1e-8, 0.01, mask);
    mask[1] = 1.0;
    assertArrayEquals(MASK, opt.decayMask(), 0.0);
    assertEquals(
        "AdamW(beta1=0.9, beta2=0.999, epsilon=1.0E-8, weightDecay=0.01, decayMask=2/3)", opt.toString());
    assertTrue(new AdamW(0.9, 0.999, 1e-8, 0.01, null).toString().contains("decayMask=all"));
  }

  @Test
  void badCallLeavesParamsUntouched() {
    AdamW opt = new AdamW(0.9, 0.999, 1e-8, 0.5, null);
    OptimizerState s = opt.init(3);
    double[] w = W0.clone();
    assertThrows(IllegalArgumentException.class, () -> opt.step(w, new double[2], 0.1, s));
    assertArrayEquals(W0, w, 0.0);
  }

  @Test
  void serialisableForBroadcast() throws Exception {
    AdamW opt = new AdamW(0.9, 0.99, 0.1, 0.5, MASK);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(opt);
      out.writeObject(opt.init(3));
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      Optimizer back = (Optimizer) in.readObject();
      OptimizerState s = (OptimizerState) in.readObject();
      assertEquals(opt.toString(), back.toString());
      double[] w = W0.clone();
      back.step(w, G1, 0.1, s);
      assertArrayEquals(new double[] {0.8666666666666666, -1.9090909090909092, 0.37976190476190474}, w, TOL);
    }
  }
}
