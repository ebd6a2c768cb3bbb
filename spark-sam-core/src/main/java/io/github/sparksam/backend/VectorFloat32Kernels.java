package io.github.sparksam.backend;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
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
  /**
   * For float64 sums of float32 values: float64 vectors of the same width, two per float32 vector
   * (one width only, see {@link VectorConversions}).
   */
  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

  /** Worth using only with at least 8 float32 and 4 float64 lanes (AVX2, AVX-512, SVE 256+). */
  static boolean usable() {
    return F.length() >= 8 && I.length() == F.length() && F.length() == 2 * D.length();
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
    // the running maximum and argmax go through y and argmax (in L1), not through vectors carried
    // around the loop: a vector leaving a loop loses its exact class, and a store through it then
    // runs the Vector API's slow Java fallback wherever another vector shape shares the profile
    int ch = 0;
    for (int bound = F.loopBound(c); ch < bound; ch += F.length()) {
      int xo = xb + field[fb + first] + ch;
      FloatVector.fromArray(F, x, xo).intoArray(y, yb + ch);
      LANE.add(xo).intoArray(argmax, yb + ch);
      for (int r = first + 1; r < kk; r++) {
        int o = field[fb + r];
        if (o < 0) continue;
        xo = xb + o + ch;
        FloatVector v = FloatVector.fromArray(F, x, xo), best = FloatVector.fromArray(F, y, yb + ch);
        IntVector.fromArray(I, argmax, yb + ch).blend(LANE.add(xo), v.compare(VectorOperators.GT, best).cast(I))
            .intoArray(argmax, yb + ch);
        v.max(best).intoArray(y, yb + ch);
      }
    }
    if (ch < c) Float32Kernels.scalarMaxPool(x, xb, field, fb, kk, ch, c, y, yb, argmax);
  }

  @Override public void addRowSums(float[] d, int rows, int cols, double[] s) {
    int bound = F.loopBound(rows), half = D.length();
    for (int j = 0; j < cols; j++) {
      int o = j * rows, r = 0;
      for (; r < bound; r += F.length()) {
        FloatVector v = FloatVector.fromArray(F, d, o + r);
        DoubleVector.fromArray(D, s, r).add(v.convertShape(VectorOperators.F2D, D, 0)).intoArray(s, r);
        DoubleVector.fromArray(D, s, r + half).add(v.convertShape(VectorOperators.F2D, D, 1)).intoArray(s, r + half);
      }
      for (; r < rows; r++) s[r] += d[o + r];
    }
  }

  /**
   * Four output positions at a time: each vector of the kernel (one window entry, {@code F.length()}
   * filters) is loaded once for the four, each input value broadcast; positions left over go one by
   * one. Every lane runs the scalar loop's chain of fused multiply-adds.
   */
  @Override public void convolvePadded(float[] xp, int xb, int[] off, int[] corners, float[] k, int kb, float[] bias,
                                       int bb, int filters, float[] y, int yb) {
    int lanes = F.length(), patch = off.length, positions = corners.length;
    if (filters % lanes != 0) {
      Float32Kernels.SCALAR.convolvePadded(xp, xb, off, corners, k, kb, bias, bb, filters, y, yb);
      return;
    }
    // where each position's chain starts: the bias (the same for all four) or the value in y
    int last = patch - 1;
    float[] init = bias != null ? bias : y;
    int step = bias != null ? 0 : filters;
    int p = 0;
    for (; p + 4 <= positions; p += 4) {
      int c0 = xb + corners[p], c1 = xb + corners[p + 1], c2 = xb + corners[p + 2], c3 = xb + corners[p + 3];
      int yo = yb + p * filters, io = bias != null ? bb : yo;
      for (int fc = 0; fc < filters; fc += lanes) {
        FloatVector a0 = FloatVector.fromArray(F, init, io + fc);
        FloatVector a1 = FloatVector.fromArray(F, init, io + step + fc);
        FloatVector a2 = FloatVector.fromArray(F, init, io + 2 * step + fc);
        FloatVector a3 = FloatVector.fromArray(F, init, io + 3 * step + fc);
        for (int r = 0; r < last; r++) {
          FloatVector kv = FloatVector.fromArray(F, k, kb + r * filters + fc);
          int o = off[r];
          a0 = kv.fma(FloatVector.broadcast(F, xp[c0 + o]), a0);
          a1 = kv.fma(FloatVector.broadcast(F, xp[c1 + o]), a1);
          a2 = kv.fma(FloatVector.broadcast(F, xp[c2 + o]), a2);
          a3 = kv.fma(FloatVector.broadcast(F, xp[c3 + o]), a3);
        }
        // the last entry outside the loop: a vector leaving a loop loses its exact class, and a
        // store through it then runs the Vector API's slow Java fallback (see maxPoolChannels)
        FloatVector kv = FloatVector.fromArray(F, k, kb + last * filters + fc);
        int o = off[last];
        kv.fma(FloatVector.broadcast(F, xp[c0 + o]), a0).intoArray(y, yo + fc);
        kv.fma(FloatVector.broadcast(F, xp[c1 + o]), a1).intoArray(y, yo + filters + fc);
        kv.fma(FloatVector.broadcast(F, xp[c2 + o]), a2).intoArray(y, yo + 2 * filters + fc);
        kv.fma(FloatVector.broadcast(F, xp[c3 + o]), a3).intoArray(y, yo + 3 * filters + fc);
      }
    }
    for (; p < positions; p++) {
      int c = xb + corners[p], yo = yb + p * filters, io = bias != null ? bb : yo;
      for (int fc = 0; fc < filters; fc += lanes) {
        FloatVector a = FloatVector.fromArray(F, init, io + fc);
        for (int r = 0; r < last; r++) {
          a = FloatVector.fromArray(F, k, kb + r * filters + fc).fma(FloatVector.broadcast(F, xp[c + off[r]]), a);
        }
        FloatVector.fromArray(F, k, kb + last * filters + fc).fma(FloatVector.broadcast(F, xp[c + off[last]]), a)
            .intoArray(y, yo + fc);
      }
    }
  }

  /**
   * Four window entries at a time: each vector of the output gradient (one position,
   * {@code F.length()} filters) is loaded once for the four, each input value broadcast; the four
   * partial sums stay in registers over all positions. Entries left over go one by one.
   */
  @Override public void convolvePaddedGradient(float[] xp, int xb, int[] off, int[] corners, float[] dy, int db,
                                               int filters, float[] acc) {
    int lanes = F.length(), patch = off.length, positions = corners.length;
    if (filters % lanes != 0) {
      Float32Kernels.SCALAR.convolvePaddedGradient(xp, xb, off, corners, dy, db, filters, acc);
      return;
    }
    int r = 0;
    for (; r + 4 <= patch; r += 4) {
      int o0 = xb + off[r], o1 = xb + off[r + 1], o2 = xb + off[r + 2], o3 = xb + off[r + 3];
      for (int fc = 0; fc < filters; fc += lanes) {
        FloatVector g0 = FloatVector.zero(F), g1 = FloatVector.zero(F), g2 = FloatVector.zero(F), g3 = FloatVector.zero(F);
        for (int p = 0; p < positions; p++) {
          FloatVector d = FloatVector.fromArray(F, dy, db + p * filters + fc);
          int c = corners[p];
          g0 = d.fma(FloatVector.broadcast(F, xp[c + o0]), g0);
          g1 = d.fma(FloatVector.broadcast(F, xp[c + o1]), g1);
          g2 = d.fma(FloatVector.broadcast(F, xp[c + o2]), g2);
          g3 = d.fma(FloatVector.broadcast(F, xp[c + o3]), g3);
        }
        int a = r * filters + fc;
        FloatVector.fromArray(F, acc, a).add(g0).intoArray(acc, a);
        FloatVector.fromArray(F, acc, a + filters).add(g1).intoArray(acc, a + filters);
        FloatVector.fromArray(F, acc, a + 2 * filters).add(g2).intoArray(acc, a + 2 * filters);
        FloatVector.fromArray(F, acc, a + 3 * filters).add(g3).intoArray(acc, a + 3 * filters);
      }
    }
    for (; r < patch; r++) {
      int o = xb + off[r];
      for (int fc = 0; fc < filters; fc += lanes) {
        FloatVector g = FloatVector.zero(F);
        for (int p = 0; p < positions; p++) {
          g = FloatVector.fromArray(F, dy, db + p * filters + fc).fma(FloatVector.broadcast(F, xp[corners[p] + o]), g);
        }
        int a = r * filters + fc;
        FloatVector.fromArray(F, acc, a).add(g).intoArray(acc, a);
      }
    }
  }

  @Override public int lanes() { return F.length(); }

  @Override public String toString() { return "vector (" + F.vectorBitSize() + "-bit)"; }
}
