package io.github.sparksam.sharpness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.optim.CosineDecay;
import io.github.sparksam.optim.Optimizer;
import io.github.sparksam.optim.OptimizerState;
import io.github.sparksam.optim.Sgd;
import org.junit.jupiter.api.Test;

/**
 * The edge-of-stability thresholds against the library's own optimizers: on the quadratic
 * {@code L = lambda w^2 / 2} the iterates of {@link Sgd} shrink just below the threshold and grow
 * just above it.
 */
class StabilityThresholdTest {

  /** |w| after {@code steps} steps of {@code opt} on lambda w^2 / 2 from w = 1. */
  static double run(Optimizer opt, double lambda, double lr, int steps) {
    double[] w = {1};
    OptimizerState st = opt.init(1);
    for (int t = 0; t < steps; t++) opt.step(w, new double[] {lambda * w[0]}, lr, st);
    return Math.abs(w[0]);
  }

  static void assertEdge(Optimizer opt, StabilityThreshold th) {
    double lr = th.learningRate();
    assertTrue(run(opt, th.value() * 0.98, lr, 3000) < 1e-3, "just below the threshold the iterates must shrink: " + th);
    assertTrue(run(opt, th.value() * 1.02, lr, 3000) > 1e3, "just above the threshold the iterates must grow: " + th);
  }

  @Test
  void thresholdsAreTheEdgesOfTheOptimizersOwnIterations() {
    assertEquals(2 / 0.1, StabilityThreshold.of("sgd", 0.9, 0.9, 0.1).value(), 1e-12);
    assertEdge(new Sgd(), StabilityThreshold.of("sgd", 0, 0.9, 0.1));
    assertEquals(3.8 / 0.05, StabilityThreshold.of("momentum", 0.9, 0.9, 0.05).value(), 1e-9);
    assertEdge(new Sgd(0.9, false), StabilityThreshold.of("momentum", 0.9, 0.9, 0.05));
    assertEdge(new Sgd(0.5, false), StabilityThreshold.of("MOMENTUM", 0.5, 0.9, 0.3));
    // Nesterov's edge is (2 + 2 beta) / ((1 + 2 beta) lr), not heavy ball's (2 + 2 beta) / lr
    assertEquals(3.8 / (2.8 * 0.05), StabilityThreshold.of("nesterov", 0.9, 0.9, 0.05).value(), 1e-9);
    assertEdge(new Sgd(0.9, true), StabilityThreshold.of("nesterov", 0.9, 0.9, 0.05));
    assertEdge(new Sgd(0.3, true), StabilityThreshold.of("nesterov", 0.3, 0.9, 0.2));
  }

  @Test
  void adamIsLabelledAsABoundOnThePreconditionedSharpness() {
    StabilityThreshold a = StabilityThreshold.of("adam", 0.9, 0.9, 0.001);
    assertEquals(3.8 / (0.1 * 0.001), a.value(), 1e-6);
    assertFalse(a.comparableToHessian());
    assertTrue(a.label().contains("preconditioned"), a.label());
    assertTrue(a.formula().contains("not comparable"), a.formula());
    assertTrue(StabilityThreshold.of("sgd", 0, 0, 0.1).comparableToHessian());
    assertFalse(StabilityThreshold.of("adamw", 0, 0.8, 0.1).comparableToHessian());
  }

  @Test
  void followsTheScheduleStepByStep() {
    CosineDecay cos = new CosineDecay(0.2, 0);
    for (long t : new long[] {0, 1, 5, 9}) {
      double lr = cos.rate(t, 10);
      StabilityThreshold th = StabilityThreshold.at("momentum", 0.9, 0.9, cos, t, 10);
      assertEquals(lr, th.learningRate(), 0.0);
      assertEquals(3.8 / lr, th.value(), 1e-9 * th.value());
    }
    assertEquals(Double.POSITIVE_INFINITY, StabilityThreshold.of("sgd", 0, 0, 0).value());
    assertThrows(IllegalArgumentException.class, () -> StabilityThreshold.of("lbfgs", 0, 0, 0.1));
    assertThrows(IllegalArgumentException.class, () -> StabilityThreshold.of("momentum", 1.0, 0, 0.1));
  }
}
