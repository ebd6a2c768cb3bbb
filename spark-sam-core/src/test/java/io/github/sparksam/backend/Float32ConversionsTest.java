package io.github.sparksam.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The vectorized float32/float64 conversions give the scalar loops' bits, at any offset and length. */
class Float32ConversionsTest {

  private static double[] awkwardDoubles(int n, long seed) {
    Random r = new Random(seed);
    double[] special = {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e-320, -1e-45,
        1e39, -3.4028235677973366e38, 1.401298464324817e-45, 0.1};
    double[] d = new double[n];
    for (int i = 0; i < n; i++) {
      d[i] = r.nextInt(7) == 0 ? special[r.nextInt(special.length)] : r.nextGaussian() * Math.pow(10, r.nextInt(20) - 10);
    }
    return d;
  }

  @Test
  void vectorKernelMatchesScalarBitForBit() {
    assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "Vector API module not present");
    VectorConversions v = new VectorConversions();
    int checked = 0;
    for (int len : new int[] {0, 1, 3, 7, 8, 9, 15, 16, 17, 101, 1000, 101770}) {
      for (int off : new int[] {0, 1, 5}) {
        double[] d = awkwardDoubles(len + off + 3, 31L * len + off);
        float[] fs = new float[len + off + 2], fv = new float[len + off + 2];
        Float32Conversions.SCALAR.narrow(d, off, fs, off + 1, len);
        v.narrow(d, off, fv, off + 1, len);
        double[] ws = new double[len + 2 * off + 1], wv = new double[len + 2 * off + 1];
        Float32Conversions.SCALAR.widen(fs, off, ws, 2 * off, len);
        v.widen(fs, off, wv, 2 * off, len);
        for (int i = 0; i < fs.length; i++) {
          assertEquals(Float.floatToRawIntBits(fs[i]), Float.floatToRawIntBits(fv[i]), "narrow, len " + len + " off " + off + " at " + i);
        }
        for (int i = 0; i < ws.length; i++) {
          assertEquals(Double.doubleToRawLongBits(ws[i]), Double.doubleToRawLongBits(wv[i]), "widen, len " + len + " off " + off + " at " + i);
        }
        double[] ss = awkwardDoubles(len + 2 * off + 1, 17L * len + off), sv = ss.clone();
        Float32Conversions.SCALAR.addWidened(fs, off, ss, 2 * off, len);
        v.addWidened(fs, off, sv, 2 * off, len);
        for (int i = 0; i < ss.length; i++) {
          assertEquals(Double.doubleToRawLongBits(ss[i]), Double.doubleToRawLongBits(sv[i]), "addWidened, len " + len + " off " + off + " at " + i);
        }
        checked += len;
      }
    }
    assertTrue(checked > 300_000);
    if (VectorConversions.usable()) {
      assertTrue(Float32Conversions.implementation().startsWith("vector"), Float32Conversions.implementation());
    }
  }

  @Test
  void widenTurnsNegativeZeroIntoPositiveZeroAndKeepsEverythingElseExact() {
    float[] f = {-0.0f, 0.0f, Float.MIN_VALUE, -Float.MAX_VALUE, Float.NaN, 1.1f, -2.5f, 3e-39f, 7f, 8f};
    double[] w = new double[f.length];
    Float32Conversions.widen(f, 0, w, 0, f.length);
    assertEquals(0L, Double.doubleToRawLongBits(w[0]));
    for (int i = 1; i < f.length; i++) {
      assertTrue(Double.isNaN(f[i]) ? Double.isNaN(w[i]) : w[i] == (double) f[i], "at " + i);
    }
  }

  @Test
  void selfCheckRejectsAKernelThatRoundsDifferently() {
    Float32Conversions.Kernel truncating = new Float32Conversions.Kernel() {
      @Override public void narrow(double[] src, int srcOff, float[] dst, int dstOff, int len) {
        for (int i = 0; i < len; i++) dst[dstOff + i] = Float.intBitsToFloat((int) (Double.doubleToRawLongBits(src[srcOff + i]) >>> 32));
      }

      @Override public void widen(float[] src, int srcOff, double[] dst, int dstOff, int len) {
        Float32Conversions.SCALAR.widen(src, srcOff, dst, dstOff, len);
      }

      @Override public void addWidened(float[] src, int srcOff, double[] dst, int dstOff, int len) {
        Float32Conversions.SCALAR.addWidened(src, srcOff, dst, dstOff, len);
      }
    };
    assertTrue(Float32Conversions.agrees(Float32Conversions.SCALAR));
    assertTrue(!Float32Conversions.agrees(truncating));
  }
}
