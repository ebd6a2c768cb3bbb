package io.github.sparksam.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * float32 im2col gives the float64 im2col's values in its region, for tiles of rows anywhere in a
 * buffer (NCHW and HWC input, stride 1 and 2, padding), and writes nothing outside that region.
 */
class Im2colFloat32Test {
  private static final float SENTINEL = 12345.5f;

  @Test
  void float32MatchesFloat64InsideTheRegionAndLeavesTheRestAlone() {
    int[][] shapes = {   // channels, height, width, kernel, stride, pad, channelsLast (0/1)
        {1, 28, 28, 5, 1, 2, 0}, {1, 7, 9, 3, 2, 0, 0}, {3, 8, 8, 5, 1, 2, 0}, {2, 6, 5, 3, 2, 2, 0},
        {16, 6, 6, 5, 1, 2, 1}, {3, 7, 7, 3, 2, 1, 1}, {1, 5, 5, 5, 1, 0, 0}, {4, 4, 4, 1, 1, 0, 1}};
    Random r = new Random(11);
    for (int[] sh : shapes) {
      Conv2dGeometry g = new Conv2dGeometry(sh[0], sh[1], sh[2], sh[3], sh[3], sh[4], sh[5], sh[6] == 1);
      int rows = 5, in = g.inputSize(), per = g.patch() * g.positions();
      double[] xd = new double[rows * in];
      float[] xf = new float[rows * in];
      for (int i = 0; i < xd.length; i++) xf[i] = (float) (xd[i] = r.nextGaussian());
      for (int[] call : new int[][] {{0, rows, 0}, {1, 3, 7}, {4, 1, 3}, {0, 1, 0}}) {   // row0, n, colsOff
        int row0 = call[0], n = call[1], off = call[2], len = off + n * per + 40;
        float[] cf = new float[len];
        java.util.Arrays.fill(cf, SENTINEL);
        double[] cd = new double[len];
        CpuBackend.FLOAT32.im2col(new Buf.FloatBuf(xf), row0, n, g, new Buf.FloatBuf(cf), off);
        CpuBackend.FLOAT64.im2col(new Buf.DoubleBuf(xd), row0, n, g, new Buf.DoubleBuf(cd), off);
        String where = java.util.Arrays.toString(sh) + " rows " + row0 + "+" + n + " at " + off;
        for (int i = 0; i < len; i++) {
          float expected = i >= off && i < off + n * per ? (float) cd[i] : SENTINEL;
          assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(cf[i]), where + ", value " + i);
        }
      }
    }
  }
}
