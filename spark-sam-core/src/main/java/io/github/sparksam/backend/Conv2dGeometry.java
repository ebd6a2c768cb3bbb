package io.github.sparksam.backend;

import java.io.Serializable;

/**
 * Where a 2-D sliding window (convolution or pooling) reads its input: {@code channels x height x
 * width} per row, a {@code kernelH x kernelW} window moved by {@code stride} over the input padded
 * with {@code pad} zeros on every side. Output size per axis is {@code floor((H + 2 pad - k) / stride) + 1}.
 *
 * <p>Input rows are NCHW ({@code channelsLast == false}: the layout of the cached data block) or
 * HWC ({@code channelsLast}: what convolution and pooling layers write, so that one GEMM covers a
 * whole block); outputs are always HWC. A window's entries are ordered {@code (c, ky, kx)}, as in
 * PyTorch's weight layout ({@link #field()}, the kernel tensors).
 *
 * <p>im2col uses its own order, {@link #patchOrder()}: {@code (ky, kx, c)} on HWC input, so that
 * each window row is one contiguous run of {@code kernelW * channels} input values, and
 * {@code (c, ky, kx)} on NCHW input (runs of {@code kernelW}). {@link #runs()} lists those runs.
 */
public final class Conv2dGeometry implements Serializable {
  private static final long serialVersionUID = 1L;

  public final int channels;
  public final int height;
  public final int width;
  public final int kernelH;
  public final int kernelW;
  public final int stride;
  public final int pad;
  public final boolean channelsLast;
  public final int outH;
  public final int outW;
  // built on first use; volatile: a geometry may be shared by task threads (a broadcast network)
  private transient volatile int[] field;
  private transient volatile int[] order;
  private transient volatile int[][] runs;
  private transient volatile int[] paddedOffsets;
  private transient volatile int[] corners;

  public Conv2dGeometry(int channels, int height, int width, int kernelH, int kernelW, int stride, int pad,
                        boolean channelsLast) {
    if (channels < 1 || height < 1 || width < 1) {
      throw new IllegalArgumentException("input shape must be positive, got " + channels + "x" + height + "x" + width);
    }
    if (kernelH < 1 || kernelW < 1 || stride < 1 || pad < 0) {
      throw new IllegalArgumentException("kernel and stride must be >= 1 and padding >= 0, got kernel " + kernelH + "x"
          + kernelW + ", stride " + stride + ", pad " + pad);
    }
    if (height + 2 * pad < kernelH || width + 2 * pad < kernelW) {
      throw new IllegalArgumentException("a " + kernelH + "x" + kernelW + " window does not fit a " + height + "x" + width
          + " input with padding " + pad);
    }
    this.channels = channels;
    this.height = height;
    this.width = width;
    this.kernelH = kernelH;
    this.kernelW = kernelW;
    this.stride = stride;
    this.pad = pad;
    this.channelsLast = channelsLast;
    this.outH = (height + 2 * pad - kernelH) / stride + 1;
    this.outW = (width + 2 * pad - kernelW) / stride + 1;
  }

  /** Input values per row. */
  public int inputSize() { return channels * height * width; }

  /** Output positions per row. */
  public int positions() { return outH * outW; }

  /** Entries of one window: {@code channels * kernelH * kernelW}. */
  public int patch() { return channels * kernelH * kernelW; }

  /**
   * For output position {@code p} and window entry {@code r}, entry {@code p * patch() + r} is the
   * offset of the input value inside its row, or -1 where the window covers padding. Built once.
   */
  public int[] field() {
    int[] f = field;
    if (f != null) return f;
    int patch = patch();
    f = new int[positions() * patch];
    for (int oy = 0; oy < outH; oy++) {
      for (int ox = 0; ox < outW; ox++) {
        int base = (oy * outW + ox) * patch;
        for (int c = 0; c < channels; c++) {
          for (int ky = 0; ky < kernelH; ky++) {
            for (int kx = 0; kx < kernelW; kx++) {
              int y = oy * stride - pad + ky, x = ox * stride - pad + kx;
              int r = (c * kernelH + ky) * kernelW + kx;
              f[base + r] = y < 0 || y >= height || x < 0 || x >= width ? -1
                  : channelsLast ? (y * width + x) * channels + c : (c * height + y) * width + x;
            }
          }
        }
      }
    }
    field = f;
    return f;
  }

  /**
   * im2col's order of a window's entries: entry {@code i} of a column of the im2col matrix is entry
   * {@code patchOrder()[i]} of the window in {@code (c, ky, kx)} order. {@code (ky, kx, c)} for HWC
   * input, the identity for NCHW input.
   */
  public int[] patchOrder() {
    int[] o = order;
    if (o != null) return o;
    o = new int[patch()];
    int i = 0;
    if (channelsLast) {
      for (int ky = 0; ky < kernelH; ky++) {
        for (int kx = 0; kx < kernelW; kx++) {
          for (int c = 0; c < channels; c++) o[i++] = (c * kernelH + ky) * kernelW + kx;
        }
      }
    } else {
      for (; i < o.length; i++) o[i] = i;
    }
    order = o;
    return o;
  }

