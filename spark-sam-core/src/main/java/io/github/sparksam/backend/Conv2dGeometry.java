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
 * PyTorch's weight layout.
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
  private transient int[] field;

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

  @Override public String toString() {
    return channels + "x" + height + "x" + width + (channelsLast ? "(HWC)" : "(CHW)") + " window " + kernelH + "x"
        + kernelW + " stride " + stride + " pad " + pad + " -> " + outH + "x" + outW;
  }
}
