package io.github.sparksam.backend;

import dev.ludovic.netlib.blas.BLAS;

/**
 * CPU kernels: GEMM through {@code dev.ludovic.netlib} (native OpenBLAS when {@code libblas.so.3}
 * resolves to it, else the Vector API or plain Java; see {@link BlasInfo}), element-wise work in
 * plain loops. Stateless; use {@link #FLOAT32} or {@link #FLOAT64}.
 */
public abstract class CpuBackend implements ComputeBackend {
  private static final long serialVersionUID = 1L;

  public static final CpuBackend FLOAT32 = new F32();
  public static final CpuBackend FLOAT64 = new F64();

  public static CpuBackend of(Precision p) { return p == Precision.FLOAT32 ? FLOAT32 : FLOAT64; }

  static BLAS blas() { return BLAS.getInstance(); }

  static String t(boolean trans) { return trans ? "T" : "N"; }

  // bias and row sums: typed loops, the same arithmetic as element by element (float32: each sum rounded once)
  @Override public void addBias(Buf z, int rows, int cols, Buf bias, int biasOff) {
    if (z instanceof Buf.FloatBuf zf && bias instanceof Buf.FloatBuf bf) {
      float[] za = zf.a, ba = bf.a;
      for (int j = 0; j < cols; j++) {
        int o = j * rows;
        for (int r = 0; r < rows; r++) za[o + r] += ba[biasOff + r];
      }
    } else if (z instanceof Buf.DoubleBuf zd && bias instanceof Buf.DoubleBuf bd) {
      double[] za = zd.a, ba = bd.a;
      for (int j = 0; j < cols; j++) {
        int o = j * rows;
        for (int r = 0; r < rows; r++) za[o + r] += ba[biasOff + r];
      }
    } else {
      for (int j = 0; j < cols; j++) {
        int o = j * rows;
        for (int r = 0; r < rows; r++) z.set(o + r, z.get(o + r) + bias.get(biasOff + r));
      }
    }
  }

  /** Each row's sum in double, over the columns in order (column by column, so the reads are contiguous). */
  @Override public void addRowSums(Buf delta, int rows, int cols, Buf out, int outOff) {
    double[] s = new double[rows];
    if (delta instanceof Buf.FloatBuf df) {
      Float32Kernels.addRowSums(df.a, rows, cols, s);
    } else if (delta instanceof Buf.DoubleBuf dd) {
      double[] d = dd.a;
      for (int j = 0; j < cols; j++) {
        int o = j * rows;
        for (int r = 0; r < rows; r++) s[r] += d[o + r];
      }
    } else {
      for (int j = 0; j < cols; j++) for (int r = 0; r < rows; r++) s[r] += delta.get(j * rows + r);
    }
    for (int r = 0; r < rows; r++) out.set(outOff + r, out.get(outOff + r) + s[r]);
  }

  @Override public void softmaxCrossEntropy(Buf logits, int classes, int n, double[] labels, double[] weights,
                                            int rowOff, double eps, Buf delta, LossStats stats) {
    double[] p = new double[classes];
    double off = eps / classes;
    for (int j = 0; j < n; j++) {
      int base = j * classes;
      int y = (int) labels[rowOff + j];
      double w = weights == null ? 1.0 : weights[rowOff + j];
      double max = Double.NEGATIVE_INFINITY;
      int arg = 0;
      for (int k = 0; k < classes; k++) {
        p[k] = logits.get(base + k);
        if (p[k] > max) { max = p[k]; arg = k; }
      }
      double sum = 0;
      for (int k = 0; k < classes; k++) sum += Math.exp(p[k] - max);
      double logZ = max + Math.log(sum);
      // loss = -sum_k t_k (z_k - logZ)
      double loss = 0;
      for (int k = 0; k < classes; k++) {
        double tk = (k == y ? 1.0 - eps : 0.0) + off;
        if (tk != 0) loss -= tk * (p[k] - logZ);
        if (delta != null) delta.set(base + k, w * (Math.exp(p[k] - logZ) - tk));
      }
      stats.lossSum += w * loss;
      stats.weightSum += w;
      if (arg == y) stats.correctWeight += w;
      stats.count++;
    }
  }