  /** Height of the zero-padded input: {@code height + 2 pad}. */
  public int paddedHeight() { return height + 2 * pad; }

  /** Width of the zero-padded input: {@code width + 2 pad}. */
  public int paddedWidth() { return width + 2 * pad; }

  /** Values of one zero-padded NCHW input row: {@code channels * paddedHeight() * paddedWidth()}. */
  public int paddedSize() { return channels * paddedHeight() * paddedWidth(); }

  /**
   * For direct convolution of zero-padded NCHW input: entry {@code r} (window order {@code (c, ky, kx)})
   * is the offset of the window's entry {@code r} from its top-left corner in a padded row,
   * {@code (c * paddedHeight() + ky) * paddedWidth() + kx}. Output position {@code (oy, ox)} has its
   * corner at {@code oy * stride * paddedWidth() + ox * stride}. Built once.
   */
  public int[] paddedOffsets() {
    int[] o = paddedOffsets;
    if (o != null) return o;
    o = new int[patch()];
    int ph = paddedHeight(), pw = paddedWidth();
    for (int c = 0; c < channels; c++) {
      for (int ky = 0; ky < kernelH; ky++) {
        for (int kx = 0; kx < kernelW; kx++) o[(c * kernelH + ky) * kernelW + kx] = (c * ph + ky) * pw + kx;
      }
    }
    paddedOffsets = o;
    return o;
  }

  /**
   * For direct convolution of zero-padded input: entry {@code p} is where output position {@code p}
   * ({@code oy * outW + ox}) has its window's top-left corner in a padded row,
   * {@code oy * stride * paddedWidth() + ox * stride}. Built once.
   */
  public int[] paddedCorners() {
    int[] c = corners;
    if (c != null) return c;
    c = new int[positions()];
    for (int oy = 0; oy < outH; oy++) {
      for (int ox = 0; ox < outW; ox++) c[oy * outW + ox] = oy * stride * paddedWidth() + ox * stride;
    }
    corners = c;
    return c;
  }

  /** True when {@link #patchOrder()} is the identity. */
  public boolean patchOrderIsIdentity() { return !channelsLast; }

  /**
   * How im2col fills one row's columns ({@code patch() x positions()}, in {@link #patchOrder()}):
   * segments {@code s} of {@code runs()[2][s]} values written at {@code runs()[1][s]} (relative to
   * the row's first column), copied from the input row at {@code runs()[0][s]}, or zeros where that
   * is -1 (padding). Segments are in increasing write order and cover the row's columns exactly once.
   */
  public int[][] runs() {
    int[][] r = runs;
    if (r != null) return r;
    java.util.List<int[]> segs = new java.util.ArrayList<>();
    int patch = patch();
    int outer = channelsLast ? kernelH : channels * kernelH;      // runs per window
    int runLen = channelsLast ? kernelW * channels : kernelW;     // values per run when nothing is clipped
    int unit = channelsLast ? channels : 1;                       // values per input column x
    for (int oy = 0; oy < outH; oy++) {
      for (int ox = 0; ox < outW; ox++) {
        int base = (oy * outW + ox) * patch;
        int x0 = ox * stride - pad;
        int lo = Math.max(0, -x0), hi = Math.min(kernelW, width - x0);  // kx range inside the input
        for (int q = 0; q < outer; q++) {
          int c = channelsLast ? 0 : q / kernelH, ky = channelsLast ? q : q % kernelH;
          int y = oy * stride - pad + ky;
          int dst = base + q * runLen;
          if (y < 0 || y >= height || hi <= lo) {
            addSegment(segs, -1, dst, runLen);
            continue;
          }
          if (lo > 0) addSegment(segs, -1, dst, lo * unit);
          int src = channelsLast ? (y * width + x0 + lo) * channels : (c * height + y) * width + x0 + lo;
          addSegment(segs, src, dst + lo * unit, (hi - lo) * unit);
          if (hi < kernelW) addSegment(segs, -1, dst + hi * unit, (kernelW - hi) * unit);
        }
      }
    }
    r = new int[3][segs.size()];
    for (int s = 0; s < segs.size(); s++) {
      r[0][s] = segs.get(s)[0];
      r[1][s] = segs.get(s)[1];
      r[2][s] = segs.get(s)[2];
    }
    runs = r;
    return r;
  }

  /** Appends a segment, merging it into the previous one when both are zeros and adjacent. */
  private static void addSegment(java.util.List<int[]> segs, int src, int dst, int len) {
    if (len == 0) return;
    if (src < 0 && !segs.isEmpty()) {
      int[] last = segs.get(segs.size() - 1);
      if (last[0] < 0 && last[1] + last[2] == dst) {
        last[2] += len;
        return;
      }
    }
    segs.add(new int[] {src, dst, len});
  }

  @Override public String toString() {
    return channels + "x" + height + "x" + width + (channelsLast ? "(HWC)" : "(CHW)") + " window " + kernelH + "x"
        + kernelW + " stride " + stride + " pad " + pad + " -> " + outH + "x" + outW;
  }
}
