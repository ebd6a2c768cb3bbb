package io.github.sparksam.backend;

/**
 * The float32 element-wise kernels of a convolutional network's step that are not matrix products:
 * ReLU and its backward, the additions of col2im, max pooling over the channels of HWC input,
 * bias gradients (row sums in float64), and the direct convolution of zero-padded NCHW input (the
 * network's first layer: few input channels, where im2col would copy runs of a few values).
 * JDK 17's compiler does not vectorize their scalar loops (the bit masks of ReLU, the select of
 * pooling), and on the default network they took about as long as the matrix products. Where the
 * JVM has the Vector API and vectors of at least 256 bits, {@link VectorFloat32Kernels} does them
 * several values at a time; otherwise the scalar loops below run. Both give the same bits (a NaN's
 * bits aside, which Java leaves unspecified): every result is a selection, a maximum, or one rounded
 * addition or fused multiply-add per value in the same order, checked at start-up ({@link #agrees}) on values that trip
 * such code up (signed zeros, NaN, infinities).
 */
public final class Float32Kernels {
  private Float32Kernels() {}

  /** The kernels, per implementation. */
  interface Kernel {
    /** {@code x[i] = x[i] < 0 ? +0 : x[i]} for {@code i < len} (NaN and -0 kept). */
    void relu(float[] x, int len);

    /** {@code d[i] = a[i] > 0 || a[i] is NaN ? d[i] : +0} for {@code i < len}. */
    void reluBackward(float[] a, float[] d, int len);

    /** {@code dst[dstOff + i] += src[srcOff + i]} for {@code i < len}. */
    void addTo(float[] src, int srcOff, float[] dst, int dstOff, int len);

    /**
     * Max pooling of one output position over {@code c} channels of HWC input: window entry
     * {@code r < kk} starts at {@code x[xb + field[fb + r]]} (skipped where {@code field} is negative,
     * in the zero padding). {@code y[yb + ch]} gets the maximum ({@code Math.max} of the entry and the
     * maximum so far, in window order) and {@code argmax[yb + ch]} the index of the last entry that was
     * strictly greater than the maximum before it (without NaN: the first entry holding the maximum);
     * with no entry, -infinity and -1.
     */
    void maxPoolChannels(float[] x, int xb, int[] field, int fb, int kk, int c, float[] y, int yb, int[] argmax);

    /**
     * {@code s[r] += d[j * rows + r]} in float64 for each column {@code j < cols} in order, {@code r < rows}:
     * the bias gradient of {@code rows} units over {@code cols} examples or positions.
     */
    void addRowSums(float[] d, int rows, int cols, double[] s);

    /**
     * Direct convolution of one zero-padded image ({@code xp} from {@code xb}): for output position
     * {@code p < corners.length} and filter {@code f < filters},
     * {@code y[yb + p * filters + f]} = a chain of fused multiply-adds over the window entries
     * {@code r < off.length} in order, {@code a = fma(xp[xb + corners[p] + off[r]], k[kb + r * filters + f], a)},
     * starting from {@code bias[bb + f]} ({@code bias} null: from the value in {@code y}).
     */
    void convolvePadded(float[] xp, int xb, int[] off, int[] corners, float[] k, int kb, float[] bias, int bb,
                        int filters, float[] y, int yb);

    /**
     * The kernel gradient of {@link #convolvePadded} for one image: {@code acc[r * filters + f] +=} a
     * chain of fused multiply-adds from +0 over the positions {@code p} in order,
     * {@code g = fma(dy[db + p * filters + f], xp[xb + corners[p] + off[r]], g)}.
     */
    void convolvePaddedGradient(float[] xp, int xb, int[] off, int[] corners, float[] dy, int db, int filters,
                                float[] acc);

    /** float32 values per vector (1: scalar). */
    int lanes();
  }

