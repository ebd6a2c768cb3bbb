package io.github.sparksam.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GradientClippingTest {
  static final double TOL = 1e-12;

  static double norm(double[] x) {
    double s = 0;
    for (double v : x) s += v * v;
    return Math.sqrt(s);
  }

  @Test
  void belowThresholdUntouched() {
    double[] g = {3.0, 4.0}; // norm 5
    assertEquals(5.0, GradientClipping.clipByGlobalNorm(g, 10.0), TOL);
    assertArrayEquals(new double[] {3.0, 4.0}, g, 0.0);
    assertEquals(5.0, GradientClipping.clipByGlobalNorm(g, 5.0), TOL); // equal: not clipped
    assertArrayEquals(new double[] {3.0, 4.0}, g, 0.0);
  }

  @Test
  void aboveThresholdScaledToMaxNorm() {
    double[] g = {3.0, 4.0, 0.0};
    assertEquals(5.0, GradientClipping.clipByGlobalNorm(g, 2.5), TOL);
    // scale 2.5 / 5 = 0.5
    assertArrayEquals(new double[] {1.5, 2.0, 0.0}, g, TOL);
    assertEquals(2.5, norm(g), TOL);

    double[] h = {1e-3, -2.0, 7.0, 0.25};
    GradientClipping.clipByGlobalNorm(h, 1.0);
    assertEquals(1.0, norm(h), TOL);
  }

  @Test
  void zeroGradientStaysZero() {
    double[] g = {0.0, 0.0, 0.0};
    assertEquals(0.0, GradientClipping.clipByGlobalNorm(g, 1.0), 0.0);
    assertArrayEquals(new double[3], g, 0.0);
    assertEquals(0.0, GradientClipping.clipByGlobalNorm(new double[0], 1.0), 0.0);
  }

  @Test
  void offWhenMaxNormNonPositiveOrInfinite() {
    for (double off : new double[] {0.0, -1.0, Double.POSITIVE_INFINITY}) {
      double[] g = {30.0, 40.0};
      assertEquals(50.0, GradientClipping.clipByGlobalNorm(g, off), TOL);
      assertArrayEquals(new double[] {30.0, 40.0}, g, 0.0);
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> GradientClipping.clipByGlobalNorm(new double[1], Double.NaN));
    assertTrue(e.getMessage().contains("maxNorm"), e.getMessage());
  }

  @Test
  void nonFiniteGradientReportedNotScaled() {
    double[] g = {Double.NaN, 1.0};
    assertTrue(Double.isNaN(GradientClipping.clipByGlobalNorm(g, 1.0)));
    assertEquals(1.0, g[1], 0.0);
  }
}