  @Override public void sigmoidCrossEntropy(Buf logits, int n, double[] labels, double[] weights, int rowOff,
                                            double eps, Buf delta, LossStats stats) {
    for (int j = 0; j < n; j++) {
      double z = logits.get(j);
      double y = labels[rowOff + j];
      double w = weights == null ? 1.0 : weights[rowOff + j];
      double t = y * (1.0 - eps) + eps / 2;
      // -(t log s(z) + (1-t) log(1 - s(z))) = max(z,0) - t z + log(1 + exp(-|z|))
      double loss = Math.max(z, 0) - t * z + Math.log1p(Math.exp(-Math.abs(z)));
      if (delta != null) {
        double p = z >= 0 ? 1.0 / (1.0 + Math.exp(-z)) : Math.exp(z) / (1.0 + Math.exp(z));
        delta.set(j, w * (p - t));
      }
      stats.lossSum += w * loss;
      stats.weightSum += w;
      if ((z > 0 ? 1.0 : 0.0) == y) stats.correctWeight += w;
      stats.count++;
    }
  }

  // ---- 2-D sliding windows (#14): typed loops over the arrays, one per precision (no per-element virtual calls) ----

  /** Below this many values a run is copied (or zeroed) by a plain loop rather than System.arraycopy (Arrays.fill). */
  private static final int SHORT_RUN = 16;

  @Override public void im2col(Buf x, int row0, int n, Conv2dGeometry g, Buf cols, int colsOff) {
    int[][] runs = g.runs();
    int[] src = runs[0], dst = runs[1], len = runs[2];
    int in = g.inputSize(), per = g.patch() * g.positions(), segs = src.length;
    if (x instanceof Buf.FloatBuf xf && cols instanceof Buf.FloatBuf cf) {
      float[] xa = xf.a, ca = cf.a;
      for (int j = 0; j < n; j++) {
        int xb = (row0 + j) * in, cb = colsOff + j * per;
        for (int s = 0; s < segs; s++) {
          int d = cb + dst[s], l = len[s], o = src[s];
          if (o < 0) {
            if (l >= SHORT_RUN) java.util.Arrays.fill(ca, d, d + l, 0f);
            else for (int k = 0; k < l; k++) ca[d + k] = 0f;
          } else if (l >= SHORT_RUN) System.arraycopy(xa, xb + o, ca, d, l);
          else for (int k = 0; k < l; k++) ca[d + k] = xa[xb + o + k];
        }
      }
    } else {
      double[] xa = ((Buf.DoubleBuf) x).a, ca = ((Buf.DoubleBuf) cols).a;
      for (int j = 0; j < n; j++) {
        int xb = (row0 + j) * in, cb = colsOff + j * per;
        for (int s = 0; s < segs; s++) {
          int d = cb + dst[s], l = len[s], o = src[s];
          if (o < 0) {
            if (l >= SHORT_RUN) java.util.Arrays.fill(ca, d, d + l, 0.0);
            else for (int k = 0; k < l; k++) ca[d + k] = 0.0;
          } else if (l >= SHORT_RUN) System.arraycopy(xa, xb + o, ca, d, l);
          else for (int k = 0; k < l; k++) ca[d + k] = xa[xb + o + k];
        }
      }
    }
  }

  // direct convolution (float32 with the vector kernels, NCHW input): no im2col matrix, see Float32Kernels

  @Override public boolean directConvolution(Conv2dGeometry g, int filters) {
    return precision() == Precision.FLOAT32 && !g.channelsLast && Float32Kernels.directConvolution(filters);
  }

