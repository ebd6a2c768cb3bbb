package io.github.sparksam.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The float32 direct convolution of NCHW input (#14: the CNN's first layer without an im2col
 * matrix) against a plain float64 sum over each window: output with and without the bias, and the
 * kernel gradient, for strides 1 and 2, padding 0-2 and 1-3 input channels.
 */
class DirectConvolutionTest {
  private static final int[][] SHAPES = {   // channels, height, width, kernel, stride, pad
      {1, 28, 28, 5, 1, 2}, {3, 8, 8, 3, 2, 1}, {2, 7, 9, 5, 1, 0}, {1, 6, 6, 3, 2, 2}, {1, 5, 7, 1, 1, 0}};

  @Test
  void onlyFloat32NchwInputWithWholeVectorsOfFiltersGoesDirect() {
    Conv2dGeometry nchw = new Conv2dGeometry(1, 8, 8, 3, 3, 1, 1, false);
    Conv2dGeometry hwc = new Conv2dGeometry(16, 8, 8, 3, 3, 1, 1, true);
    assertFalse(CpuBackend.FLOAT64.directConvolution(nchw, 16), "float64 keeps im2col + GEMM");
    assertFalse(CpuBackend.FLOAT32.directConvolution(hwc, 16), "HWC input keeps im2col + GEMM");
    assertFalse(CpuBackend.FLOAT32.directConvolution(nchw, 3), "3 filters are not a whole vector");
    assertEquals(Float32Kernels.implementation().startsWith("vector"), CpuBackend.FLOAT32.directConvolution(nchw, 32));
  }

  @Test
  void matchesAFloat64SumOverEachWindow() {
    assumeTrue(CpuBackend.FLOAT32.directConvolution(new Conv2dGeometry(1, 8, 8, 3, 3, 1, 1, false), 32),
        "no vector kernels here (the scalar loops are checked against them at start-up)");
    Random rnd = new Random(5);
    int rows = 3;
    for (int[] sh : SHAPES) {
      Conv2dGeometry g = new Conv2dGeometry(sh[0], sh[1], sh[2], sh[3], sh[3], sh[4], sh[5], false);
      for (int filters : new int[] {16, 32}) {
        if (!CpuBackend.FLOAT32.directConvolution(g, filters)) continue;
        String where = java.util.Arrays.toString(sh) + ", " + filters + " filters";
        int patch = g.patch(), out = g.positions() * filters, kOff = 3, bOff = kOff + filters * patch;
        float[] x = random(rnd, rows * g.inputSize()), w = random(rnd, bOff + filters + 2), dy = random(rnd, rows * out);
        Buf padded = CpuBackend.FLOAT32.allocate(rows * g.paddedSize());
        java.util.Arrays.fill(((Buf.FloatBuf) padded).a, Float.NaN);      // padRows must write every value
        CpuBackend.FLOAT32.padRows(new Buf.FloatBuf(x), rows, g, padded);

        float[] y = new float[rows * out];
        CpuBackend.FLOAT32.convolveDirect(padded, rows, g, new Buf.FloatBuf(w), kOff, bOff, filters, new Buf.FloatBuf(y));
        float[] y2 = y.clone();      // without a bias, the convolution is added onto y
        CpuBackend.FLOAT32.convolveDirect(padded, rows, g, new Buf.FloatBuf(w), kOff, -1, filters, new Buf.FloatBuf(y2));
        float[] acc = random(rnd, filters * patch);                              // overwritten, not added to
        CpuBackend.FLOAT32.kernelGradientDirect(padded, new Buf.FloatBuf(dy), rows, g, filters, new Buf.FloatBuf(acc));

        int[] field = g.field();
        double[] grad = new double[filters * patch], gradAbs = new double[filters * patch];
        for (int j = 0; j < rows; j++) {
          for (int p = 0; p < g.positions(); p++) {
            for (int f = 0; f < filters; f++) {
              double s = 0, abs = Math.abs(w[bOff + f]);
              for (int r = 0; r < patch; r++) {
                int o = field[p * patch + r];
                double xv = o < 0 ? 0 : x[j * g.inputSize() + o];
                s += xv * w[kOff + r * filters + f];
                abs += Math.abs(xv * w[kOff + r * filters + f]);
                grad[r * filters + f] += dy[j * out + p * filters + f] * xv;
                gradAbs[r * filters + f] += Math.abs(dy[j * out + p * filters + f] * xv);
              }
              // float32 rounding: a few units of 6e-8 of the terms' absolute sum
              int i = j * out + p * filters + f;
              assertEquals(s + w[bOff + f], y[i], 1e-6 * abs, where + ", output " + i);
              assertEquals(2 * s + w[bOff + f], y2[i], 2e-6 * (abs + Math.abs(s)), where + ", added output " + i);
            }
          }
        }
        for (int i = 0; i < grad.length; i++) {
          assertEquals(grad[i], acc[i], 1e-5 * gradAbs[i], where + ", kernel gradient " + i);
        }
      }
    }
  }

  private static float[] random(Random rnd, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
    return a;
  }
}
