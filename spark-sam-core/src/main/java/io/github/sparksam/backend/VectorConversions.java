package io.github.sparksam.backend;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Float32Conversions} with the JDK's Vector API (incubating in JDK 17): a float64 vector of
 * the machine's preferred width and a float32 vector of the same number of lanes, converted with
 * one instruction per vector. Loaded only when the {@code jdk.incubator.vector} module is present.
 */
final class VectorConversions implements Float32Conversions.Kernel {
  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Float> F =
      VectorSpecies.of(float.class, VectorShape.forBitSize(Math.max(64, D.vectorBitSize() / 2)));

  /**
   * Worth using only with at least 4 float64 lanes (AVX2, AVX-512, SVE 256+): narrower vectors gain
   * little, and a shape the hardware lacks runs far slower than the scalar loop.
   */
  static boolean usable() {
    return D.length() >= 4 && F.length() == D.length();
  }

  @Override public void narrow(double[] src, int srcOff, float[] dst, int dstOff, int len) {
    int i = 0;
    for (int bound = D.loopBound(len); i < bound; i += D.length()) {
      ((FloatVector) DoubleVector.fromArray(D, src, srcOff + i).convertShape(VectorOperators.D2F, F, 0))
          .intoArray(dst, dstOff + i);
    }
    for (; i < len; i++) dst[dstOff + i] = (float) src[srcOff + i];
  }

  @Override public void widen(float[] src, int srcOff, double[] dst, int dstOff, int len) {
    DoubleVector zero = DoubleVector.zero(D);
    int i = 0;
    for (int bound = D.loopBound(len); i < bound; i += D.length()) {
      DoubleVector w = (DoubleVector) FloatVector.fromArray(F, src, srcOff + i).convertShape(VectorOperators.F2D, D, 0);
      zero.add(w).intoArray(dst, dstOff + i);
    }
    for (; i < len; i++) dst[dstOff + i] = 0.0 + src[srcOff + i];
  }

  @Override public void addWidened(float[] src, int srcOff, double[] dst, int dstOff, int len) {
    int i = 0;
    for (int bound = D.loopBound(len); i < bound; i += D.length()) {
      DoubleVector w = (DoubleVector) FloatVector.fromArray(F, src, srcOff + i).convertShape(VectorOperators.F2D, D, 0);
      DoubleVector.fromArray(D, dst, dstOff + i).add(w).intoArray(dst, dstOff + i);
    }
    for (; i < len; i++) dst[dstOff + i] = dst[dstOff + i] + src[srcOff + i];
  }

  @Override public String toString() { return "vector (" + D.vectorBitSize() + "-bit)"; }
}