  /** The portable loops. */
  static final Kernel SCALAR = new Kernel() {
    // branch-free bit masks (a data-dependent branch mispredicts on about half the values)
    @Override public void relu(float[] x, int len) {
      for (int i = 0; i < len; i++) {
        int b = Float.floatToRawIntBits(x[i]), abs = b & 0x7fffffff;
        int negative = (b >> 31) & (-abs >> 31) & ~((0x7f800000 - abs) >> 31);   // sign set, nonzero, not NaN
        x[i] = Float.intBitsToFloat(b & ~negative);
      }
    }

    @Override public void reluBackward(float[] a, float[] d, int len) {
      for (int i = 0; i < len; i++) {
        int b = Float.floatToRawIntBits(a[i]), abs = b & 0x7fffffff;
        int keep = ((b | -b) >> 31) & (~(b >> 31) | ((0x7f800000 - abs) >> 31));  // nonzero, and positive or NaN
        d[i] = Float.intBitsToFloat(Float.floatToRawIntBits(d[i]) & keep);
      }
    }

    @Override public void addTo(float[] src, int srcOff, float[] dst, int dstOff, int len) {
      for (int k = 0; k < len; k++) dst[dstOff + k] += src[srcOff + k];
    }

    @Override public void maxPoolChannels(float[] x, int xb, int[] field, int fb, int kk, int c, float[] y, int yb,
                                          int[] argmax) {
      scalarMaxPool(x, xb, field, fb, kk, 0, c, y, yb, argmax);
    }

    @Override public void addRowSums(float[] d, int rows, int cols, double[] s) {
      for (int j = 0; j < cols; j++) {
        int o = j * rows;
        for (int r = 0; r < rows; r++) s[r] += d[o + r];
      }
    }

    @Override public void convolvePadded(float[] xp, int xb, int[] off, int[] corners, float[] k, int kb, float[] bias,
                                         int bb, int filters, float[] y, int yb) {
      for (int p = 0; p < corners.length; p++) {
        int c = xb + corners[p], yo = yb + p * filters;
        for (int f = 0; f < filters; f++) {
          float a = bias != null ? bias[bb + f] : y[yo + f];
          for (int r = 0; r < off.length; r++) a = Math.fma(xp[c + off[r]], k[kb + r * filters + f], a);
          y[yo + f] = a;
        }
      }
    }

    @Override public void convolvePaddedGradient(float[] xp, int xb, int[] off, int[] corners, float[] dy, int db,
                                                 int filters, float[] acc) {
      for (int r = 0; r < off.length; r++) {
        for (int f = 0; f < filters; f++) {
          float g = 0f;
          for (int p = 0; p < corners.length; p++) g = Math.fma(dy[db + p * filters + f], xp[xb + corners[p] + off[r]], g);
          acc[r * filters + f] += g;
        }
      }
    }

    @Override public int lanes() { return 1; }

    @Override public String toString() { return "scalar"; }
  };

  /** {@link Kernel#maxPoolChannels} for channels {@code [from, to)}: also the vector kernel's tail. */
  static void scalarMaxPool(float[] x, int xb, int[] field, int fb, int kk, int from, int to, float[] y, int yb,
                            int[] argmax) {
    boolean first = true;
    for (int r = 0; r < kk; r++) {
      int o = field[fb + r];                  // channel 0 of entry r; channel ch is at o + ch
      if (o < 0) continue;
      int xo = xb + o;
      if (first) {
        for (int ch = from; ch < to; ch++) { y[yb + ch] = x[xo + ch]; argmax[yb + ch] = xo + ch; }
        first = false;
      } else {
        for (int ch = from; ch < to; ch++) {            // branch-free: a select and a max
          float v = x[xo + ch], cur = y[yb + ch];
          argmax[yb + ch] = v > cur ? xo + ch : argmax[yb + ch];
          y[yb + ch] = Math.max(v, cur);
        }
      }
    }
    if (first) for (int ch = from; ch < to; ch++) { y[yb + ch] = Float.NEGATIVE_INFINITY; argmax[yb + ch] = -1; }
  }

