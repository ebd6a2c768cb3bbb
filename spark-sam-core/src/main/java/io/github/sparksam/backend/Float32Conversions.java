package io.github.sparksam.backend;

/**
 * Conversions between float64 (the optimizer's weights and the sums that travel between tasks) and
 * float32 (what the kernels compute in), twice per pass of every training step, and the float64 sum
 * of float32 gradients that the all-reduce of tasks in one JVM adds. Scalar loops of
 * these conversions are not vectorized by JDK 17's compiler, and for a 100k-weight model they cost
 * as much as the step's matrix products. Where the JVM has the Vector API ({@code --add-modules
 * jdk.incubator.vector}, which {@code bin/spark-sam} and the tests pass) and vectors of at least 256
 * bits, {@link VectorConversions} does them several values at a time; otherwise the scalar loops
 * below run. Both give the same bits: each conversion is a single correctly rounded operation.
 */
public final class Float32Conversions {
  private Float32Conversions() {}

  /** The two conversions, per implementation. */
  interface Kernel {
    /** {@code dst[dstOff + i] = (float) src[srcOff + i]}. */
    void narrow(double[] src, int srcOff, float[] dst, int dstOff, int len);

    /** {@code dst[dstOff + i] = 0.0 + src[srcOff + i]}: exact widening, -0.0 becomes +0.0. */
    void widen(float[] src, int srcOff, double[] dst, int dstOff, int len);

    /** {@code dst[dstOff + i] = dst[dstOff + i] + src[srcOff + i]}: exact widening, one rounded addition. */
    void addWidened(float[] src, int srcOff, double[] dst, int dstOff, int len);
  }

  /** The portable loops. */
  static final Kernel SCALAR = new Kernel() {
    @Override public void narrow(double[] src, int srcOff, float[] dst, int dstOff, int len) {
      for (int i = 0; i < len; i++) dst[dstOff + i] = (float) src[srcOff + i];
    }

    @Override public void widen(float[] src, int srcOff, double[] dst, int dstOff, int len) {
      for (int i = 0; i < len; i++) dst[dstOff + i] = 0.0 + src[srcOff + i];
    }

    @Override public void addWidened(float[] src, int srcOff, double[] dst, int dstOff, int len) {
      for (int i = 0; i < len; i++) dst[dstOff + i] = dst[dstOff + i] + src[srcOff + i];
    }

    @Override public String toString() { return "scalar"; }
  };

  private static final Kernel KERNEL = pick();

  /** The Vector API kernel where it is present, fast and agrees with the scalar one; else the scalar one. */
  private static Kernel pick() {
    if (Boolean.getBoolean("sparksam.scalarConversions")) return SCALAR;
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) return SCALAR;
    try {
      Kernel k = (Kernel) Class.forName("io.github.sparksam.backend.VectorConversions").getDeclaredConstructor()
          .newInstance();
      return VectorConversions.usable() && agrees(k) ? k : SCALAR;
    } catch (ReflectiveOperationException | LinkageError e) {
      return SCALAR;
    }
  }

  /** A self-check on values that trip conversions up (signed zeros, NaN, infinities, subnormals, overflow). */
  static boolean agrees(Kernel k) {
    double[] d = {0.0, -0.0, 1.0 / 3, -1e-40, 1e-320, Double.NaN, Double.POSITIVE_INFINITY, -1e300, 3.4028235677973366e38,
        1.401298464324817e-45, 0.1, -7.5, 65504.0, 2.5e-8, 1e39, -0.0, 42.0, 1e-46, Math.PI};
    float[] f1 = new float[d.length], f2 = new float[d.length];
    SCALAR.narrow(d, 0, f1, 0, d.length);
    k.narrow(d, 0, f2, 0, d.length);
    double[] w1 = new double[d.length], w2 = new double[d.length];
    SCALAR.widen(f1, 0, w1, 0, d.length);
    k.widen(f1, 0, w2, 0, d.length);
    double[] s1 = d.clone(), s2 = d.clone();
    SCALAR.addWidened(f1, 0, s1, 0, d.length);
    k.addWidened(f1, 0, s2, 0, d.length);
    for (int i = 0; i < d.length; i++) {
      if (Float.floatToRawIntBits(f1[i]) != Float.floatToRawIntBits(f2[i])) return false;
      if (Double.doubleToRawLongBits(w1[i]) != Double.doubleToRawLongBits(w2[i])) return false;
      if (Double.doubleToRawLongBits(s1[i]) != Double.doubleToRawLongBits(s2[i])) return false;
    }
    return true;
  }

  /** Which implementation runs (for logs): {@code vector (N-bit)} or {@code scalar}. */
  public static String implementation() { return KERNEL.toString(); }

  /** {@code dst[dstOff + i] = (float) src[srcOff + i]} for {@code i < len}. */
  public static void narrow(double[] src, int srcOff, float[] dst, int dstOff, int len) {
    KERNEL.narrow(src, srcOff, dst, dstOff, len);
  }

  /** {@code dst[dstOff + i] = 0.0 + src[srcOff + i]} for {@code i < len} (exact; -0.0 becomes +0.0). */
  public static void widen(float[] src, int srcOff, double[] dst, int dstOff, int len) {
    KERNEL.widen(src, srcOff, dst, dstOff, len);
  }

  /** {@code dst[dstOff + i] = dst[dstOff + i] + src[srcOff + i]} for {@code i < len} (one rounding per value). */
  public static void addWidened(float[] src, int srcOff, double[] dst, int dstOff, int len) {
    KERNEL.addWidened(src, srcOff, dst, dstOff, len);
  }
}
