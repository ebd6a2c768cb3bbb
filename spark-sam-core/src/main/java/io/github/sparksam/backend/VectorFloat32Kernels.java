package io.github.sparksam.backend;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Float32Kernels} with the JDK's Vector API (incubating in JDK 17): float32 vectors of the
 * machine's preferred width, and int vectors of as many lanes for max pooling's argmax. Loaded only
 * when the {@code jdk.incubator.vector} module is present.
 */
final class VectorFloat32Kernels implements Float32Kernels.Kernel {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
  private static final IntVector LANE = IntVector.zero(I).addIndex(1);
  /** For float64 sums of float32 values: float64 vectors and float32 vectors of as many lanes (as VectorConversions). */
  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Float> HALF =
      VectorSpecies.of(float.class, VectorShape.forBitSize(Math.max(64, D.vectorBitSize() / 2)));

  /** Worth using only with at least 8 float32 and 4 float64 lanes (AVX2, AVX-512, SVE 256+). */
  static boolean usable() {
    return F.length() >= 8 && I.length() == F.length() && D.length() >= 4 && HALF.length() == D.length();
  }

  @Override public void relu(float[] x, int len) {
    int i = 0;
    for (int bound = F.loopBound(len); i < bound; i += F.length()) {
      FloatVector v = FloatVector.fromArray(F, x, i);
      v.blend(0f, v.lt(0f)).intoArray(x, i);
    }
    for (; i < len; i++) if (x[i] < 0f) x[i] = 0f;
  }

  @Override public void reluBackward(float[] a, float[] d, int len) {
    int i = 0;
    for (int bound = F.loopBound(len); i < bound; i += F.length()) {
      FloatVector v = FloatVector.fromArray(F, a, i);
      VectorMask<Float> keep = v.compare(VectorOperators.GT, 0f).or(v.test(VectorOperators.IS_NAN));
      FloatVector.fromArray(F, d, i).blend(0f, keep.not()).intoArray(d, i);
    }
    for (; i < len; i++) if (!(a[i] > 0f || Float.isNaN(a[i]))) d[i] = 0f;
  }

  @Override public void addTo(float[] src, int srcOff, float[] dst, int dstOff, int len) {
    int k = 0;
    for (int bound = F.loopBound(len); k < bound; k += F.length()) {
      FloatVector.fromArray(F, dst, dstOff + k).add(FloatVector.fromArray(F, src, srcOff + k)).intoArray(dst, dstOff + k);
    }
    for (; k < len; k++) dst[dstOff + k] += src[srcOff + k];
  }

  @Override public void maxPoolChannels(float[] x, int xb, int[] field, int fb, int kk, int c, float[] y, int yb,
                                        int[] argmax) {
    int first = 0;
    while (first < kk && field[fb + first] < 0) first++;
    if (first == kk) {
      Float32Kernels.scalarMaxPool(x, xb, field, fb, kk, 0, c, y, yb, argmax);   // every entry in the padding
      return;
    }
    int ch = 0;
    for (int bound = F.loopBound(c); ch < bound; ch += F.length()) {
      int xo = xb + field[fb + first] + ch;
      FloatVector best = FloatVector.fromArray(F, x, xo);
      IntVector at = LANE.add(xo);
      for (int r = first + 1; r < kk; r++) {
        int o = field[fb + r];
        if (o < 0) continue;
        xo = xb + o + ch;
        FloatVector v = FloatVector.fromArray(F, x, xo);
        at = at.blend(LANE.add(xo), v.compare(VectorOperators.GT, best).cast(I));
        best = v.max(best);
      }
      best.intoArray(y, yb + ch);
      at.intoArray(argmax, yb + ch);
    }
    if (ch < c) Float32Kernels.scalarMaxPool(x, xb, field, fb, kk, ch, c, y, yb, argmax);
  }

  @Override public void addRowSums(float[] d, int rows, int cols, double[] s) {
    int bound = D.loopBound(rows);
    for (int j = 0; j < cols; j++) {
      int o = j * rows, r = 0;
      for (; r < bound; r += D.length()) {
        DoubleVector w = (DoubleVector) FloatVector.fromArray(HALF, d, o + r).convertShape(VectorOperators.F2D, D, 0);
        DoubleVector.fromArray(D, s, r).add(w).intoArray(s, r);
      }
      for (; r < rows; r++) s[r] += d[o + r];
    }
  }

  @Override public String toString() { return "vector (" + F.vectorBitSize() + "-bit)"; }
}