  @Override public void padRows(Buf x, int n, Conv2dGeometry g, Buf padded) {
    float[] xa = ((Buf.FloatBuf) x).a, pa = ((Buf.FloatBuf) padded).a;
    int ph = g.paddedHeight(), pw = g.paddedWidth(), in = g.inputSize(), size = g.paddedSize();
    for (int j = 0; j < n; j++) {
      for (int c = 0; c < g.channels; c++) {
        for (int y = 0; y < ph; y++) {
          int d = j * size + (c * ph + y) * pw, sy = y - g.pad;
          if (sy < 0 || sy >= g.height) {
            java.util.Arrays.fill(pa, d, d + pw, 0f);
            continue;
          }
          for (int k = 0; k < g.pad; k++) pa[d + k] = 0f;
          System.arraycopy(xa, j * in + (c * g.height + sy) * g.width, pa, d + g.pad, g.width);
          for (int k = g.pad + g.width; k < pw; k++) pa[d + k] = 0f;
        }
      }
    }
  }

  @Override public void convolveDirect(Buf padded, int n, Conv2dGeometry g, Buf w, int kOff, int bOff, int filters, Buf y) {
    float[] pa = ((Buf.FloatBuf) padded).a, wa = ((Buf.FloatBuf) w).a, ya = ((Buf.FloatBuf) y).a;
    int[] off = g.paddedOffsets(), corners = g.paddedCorners();
    int size = g.paddedSize(), out = g.positions() * filters;
    for (int j = 0; j < n; j++) {
      Float32Kernels.convolvePadded(pa, j * size, off, corners, wa, kOff, bOff < 0 ? null : wa, bOff, filters, ya, j * out);
    }
  }

  @Override public void kernelGradientDirect(Buf padded, Buf dy, int n, Conv2dGeometry g, int filters, Buf acc) {
    float[] pa = ((Buf.FloatBuf) padded).a, da = ((Buf.FloatBuf) dy).a, aa = ((Buf.FloatBuf) acc).a;
    int[] off = g.paddedOffsets(), corners = g.paddedCorners();
    int size = g.paddedSize(), out = g.positions() * filters;
    java.util.Arrays.fill(aa, 0, filters * g.patch(), 0f);
    for (int j = 0; j < n; j++) Float32Kernels.convolvePaddedGradient(pa, j * size, off, corners, da, j * out, filters, aa);
  }

  @Override public void col2im(Buf cols, int n, Conv2dGeometry g, Buf dx, int row0) {
    int[][] runs = g.runs();
    int[] src = runs[0], dst = runs[1], len = runs[2];
    int in = g.inputSize(), per = g.patch() * g.positions(), segs = src.length;
    dx.zero(row0 * in, n * in);
    if (cols instanceof Buf.FloatBuf cf && dx instanceof Buf.FloatBuf df) {
      float[] ca = cf.a, da = df.a;
      for (int j = 0; j < n; j++) {
        int xb = (row0 + j) * in, cb = j * per;
        for (int s = 0; s < segs; s++) {
          int o = src[s];
          if (o < 0) continue;
          Float32Kernels.addTo(ca, cb + dst[s], da, xb + o, len[s]);
        }
      }
    } else {
      double[] ca = ((Buf.DoubleBuf) cols).a, da = ((Buf.DoubleBuf) dx).a;
      for (int j = 0; j < n; j++) {
        int xb = (row0 + j) * in, cb = j * per;
        for (int s = 0; s < segs; s++) {
          int o = src[s];
          if (o < 0) continue;
          int d = cb + dst[s], l = len[s], t = xb + o;
          for (int k = 0; k < l; k++) da[t + k] += ca[d + k];
        }
      }
    }
  }

