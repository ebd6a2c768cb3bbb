package io.github.sparksam.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The vectorized float32 kernels (ReLU, col2im's additions, max pooling) give the scalar loops' bits. */
class Float32KernelsTest {
  private static final float[] SPECIAL = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
      Float.MIN_VALUE, -Float.MIN_VALUE, -Float.MAX_VALUE, 1f, 1f, -1f};

  private static float[] awkward(int n, long seed) {
    Random r = new Random(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = r.nextInt(5) == 0 ? SPECIAL[r.nextInt(SPECIAL.length)] : (float) r.nextGaussian();
    }
    return x;
  }

  /** Bit for bit, except that any NaN matches any NaN (Java leaves the bits of a computed NaN unspecified). */
  private static void assertSameBits(float[] p, float[] q, String what) {
    for (int i = 0; i < p.length; i++) {
      assertTrue(Float32Kernels.same(p[i], q[i]), what + " at " + i + ": " + p[i] + " vs " + q[i]);
    }
  }

  private static Float32Kernels.Kernel vector() {
    assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(), "Vector API module not present");
    return new VectorFloat32Kernels();
  }

  @Test
  void elementwiseKernelsMatchScalarBitForBitAtAnyOffsetAndLength() {
    Float32Kernels.Kernel v = vector();
    for (int len : new int[] {0, 1, 7, 8, 9, 15, 16, 17, 33, 1000, 50_176}) {
      for (int off : new int[] {0, 1, 5}) {
        float[] a = awkward(len + 2 * off + 1, 31L * len + off), d = awkward(len + 2 * off + 1, 7L * len + off);
        float[] r1 = a.clone(), r2 = a.clone();
        Float32Kernels.SCALAR.relu(r1, len);
        v.relu(r2, len);
        assertSameBits(r1, r2, "relu, len " + len);
        float[] b1 = d.clone(), b2 = d.clone();
        Float32Kernels.SCALAR.reluBackward(a, b1, len);
        v.reluBackward(a, b2, len);
        assertSameBits(b1, b2, "reluBackward, len " + len);
        float[] s1 = d.clone(), s2 = d.clone();
        Float32Kernels.SCALAR.addTo(a, off, s1, 2 * off, len);
        v.addTo(a, off, s2, 2 * off, len);
        assertSameBits(s1, s2, "addTo, len " + len + " off " + off);
      }
    }
  }

  @Test
  void maxPoolMatchesScalarIncludingTiesPaddingAndTails() {
    Float32Kernels.Kernel v = vector();
    Random r = new Random(3);
    for (int c : new int[] {1, 3, 8, 16, 17, 32, 40, 64}) {
      for (int trial = 0; trial < 20; trial++) {
        int kk = 1 + r.nextInt(9);
        float[] x = awkward((kk + 2) * c + 10, 100L * c + trial);
        if (trial % 3 == 0) for (int i = 0; i < x.length; i++) x[i] = r.nextInt(3);   // many ties
        int[] field = new int[kk + 2];
        for (int e = 0; e < field.length; e++) field[e] = r.nextInt(4) == 0 ? -1 : e * c + r.nextInt(3);
        if (trial == 7) java.util.Arrays.fill(field, -1);                               // a window in the padding
        float[] y1 = new float[c + 4], y2 = new float[c + 4];
        int[] i1 = new int[c + 4], i2 = new int[c + 4];
        Float32Kernels.SCALAR.maxPoolChannels(x, 2, field, 1, kk, c, y1, 3, i1);
        v.maxPoolChannels(x, 2, field, 1, kk, c, y2, 3, i2);
        assertSameBits(y1, y2, "max, c " + c + " trial " + trial);
        assertArrayEquals(i1, i2, "argmax, c " + c + " trial " + trial);
      }
    }
  }

  @Test
  void rowSumsMatchScalarBitForBit() {
    Float32Kernels.Kernel v = vector();
    for (int rows : new int[] {1, 3, 8, 10, 16, 32, 37, 128}) {
      for (int cols : new int[] {0, 1, 5, 784}) {
        float[] d = awkward(rows * cols, 13L * rows + cols);
        double[] s1 = new double[rows], s2 = new double[rows];
        for (int r = 0; r < rows; r++) s1[r] = s2[r] = 0.25 * r;
        Float32Kernels.SCALAR.addRowSums(d, rows, cols, s1);
        v.addRowSums(d, rows, cols, s2);
        for (int r = 0; r < rows; r++) {
          assertTrue(Float32Kernels.same(s1[r], s2[r]), rows + "x" + cols + " row " + r + ": " + s1[r] + " vs " + s2[r]);
        }
      }
    }
  }

  @Test
  void reluKeepsNaNAndNegativeZeroAndItsBackwardPassesOnlyPositiveOrNaN() {
    float[] x = {-1f, -0f, 0f, 2f, Float.NaN, Float.NEGATIVE_INFINITY, -Float.MIN_VALUE, 3f, -4f};
    float[] expected = {0f, -0f, 0f, 2f, Float.NaN, 0f, 0f, 3f, 0f};
    Float32Kernels.relu(x, x.length);
    assertSameBits(expected, x, "relu");
    float[] d = {1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f};
    Float32Kernels.reluBackward(x, d, d.length);
    assertSameBits(new float[] {0f, 0f, 0f, 1f, 1f, 0f, 0f, 1f, 0f}, d, "reluBackward");
  }

  @Test
  void theSelfCheckPassesEveryTimeAndInEveryCompilationState() {
    Float32Kernels.Kernel v = vector();
    assumeTrue(VectorFloat32Kernels.usable(), "vectors narrower than 256 bits");
    // interpreted at first, then compiled: NaN bits may change with the code that creates them, the answer must not
    for (int i = 0; i < 3000; i++) assertTrue(Float32Kernels.agrees(v), "self-check failed on call " + i);
  }

  @Test
  void selfCheckPicksTheVectorKernelHereAndRejectsOneThatDiffers() {
    Float32Kernels.Kernel v = vector();
    if (VectorFloat32Kernels.usable()) {
      assertTrue(Float32Kernels.agrees(v));
      assertTrue(Float32Kernels.implementation().startsWith("vector"), Float32Kernels.implementation());
    }
    Float32Kernels.Kernel maxWithoutNaN = new Scalar() {
      @Override public void maxPoolChannels(float[] x, int xb, int[] field, int fb, int kk, int c, float[] y, int yb,
                                            int[] argmax) {
        super.maxPoolChannels(x, xb, field, fb, kk, c, y, yb, argmax);
        for (int ch = 0; ch < c; ch++) if (Float.isNaN(y[yb + ch])) y[yb + ch] = 0f;   // drops NaN, unlike Math.max
      }
    };
    assertTrue(Float32Kernels.agrees(new Scalar()), "the delegating kernel itself agrees");
    assertFalse(Float32Kernels.agrees(maxWithoutNaN));
  }

  @Test
  void selfCheckRejectsAConvolutionThatRoundsTheProductSeparately() {
    Float32Kernels.Kernel unfused = new Scalar() {
      @Override public void convolvePadded(float[] xp, int xb, int[] off, int[] corners, float[] k, int kb, float[] bias,
                                           int bb, int filters, float[] y, int yb) {
        for (int p = 0; p < corners.length; p++) {
          for (int f = 0; f < filters; f++) {
            float a = bias != null ? bias[bb + f] : y[yb + p * filters + f];
            for (int r = 0; r < off.length; r++) a += xp[xb + corners[p] + off[r]] * k[kb + r * filters + f];
            y[yb + p * filters + f] = a;
          }
        }
      }
    };
    assertFalse(Float32Kernels.agrees(unfused));
  }

  /** The scalar kernel behind a class that tests can override one method of. */
  private static class Scalar implements Float32Kernels.Kernel {
    private final Float32Kernels.Kernel s = Float32Kernels.SCALAR;

    @Override public void relu(float[] x, int len) { s.relu(x, len); }
    @Override public void reluBackward(float[] a, float[] d, int len) { s.reluBackward(a, d, len); }
    @Override public void addTo(float[] src, int so, float[] d, int dOff, int len) { s.addTo(src, so, d, dOff, len); }
    @Override public void addRowSums(float[] d, int rows, int cols, double[] sums) { s.addRowSums(d, rows, cols, sums); }
    @Override public void maxPoolChannels(float[] x, int xb, int[] field, int fb, int kk, int c, float[] y, int yb,
                                          int[] argmax) {
      s.maxPoolChannels(x, xb, field, fb, kk, c, y, yb, argmax);
    }
    @Override public void convolvePadded(float[] xp, int xb, int[] off, int[] corners, float[] k, int kb, float[] bias,
                                         int bb, int filters, float[] y, int yb) {
      s.convolvePadded(xp, xb, off, corners, k, kb, bias, bb, filters, y, yb);
    }
    @Override public void convolvePaddedGradient(float[] xp, int xb, int[] off, int[] corners, float[] dy, int db,
                                                 int filters, float[] acc) {
      s.convolvePaddedGradient(xp, xb, off, corners, dy, db, filters, acc);
    }
    @Override public int lanes() { return 1; }
  }
}