  /** The Vector API kernel where it is present, wide enough and agrees with the scalar one; else the scalar one. */
  private static Kernel pick() {
    if (Boolean.getBoolean("sparksam.scalarKernels")) return SCALAR;
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) return SCALAR;
    try {
      Kernel k = (Kernel) Class.forName("io.github.sparksam.backend.VectorFloat32Kernels").getDeclaredConstructor()
          .newInstance();
      return VectorFloat32Kernels.usable() && agrees(k) ? k : SCALAR;
    } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
      return SCALAR;
    }
  }

  private static final float[] AWKWARD = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
      Float.MIN_VALUE, -Float.MIN_VALUE, 1f, -1f, 0.5f, -2.5f, Float.MAX_VALUE, -Float.MAX_VALUE, 3e-39f, 7f, 7f,
      -0f, 0f, Float.intBitsToFloat(0xffc00001), 1e-3f, -1e-3f, 42f, -42f, 0f};

  private static final Kernel KERNEL = pick();

  /** A self-check of every kernel against the scalar loops on {@link #AWKWARD} values, bit for bit (any NaN for a NaN). */
  static boolean agrees(Kernel k) {
    int n = 3 * AWKWARD.length + 5;
    float[] a = new float[n], d = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = AWKWARD[i % AWKWARD.length];
      d[i] = AWKWARD[(7 * i + 3) % AWKWARD.length];
    }
    float[] r1 = a.clone(), r2 = a.clone();
    SCALAR.relu(r1, n - 1);
    k.relu(r2, n - 1);
    float[] b1 = d.clone(), b2 = d.clone();
    SCALAR.reluBackward(a, b1, n - 2);
    k.reluBackward(a, b2, n - 2);
    float[] s1 = d.clone(), s2 = d.clone();
    SCALAR.addTo(a, 1, s1, 2, n - 3);
    k.addTo(a, 1, s2, 2, n - 3);
    if (!sameBits(r1, r2) || !sameBits(b1, b2) || !sameBits(s1, s2)) return false;
    // max pooling: 4 entries (one in the padding), channel counts around the vector length
    for (int c : new int[] {1, 5, 8, 16, 19, 32, 35}) {
      float[] x = new float[4 * c + 3];
      for (int i = 0; i < x.length; i++) x[i] = AWKWARD[(5 * i + c) % AWKWARD.length];
      int[] field = {0, -1, c + 1, 3 * c + 2, 2 * c};
      for (int kk : new int[] {0, 1, 5}) {
        float[] y1 = new float[c + 2], y2 = new float[c + 2];
        int[] i1 = new int[c + 2], i2 = new int[c + 2];
        SCALAR.maxPoolChannels(x, 1, field, 0, kk, c, y1, 1, i1);
        k.maxPoolChannels(x, 1, field, 0, kk, c, y2, 1, i2);
        if (!sameBits(y1, y2) || !java.util.Arrays.equals(i1, i2)) return false;
      }
      double[] sum1 = new double[c], sum2 = new double[c];
      SCALAR.addRowSums(x, c, 4, sum1);
      k.addRowSums(x, c, 4, sum2);
      for (int r = 0; r < c; r++) {
        if (!same(sum1[r], sum2[r])) return false;
      }
    }
    return convolutionAgrees(k);
  }

  /** {@link Kernel#convolvePadded} and its gradient against the scalar loops: filter counts around the vector length. */
  private static boolean convolutionAgrees(Kernel k) {
    int[] off = {0, 1, 6, 7, 12};        // a 5-entry window in 6-wide padded rows
    int[] corners = {0, 2, 6, 8, 13, 18, 19};
    for (int filters : new int[] {1, 8, 16, 19, 32}) {
      float[] xp = new float[40], w = new float[off.length * filters + 3], bias = new float[filters + 1];
      float[] dy = new float[corners.length * filters + 2];
      for (int i = 0; i < xp.length; i++) xp[i] = AWKWARD[(3 * i + filters) % AWKWARD.length] * 0.25f;
      for (int i = 0; i < w.length; i++) w[i] = AWKWARD[(11 * i + 1) % AWKWARD.length];
      for (int i = 0; i < bias.length; i++) bias[i] = AWKWARD[(5 * i + 2) % AWKWARD.length];
      for (int i = 0; i < dy.length; i++) dy[i] = AWKWARD[(13 * i + 4) % AWKWARD.length];
      for (boolean withBias : new boolean[] {true, false}) {
        float[] y1 = dy.clone(), y2 = dy.clone();
        SCALAR.convolvePadded(xp, 1, off, corners, w, 2, withBias ? bias : null, 1, filters, y1, 1);
        k.convolvePadded(xp, 1, off, corners, w, 2, withBias ? bias : null, 1, filters, y2, 1);
        if (!sameBits(y1, y2)) return false;
      }
      float[] a1 = w.clone(), a2 = w.clone();
      SCALAR.convolvePaddedGradient(xp, 2, off, corners, dy, 1, filters, a1);
      k.convolvePaddedGradient(xp, 2, off, corners, dy, 1, filters, a2);
      if (!sameBits(a1, a2)) return false;
    }
    return true;
  }

  /**
   * The same values bit for bit, except that any NaN equals any NaN: the bits of a NaN that an
   * addition creates (infinity minus infinity) or passes on depend on the instruction and the operand
   * order, and Java leaves them unspecified.
   */
  private static boolean sameBits(float[] p, float[] q) {
    for (int i = 0; i < p.length; i++) if (!same(p[i], q[i])) return false;
    return true;
  }

  static boolean same(float a, float b) {
    return Float.floatToRawIntBits(a) == Float.floatToRawIntBits(b) || Float.isNaN(a) && Float.isNaN(b);
  }

  static boolean same(double a, double b) {
    return Double.doubleToRawLongBits(a) == Double.doubleToRawLongBits(b) || Double.isNaN(a) && Double.isNaN(b);
  }

  /**
   * Whether {@link #convolvePadded} pays for {@code filters} output channels: with the vector kernels
   * and a whole number of vectors of filters (one image's outputs then take a few fused multiply-adds
   * per window entry, with no im2col matrix). The scalar loops are the reference, not a fast path.
   */
  public static boolean directConvolution(int filters) {
    return KERNEL != SCALAR && filters % KERNEL.lanes() == 0;
  }

  /** Direct convolution of one zero-padded image; see {@link Kernel#convolvePadded}. */
  public static void convolvePadded(float[] xp, int xb, int[] off, int[] corners, float[] k, int kb, float[] bias, int bb,
                                    int filters, float[] y, int yb) {
    KERNEL.convolvePadded(xp, xb, off, corners, k, kb, bias, bb, filters, y, yb);
  }

  /** The kernel gradient of {@link #convolvePadded} for one image; see {@link Kernel#convolvePaddedGradient}. */
  public static void convolvePaddedGradient(float[] xp, int xb, int[] off, int[] corners, float[] dy, int db, int filters,
                                            float[] acc) {
    KERNEL.convolvePaddedGradient(xp, xb, off, corners, dy, db, filters, acc);
  }

  /** Which implementation runs (for logs): {@code vector (N-bit)} or {@code scalar}. */
  public static String implementation() { return KERNEL.toString(); }

  /** {@code x[i] = x[i] < 0 ? +0 : x[i]} for {@code i < len}: NaN and -0 are kept, as the comparison leaves them. */
  public static void relu(float[] x, int len) { KERNEL.relu(x, len); }

  /** {@code d[i] = 0} where {@code a[i] <= 0} ({@code a} the ReLU's output; NaN passes the gradient on). */
  public static void reluBackward(float[] a, float[] d, int len) { KERNEL.reluBackward(a, d, len); }

  /** {@code dst[dstOff + i] += src[srcOff + i]} for {@code i < len}. */
  public static void addTo(float[] src, int srcOff, float[] dst, int dstOff, int len) {
    KERNEL.addTo(src, srcOff, dst, dstOff, len);
  }

  /** {@code s[r] += sum_j d[j * rows + r]} in float64, column by column; see {@link Kernel#addRowSums}. */
  public static void addRowSums(float[] d, int rows, int cols, double[] s) { KERNEL.addRowSums(d, rows, cols, s); }

  /** Max pooling of one output position of HWC input over its {@code c} channels; see {@link Kernel#maxPoolChannels}. */
  public static void maxPoolChannels(float[] x, int xb, int[] field, int fb, int kk, int c, float[] y, int yb,
                                     int[] argmax) {
    KERNEL.maxPoolChannels(x, xb, field, fb, kk, c, y, yb, argmax);
  }
}
