package io.github.sparksam.backend;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Float32Conversions} with the JDK's Vector API (incubating in JDK 17): float64 and float32
 * vectors of the machine's preferred width, one float32 vector converting to or from two float64
 * vectors (its lower and upper half). Loaded only when the {@code jdk.incubator.vector} module is
 * present.
 *
 * <p>Why one width only: JDK 17's compiler inlines a vector store by the receiver's profiled class.
 * A second float32 shape in the JVM (a half-width vector for the conversions, as this class used)
 * makes that profile bimorphic, and then stores in every other float32 kernel can fall back to the
 * Vector API's Java implementation, allocating per call (seen in max pooling in Spark tasks).
 */
final class VectorConversions implements Float32Conversions.Kernel {
  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  /**
   * Worth using only with at least 4 float64 lanes (AVX2, AVX-512, SVE 256+): narrower vectors gain
   * little, and a shape the hardware lacks runs far slower than the scalar loop.
   */
  static boolean usable() {
    return D.length() >= 4 && F.length() == 2 * D.length();
  }

  @Override public void narrow(double[] src, int srcOff, float[] dst, int dstOff, int len) {
    int i = 0, half = D.length();
    for (int bound = F.loopBound(len); i < bound; i += F.length()) {
      // the two halves land in the lower and upper lanes (zeros elsewhere); or-ing their bits joins them
      IntVector lo = ((FloatVector) DoubleVector.fromArray(D, src, srcOff + i).convertShape(VectorOperators.D2F, F, 0))
          .reinterpretAsInts();
      IntVector hi = ((FloatVector) DoubleVector.fromArray(D, src, srcOff + i + half)
          .convertShape(VectorOperators.D2F, F, -1)).reinterpretAsInts();
      lo.or(hi).reinterpretAsFloats().intoArray(dst, dstOff + i);
    }
    for (; i < len; i++) dst[dstOff + i] = (float) src[srcOff + i];
  }

  @Override public void widen(float[] src, int srcOff, double[] dst, int dstOff, int len) {
    DoubleVector zero = DoubleVector.zero(D);
    int i = 0, half = D.length();
    for (int bound = F.loopBound(len); i < bound; i += F.length()) {
      FloatVector v = FloatVector.fromArray(F, src, srcOff + i);
      zero.add(v.convertShape(VectorOperators.F2D, D, 0)).intoArray(dst, dstOff + i);
      zero.add(v.convertShape(VectorOperators.F2D, D, 1)).intoArray(dst, dstOff + i + half);
    }
    for (; i < len; i++) dst[dstOff + i] = 0.0 + src[srcOff + i];
  }

  @Override public void addWidened(float[] src, int srcOff, double[] dst, int dstOff, int len) {
    int i = 0, half = D.length();
    for (int bound = F.loopBound(len); i < bound; i += F.length()) {
      FloatVector v = FloatVector.fromArray(F, src, srcOff + i);
      DoubleVector.fromArray(D, dst, dstOff + i).add(v.convertShape(VectorOperators.F2D, D, 0))
          .intoArray(dst, dstOff + i);
      DoubleVector.fromArray(D, dst, dstOff + i + half).add(v.convertShape(VectorOperators.F2D, D, 1))
          .intoArray(dst, dstOff + i + half);
    }
    for (; i < len; i++) dst[dstOff + i] = dst[dstOff + i] + src[srcOff + i];
  }

  @Override public String toString() { return "vector (" + D.vectorBitSize() + "-bit)"; }
}
