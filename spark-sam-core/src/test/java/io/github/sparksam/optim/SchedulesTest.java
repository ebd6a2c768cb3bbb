package io.github.sparksam.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class SchedulesTest {
  static final double TOL = 1e-12;

  @Test
  void constant() {
    ConstantRate c = new ConstantRate(0.1);
    assertEquals(0.1, c.rate(0, 100), TOL);
    assertEquals(0.1, c.rate(99, 100), TOL);
    assertEquals(0.1, c.rate(1000, -1), TOL); // horizon not needed
    assertEquals("ConstantRate(lr=0.1)", c.toString());
  }

  @Test
  void stepDecayBoundaries() {
    StepDecay s = new StepDecay(0.1, 10, 0.5);
    assertEquals(0.1, s.rate(0, 100), TOL);
    assertEquals(0.1, s.rate(9, 100), TOL);
    assertEquals(0.05, s.rate(10, 100), TOL); // 0.1 * 0.5
    assertEquals(0.05, s.rate(19, 100), TOL);
    assertEquals(0.025, s.rate(20, 100), TOL); // 0.1 * 0.5^2
    assertEquals("StepDecay(lr=0.1, stepSize=10, gamma=0.5)", s.toString());
  }

  @Test
  void cosineEndpointsAndMidpoint() {
    CosineDecay c = new CosineDecay(1.0, 0.1);
    assertEquals(1.0, c.rate(0, 100), TOL);
    assertEquals(0.55, c.rate(50, 100), TOL); // 0.1 + 0.9 * (1 + cos(pi/2)) / 2
    // 0.1 + 0.9 * (1 + cos(pi/4)) / 2 = 0.1 + 0.9 * 0.8535533906 = 0.8681980515
    assertEquals(0.8681980515339464, c.rate(25, 100), TOL);
    // last update: 0.1 + 0.9 * (1 + cos(0.99 pi)) / 2 = 0.1002220478
    assertEquals(0.10022204783542078, c.rate(99, 100), TOL);
    assertEquals(0.1, c.rate(100, 100), TOL);
    assertEquals(0.1, c.rate(500, 100), TOL);
    assertEquals("CosineDecay(lr=1.0, minLr=0.1)", c.toString());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.rate(0, 0));
    assertTrue(e.getMessage().contains("totalSteps"), e.getMessage());
  }

  @Test
  void warmupRamp() {
    LinearWarmup w = new LinearWarmup(4, new ConstantRate(0.2));
    assertEquals(0.05, w.rate(0, 100), TOL); // 0.2 * 1/4
    assertEquals(0.10, w.rate(1, 100), TOL); // 0.2 * 2/4
    assertEquals(0.15, w.rate(2, 100), TOL); // 0.2 * 3/4
    assertEquals(0.20, w.rate(3, 100), TOL); // 0.2 * 4/4
    assertEquals(0.20, w.rate(4, 100), TOL);
    assertEquals(0.20, w.rate(50, 100), TOL);
    assertEquals("LinearWarmup(warmupSteps=4, after=ConstantRate(lr=0.2))", w.toString());

    // the wrapped schedule is not shifted: step 1 of 8 with cosine(1, 0):
    // (1 + cos(pi/8)) / 2 * 2/4 = 0.9619397663 * 0.5
    LinearWarmup wc = new LinearWarmup(4, new CosineDecay(1.0, 0.0));
    assertEquals(0.4809698831278217, wc.rate(1, 8), TOL);
    assertEquals(0.5, wc.rate(4, 8), TOL); // (1 + cos(pi/2)) / 2
  }

  @Test
  void validationNamesTheParameter() {
    assertMessage(() -> new ConstantRate(-0.1), "lr");
    assertMessage(() -> new ConstantRate(Double.NaN), "lr");
    assertMessage(() -> new StepDecay(-1.0, 10, 0.5), "lr");
    assertMessage(() -> new StepDecay(0.1, 0, 0.5), "stepSize");
    assertMessage(() -> new StepDecay(0.1, 10, 0.0), "gamma");
    assertMessage(() -> new StepDecay(0.1, 10, 1.5), "gamma");
    assertMessage(() -> new CosineDecay(-0.1, 0.0), "lr");
    assertMessage(() -> new CosineDecay(0.1, -0.01), "minLr");
    assertMessage(() -> new CosineDecay(0.1, 0.2), "minLr");
    assertMessage(() -> new LinearWarmup(0, new ConstantRate(0.1)), "warmupSteps");
    assertMessage(() -> new LinearWarmup(5, null), "after");
    assertMessage(() -> new ConstantRate(0.1).rate(-1, 10), "step");
  }

  static void assertMessage(Executable e, String parameter) {
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
    assertTrue(ex.getMessage().contains(parameter), ex.getMessage());
  }
}