  /**
   * The maximum of each window and channel, the first on ties in window order. On HWC input the
   * channels of a window entry are contiguous: the loop runs over them innermost.
   */
  @Override public void maxPool(Buf x, int n, Conv2dGeometry g, Buf y, int[] argmax) {
    int[] f = g.field();
    int in = g.inputSize(), c = g.channels, kk = g.kernelH * g.kernelW, positions = g.positions();
    if (x instanceof Buf.FloatBuf xf && y instanceof Buf.FloatBuf yf) {
      float[] xa = xf.a, ya = yf.a;
      for (int j = 0; j < n; j++) {
        int xb = j * in;
        for (int p = 0; p < positions; p++) {
          int yb = (j * positions + p) * c, fb = p * c * kk;
          if (g.channelsLast) {
            Float32Kernels.maxPoolChannels(xa, xb, f, fb, kk, c, ya, yb, argmax);
          } else {
            for (int ch = 0; ch < c; ch++) {
              int cb = fb + ch * kk, best = -1;
              float max = Float.NEGATIVE_INFINITY;
              for (int r = 0; r < kk; r++) {
                int o = f[cb + r];
                if (o < 0) continue;
                float v = xa[xb + o];
                if (best < 0 || v > max) { max = v; best = xb + o; }
              }
              argmax[yb + ch] = best;
              ya[yb + ch] = max;
            }
          }
        }
      }
    } else {
      double[] xa = ((Buf.DoubleBuf) x).a, ya = ((Buf.DoubleBuf) y).a;
      for (int j = 0; j < n; j++) {
        int xb = j * in;
        for (int p = 0; p < positions; p++) {
          int yb = (j * positions + p) * c, fb = p * c * kk;
          for (int ch = 0; ch < c; ch++) {
            int cb = fb + ch * kk, best = -1;
            double max = Double.NEGATIVE_INFINITY;
            for (int r = 0; r < kk; r++) {
              int o = f[cb + r];
              if (o < 0) continue;
              double v = xa[xb + o];
              if (best < 0 || v > max) { max = v; best = xb + o; }
            }
            argmax[yb + ch] = best;
            ya[yb + ch] = max;
          }
        }
      }
    }
  }

  @Override public void gather(Buf x, int[] index, int len, Buf y) {
    if (x instanceof Buf.FloatBuf xf && y instanceof Buf.FloatBuf yf) {
      float[] xa = xf.a, ya = yf.a;
      for (int i = 0; i < len; i++) ya[i] = xa[index[i]];
    } else {
      double[] xa = ((Buf.DoubleBuf) x).a, ya = ((Buf.DoubleBuf) y).a;
      for (int i = 0; i < len; i++) ya[i] = xa[index[i]];
    }
  }

  @Override public void scatterAdd(Buf dy, int[] index, int len, Buf dx, int dxLen) {
    dx.zero(0, dxLen);
    if (dy instanceof Buf.FloatBuf df && dx instanceof Buf.FloatBuf xf) {
      float[] d = df.a, xa = xf.a;
      for (int i = 0; i < len; i++) xa[index[i]] += d[i];
    } else {
      double[] d = ((Buf.DoubleBuf) dy).a, xa = ((Buf.DoubleBuf) dx).a;
      for (int i = 0; i < len; i++) xa[index[i]] += d[i];
    }
  }

  // average pooling: not on the default network's path; element access, sums in double
  @Override public void avgPool(Buf x, int n, Conv2dGeometry g, Buf y) {
    int[] f = g.field();
    int in = g.inputSize(), c = g.channels, kk = g.kernelH * g.kernelW, positions = g.positions();
    for (int j = 0; j < n; j++) {
      int xb = j * in;
      for (int p = 0; p < positions; p++) {
        for (int ch = 0; ch < c; ch++) {
          int fb = p * c * kk + ch * kk;
          double s = 0;
          for (int r = 0; r < kk; r++) if (f[fb + r] >= 0) s += x.get(xb + f[fb + r]);
          y.set((j * positions + p) * c + ch, s / kk);
        }
      }
    }
  }

  @Override public void avgPoolBackward(Buf dy, int n, Conv2dGeometry g, Buf dx) {
    int[] f = g.field();
    int in = g.inputSize(), c = g.channels, kk = g.kernelH * g.kernelW, positions = g.positions();
    dx.zero(0, in * n);
    for (int j = 0; j < n; j++) {
      int xb = j * in;
      for (int p = 0; p < positions; p++) {
        for (int ch = 0; ch < c; ch++) {
          int fb = p * c * kk + ch * kk;
          double d = dy.get((j * positions + p) * c + ch) / kk;
          for (int r = 0; r < kk; r++) if (f[fb + r] >= 0) dx.set(xb + f[fb + r], dx.get(xb + f[fb + r]) + d);
        }
      }
    }
  }

