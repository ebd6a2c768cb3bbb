package io.github.sparksam.backend;

import java.io.Serializable;

/**
 * A dense buffer of the backend's element type. Matrices in a Buf are column-major (BLAS order):
 * a block of n rows with d features is a d x n matrix with leading dimension d, i.e. each row's
 * features are contiguous.
 */
public abstract class Buf implements Serializable {
  private static final long serialVersionUID = 1L;

  public abstract int length();

  public abstract double get(int i);

  public abstract void set(int i, double v);

  /** Copies {@code len} values from {@code src[srcOff..]} into this buffer at {@code off}. */
  public abstract void setFrom(double[] src, int srcOff, int off, int len);

  /** Adds {@code scale * this[off..off+len)} into {@code dst[dstOff..]}. */
  public abstract void addTo(double[] dst, int dstOff, int off, int len, double scale);

  /**
   * Copies {@code this[off..off+len)} into {@code dst[dstOff..]} as doubles, each {@code 0.0 + x}
   * (the value adding it into a zeroed array gives, so -0.0 becomes +0.0).
   */
  public void copyTo(double[] dst, int dstOff, int off, int len) {
    java.util.Arrays.fill(dst, dstOff, dstOff + len, 0.0);
    addTo(dst, dstOff, off, len, 1.0);
  }

  /** Sets {@code [off, off+len)} to zero. */
  public abstract void zero(int off, int len);

  public static Buf allocate(Precision p, int n) {
    return p == Precision.FLOAT32 ? new FloatBuf(new float[n]) : new DoubleBuf(new double[n]);
  }

  /** float32 storage. */
  public static final class FloatBuf extends Buf {
    private static final long serialVersionUID = 1L;
    public final float[] a;

    public FloatBuf(float[] a) { this.a = a; }

    @Override public int length() { return a.length; }
    @Override public double get(int i) { return a[i]; }
    @Override public void set(int i, double v) { a[i] = (float) v; }
    @Override public void setFrom(double[] src, int srcOff, int off, int len) {
      Float32Conversions.narrow(src, srcOff, a, off, len);
    }
    @Override public void addTo(double[] dst, int dstOff, int off, int len, double scale) {
      for (int i = 0; i < len; i++) dst[dstOff + i] += scale * a[off + i];
    }
    @Override public void copyTo(double[] dst, int dstOff, int off, int len) {
      Float32Conversions.widen(a, off, dst, dstOff, len);
    }
    @Override public void zero(int off, int len) { java.util.Arrays.fill(a, off, off + len, 0f); }
  }

  /** float64 storage. */
  public static final class DoubleBuf extends Buf {
    private static final long serialVersionUID = 1L;
    public final double[] a;

    public DoubleBuf(double[] a) { this.a = a; }

    @Override public int length() { return a.length; }
    @Override public double get(int i) { return a[i]; }
    @Override public void set(int i, double v) { a[i] = v; }
    @Override public void setFrom(double[] src, int srcOff, int off, int len) {
      System.arraycopy(src, srcOff, a, off, len);
    }
    @Override public void addTo(double[] dst, int dstOff, int off, int len, double scale) {
      for (int i = 0; i < len; i++) dst[dstOff + i] += scale * a[off + i];
    }
    @Override public void zero(int off, int len) { java.util.Arrays.fill(a, off, off + len, 0.0); }
  }
}
