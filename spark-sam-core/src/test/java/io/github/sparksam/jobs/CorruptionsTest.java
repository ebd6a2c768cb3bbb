package io.github.sparksam.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.data.Corruptions;
import io.github.sparksam.data.Corruptions.Corruption;
import io.github.sparksam.data.Corruptions.Kind;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The OOD corruptions as pure functions: reproducible, seeded per example id, with the documented effects. */
class CorruptionsTest {

  static double[] image(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] x = new double[28 * 28];
    for (int i = 0; i < x.length; i++) x[i] = r.nextDouble() < 0.4 ? r.nextDouble() : 0;
    return x;
  }

  @Test
  void deterministicPerIdAndSeedAndInRange() {
    double[] x = image(1);
    double[] before = x.clone();
    for (Corruption c : Corruptions.all(1, 2, 3, 4, 5)) {
      double[] a = Corruptions.apply(x, c, 7, 0);
      assertArrayEquals(a, Corruptions.apply(x, c, 7, 0), 0, c.toString());
      for (double v : a) assertTrue(v >= 0 && v <= 1, c.toString());
    }
    assertArrayEquals(before, x, 0);   // input untouched
    Corruption noise = new Corruption(Kind.GAUSSIAN_NOISE, 3);
    assertFalse(Arrays.equals(Corruptions.apply(x, noise, 7, 0), Corruptions.apply(x, noise, 8, 0)));
    assertFalse(Arrays.equals(Corruptions.apply(x, noise, 7, 0), Corruptions.apply(x, noise, 7, 1)));
  }

  @Test
  void noiseStdGrowsWithSeverity() {
    double[] grey = new double[28 * 28];
    Arrays.fill(grey, 0.5);
    double last = 0;
    for (int s = 1; s <= 5; s++) {
      double[] a = Corruptions.apply(grey, new Corruption(Kind.GAUSSIAN_NOISE, s), 3, 0);
      double var = 0;
      for (double v : a) var += (v - 0.5) * (v - 0.5) / a.length;
      double sd = Math.sqrt(var);
      double expected = Corruptions.parameter(new Corruption(Kind.GAUSSIAN_NOISE, s));
      assertEquals(expected, sd, 0.2 * expected + 0.02, "severity " + s);   // clipping shrinks the largest a little
      assertTrue(sd > last);
      last = sd;
    }
  }

  @Test
  void blurKeepsConstantsAndSpreadsAPoint() {
    double[] grey = new double[28 * 28];
    Arrays.fill(grey, 0.3);
    assertArrayEquals(grey, Corruptions.apply(grey, new Corruption(Kind.BLUR, 5), 0, 0), 1e-12);
    double[] dot = new double[28 * 28];
    dot[14 * 28 + 14] = 1;
    double[] b = Corruptions.apply(dot, new Corruption(Kind.BLUR, 3), 0, 0);
    assertEquals(1.0, Arrays.stream(b).sum(), 1e-9);   // interior point: mass preserved
    assertTrue(b[14 * 28 + 14] < 0.2 && b[14 * 28 + 15] > 0.05);
  }

  @Test
  void contrastScalesAroundTheMean() {
    double[] x = new double[28 * 28];
    for (int i = 0; i < x.length; i++) x[i] = i % 2 == 0 ? 0.2 : 0.8;
    double[] c = Corruptions.apply(x, new Corruption(Kind.CONTRAST, 1), 0, 0);   // factor 0.5, mean 0.5
    assertEquals(0.35, c[0], 1e-12);
    assertEquals(0.65, c[1], 1e-12);
  }

  @Test
  void shiftMovesByTheSeverityDistance() {
    double[] dot = new double[28 * 28];
    dot[14 * 28 + 14] = 1;
    for (long id = 0; id < 20; id++) {
      double[] s = Corruptions.apply(dot, new Corruption(Kind.SHIFT, 3), id, 0);   // 4 px
      int at = -1;
      for (int i = 0; i < s.length; i++) if (s[i] == 1) at = i;
      int dx = at % 28 - 14, dy = at / 28 - 14;
      assertEquals(4.0, Math.hypot(dx, dy), 0.75, "id " + id);
    }
  }

  @Test
  void rotationByPlusOrMinusTheAngle() {
    // a point at distance 10 right of the centre (13.5, 13.5) moves on the circle, by +-30 degrees
    double[] img = new double[28 * 28];
    for (int y = 0; y < 28; y++) {
      for (int x = 0; x < 28; x++) img[y * 28 + x] = Math.exp(-((x - 23.5) * (x - 23.5) + (y - 13.5) * (y - 13.5)) / 2.0);
    }
    boolean plus = false, minus = false;
    for (long id = 0; id < 16; id++) {
      double[] r = Corruptions.apply(img, new Corruption(Kind.ROTATE, 3), id, 0);
      double sx = 0, sy = 0, m = 0;
      for (int i = 0; i < r.length; i++) {
        sx += r[i] * (i % 28);
        sy += r[i] * (i / 28);
        m += r[i];
      }
      double ang = Math.toDegrees(Math.atan2(sy / m - 13.5, sx / m - 13.5));
      assertEquals(30.0, Math.abs(ang), 1.5, "id " + id);
      plus |= ang > 0;
      minus |= ang < 0;
    }
    assertTrue(plus && minus, "both signs occur");
  }

  @Test
  void parsingAndValidation() {
    assertEquals(new Corruption(Kind.BLUR, 3), Corruption.parse("blur:3"));
    assertEquals(new Corruption(Kind.GAUSSIAN_NOISE, 5), Corruption.parse("gaussianNoise-5"));
    assertThrows(IllegalArgumentException.class, () -> Corruption.parse("blur:6"));
    assertThrows(IllegalArgumentException.class, () -> Corruption.parse("fog:1"));
    assertThrows(IllegalArgumentException.class, () -> Corruptions.apply(new double[10], Corruption.parse("blur:1"), 0, 0));
    assertEquals(15, Corruptions.defaults().size());
  }
}