  @Override public String toString() { return "CpuBackend(" + precision().paramValue() + ")"; }

  private static final class F32 extends CpuBackend {
    private static final long serialVersionUID = 1L;

    @Override public Precision precision() { return Precision.FLOAT32; }

    private Object readResolve() { return FLOAT32; }

    private static float[] a(Buf b) { return ((Buf.FloatBuf) b).a; }

    @Override public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                               Buf a, int aOff, int lda, Buf b, int bOff, int ldb, double beta, Buf c, int cOff, int ldc) {
      blas().sgemm(t(transA), t(transB), m, n, k, (float) alpha, a(a), aOff, lda, a(b), bOff, ldb, (float) beta, a(c), cOff, ldc);
    }

    // relu: exactly the comparisons' results: x < 0 -> +0 (NaN and -0 kept); delta zeroed where a <= 0
    @Override public void relu(Buf z, int len) { Float32Kernels.relu(a(z), len); }

    @Override public void reluBackward(Buf a, Buf delta, int len) { Float32Kernels.reluBackward(a(a), a(delta), len); }

    @Override public void tanh(Buf z, int len) {
      float[] x = a(z);
      for (int i = 0; i < len; i++) x[i] = (float) Math.tanh(x[i]);
    }

    @Override public void tanhBackward(Buf a, Buf delta, int len) {
      float[] x = a(a), d = a(delta);
      for (int i = 0; i < len; i++) d[i] *= 1f - x[i] * x[i];
    }

    @Override public void copy(Buf src, int srcOff, Buf dst, int dstOff, int len) {
      System.arraycopy(a(src), srcOff, a(dst), dstOff, len);
    }
  }

  private static final class F64 extends CpuBackend {
    private static final long serialVersionUID = 1L;

    @Override public Precision precision() { return Precision.FLOAT64; }

    private Object readResolve() { return FLOAT64; }

    private static double[] a(Buf b) { return ((Buf.DoubleBuf) b).a; }

    @Override public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                               Buf a, int aOff, int lda, Buf b, int bOff, int ldb, double beta, Buf c, int cOff, int ldc) {
      blas().dgemm(t(transA), t(transB), m, n, k, alpha, a(a), aOff, lda, a(b), bOff, ldb, beta, a(c), cOff, ldc);
    }

    // relu: the float32 bit masks on 64-bit patterns
    @Override public void relu(Buf z, int len) {
      double[] x = a(z);
      for (int i = 0; i < len; i++) {
        long b = Double.doubleToRawLongBits(x[i]), abs = b & 0x7fffffffffffffffL;
        long negative = (b >> 63) & (-abs >> 63) & ~((0x7ff0000000000000L - abs) >> 63);
        x[i] = Double.longBitsToDouble(b & ~negative);
      }
    }

    @Override public void reluBackward(Buf a, Buf delta, int len) {
      double[] x = a(a), d = a(delta);
      for (int i = 0; i < len; i++) {
        long b = Double.doubleToRawLongBits(x[i]), abs = b & 0x7fffffffffffffffL;
        long keep = ((b | -b) >> 63) & (~(b >> 63) | ((0x7ff0000000000000L - abs) >> 63));
        d[i] = Double.longBitsToDouble(Double.doubleToRawLongBits(d[i]) & keep);
      }
    }

    @Override public void tanh(Buf z, int len) {
      double[] x = a(z);
      for (int i = 0; i < len; i++) x[i] = Math.tanh(x[i]);
    }

    @Override public void tanhBackward(Buf a, Buf delta, int len) {
      double[] x = a(a), d = a(delta);
      for (int i = 0; i < len; i++) d[i] *= 1 - x[i] * x[i];
    }

    @Override public void copy(Buf src, int srcOff, Buf dst, int dstOff, int len) {
      System.arraycopy(a(src), srcOff, a(dst), dstOff, len);
    }
  }
}
