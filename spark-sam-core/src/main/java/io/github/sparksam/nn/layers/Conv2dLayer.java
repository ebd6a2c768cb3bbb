package io.github.sparksam.nn.layers;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.Conv2dGeometry;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.ParamLayout;
import java.util.SplittableRandom;

/**
 * 2-D convolution (cross-correlation, as in PyTorch) with {@code filters} output channels, a
 * {@code kh x kw} kernel, a stride and zero padding. Computed as im2col + GEMM over tiles of rows
 * (as many rows as keep the im2col matrix in cache, {@link LayerBuffers#cols}):
 * {@code Y (filters x P t) = K (filters x C kh kw) * cols (C kh kw x P t) + b} for each tile of
 * {@code t} rows, so the output is stored HWC per row; the kernel gradient is one more GEMM per
 * tile and the input gradient a GEMM + col2im per tile. The im2col matrix lists a window's entries
 * in {@link Conv2dGeometry#patchOrder()} (contiguous runs of the input), so the kernel is read
 * through a copy in that order, and its gradient added back, when that is not the parameter order
 * {@code (c, ky, kx)}. The kernel {@code K} is a weight (decayed, ASAM-scaled), {@code b} a bias.
 *
 * <p>Where the backend convolves directly ({@link ComputeBackend#directConvolution}: float32 with
 * the vector kernels, on NCHW input, the network's first layer), the forward copies the block's rows
 * into zero-padded rows, keeps them for the backward, and computes outputs and the kernel gradient
 * from them with no im2col matrix: with one input channel, im2col would copy runs of 5 values and
 * multiply matrices only 25 deep.
 */
public final class Conv2dLayer extends Layer {
  private static final long serialVersionUID = 1L;

  /** Scratch slots in {@link LayerBuffers}: the weights' kernel, the direction's kernel, the kernel gradient, a bias row. */
  private static final int KERNEL_W = 0;
  private static final int KERNEL_V = 1;
  private static final int KERNEL_GRAD = 2;
  private static final int BIAS_ROW = 3;
  /** The padded input of a direct convolution that is not kept (the R-operator's forward, a backward without a kept one). */
  private static final int PADDED = 4;
  /** Largest im2col matrix (values) a forward keeps for the backward rather than recomputing it tile by tile. */
  static final long KEEP_LIMIT = 1L << 23;

  /**
   * Whether the forward keeps its im2col matrix for the backward: on NCHW input (the network's
   * input), where im2col copies runs of only {@code kernelW} values and costs more than reading the
   * kept matrix back; on HWC input the runs are {@code kernelW * channels} long and recomputing a
   * tile in cache is cheaper than a block-sized matrix out of cache.
   */
  private boolean keeps(int n) { return g.patchOrderIsIdentity() && (long) colsPerRow() * n <= KEEP_LIMIT; }

  private final Conv2dGeometry g;
  private final int filters;
  private int kOff = -1;
  private int bOff = -1;

  public Conv2dLayer(Shape in, boolean inputChannelsLast, int filters, int kernelH, int kernelW, int stride, int pad) {
    this(new Conv2dGeometry(in.channels(), in.height(), in.width(), kernelH, kernelW, stride, pad, inputChannelsLast),
        filters);
  }

  private Conv2dLayer(Conv2dGeometry g, int filters) {
    super(new Shape(g.channels, g.height, g.width), new Shape(checkFilters(filters), g.outH, g.outW));
    this.g = g;
    this.filters = filters;
  }

  private static int checkFilters(int f) {
    if (f < 1) throw new IllegalArgumentException("a convolution needs >= 1 output channels, got " + f);
    return f;
  }

  public Conv2dGeometry geometry() { return g; }

  @Override public boolean hasParams() { return true; }

  @Override public void declareTensors(ParamLayout.Builder b, int number) {
    kOff = b.size();
    b.add("K" + number, filters, g.patch(), ParamLayout.Kind.WEIGHT);
    bOff = b.size();
    b.add("b" + number, filters, 1, ParamLayout.Kind.BIAS);
  }

  @Override public void initialize(double[] w, SplittableRandom rnd, Activation activation) {
    gaussianFill(w, kOff, filters * g.patch(), initStd(activation, g.patch(), filters * g.kernelH * g.kernelW), rnd);
  }

  @Override public int colsPerRow() { return g.patch() * g.positions(); }

  @Override public String spec() {
    return "conv " + filters + " " + g.kernelH + "x" + g.kernelW + (g.stride != 1 ? " stride " + g.stride : "")
        + (g.pad != 0 ? " pad " + g.pad : "");
  }

  /** Rows per tile: as many as the im2col buffer holds. */
  private int tile(int n, LayerBuffers s) { return Math.max(1, Math.min(n, s.cols.length() / colsPerRow())); }

  /** Values of one row's output (or output gradient). */
  private int outPerRow() { return filters * g.positions(); }

  /**
   * The kernel stored at {@code kOff} of {@code w} in im2col order ({@code filters x patch}, from
   * offset 0): {@code w} itself when the orders agree (then read it at {@code kOff}), else a copy in
   * scratch {@code slot}.
   */
  private Buf kernel(ComputeBackend be, Buf w, int slot, LayerBuffers s) {
    if (g.patchOrderIsIdentity()) return w;
    int[] order = g.patchOrder();
    Buf k = s.scratch(be, slot, filters * order.length);
    for (int i = 0; i < order.length; i++) be.copy(w, kOff + filters * order[i], k, filters * i, filters);
    return k;
  }

  private int kernelOffset(Buf k, Buf w) { return k == w ? kOff : 0; }

  /**
   * {@code out = K * im2col(x) + b} ({@code withBias}) or {@code out += K * im2col(x)} for the kernel
   * and bias stored in {@code w} (kernel copy in scratch {@code slot}). The bias is copied into each
   * row first and the GEMM adds onto it (a copy of one row instead of a broadcast per value). With
   * {@code keep}, the im2col matrix of the whole block is kept for the backward where {@link #keeps}
   * (each tile is still multiplied while in cache).
   */
  private void convolve(ComputeBackend be, Buf w, int slot, Buf x, int n, boolean withBias, boolean keep, Buf out,
                        LayerBuffers s) {
    if (be.directConvolution(g, filters)) {
      Buf xp = keep ? s.keep(be, x, n, g.paddedSize() * n) : s.scratch(be, PADDED, g.paddedSize() * n);
      be.padRows(x, n, g, xp);
      be.convolveDirect(xp, n, g, w, kOff, withBias ? bOff : -1, filters, out);
      return;
    }
    Buf k = kernel(be, w, slot, s);
    int ko = kernelOffset(k, w), t = tile(n, s), p = g.positions(), per = outPerRow(), colsRow = colsPerRow();
    Buf biasRow = null;
    if (withBias) {
      biasRow = s.scratch(be, BIAS_ROW, per);
      for (int i = 0; i < p; i++) be.copy(w, bOff, biasRow, i * filters, filters);
    }
    Buf cols = s.cols;
    if (keep) {
      if (keeps(n)) cols = s.keep(be, x, n, colsRow * n);
      else s.forget();
    }
    for (int r0 = 0; r0 < n; r0 += t) {
      int m = Math.min(t, n - r0), co = cols == s.cols ? 0 : r0 * colsRow;
      be.im2col(x, r0, m, g, cols, co);
      if (withBias) for (int j = r0; j < r0 + m; j++) be.copy(biasRow, 0, out, j * per, per);
      be.gemm(false, false, filters, p * m, g.patch(), 1.0, k, ko, filters, cols, co, g.patch(), 1.0, out, r0 * per,
          filters);
    }
  }

  /**
   * {@code grad_K += d * im2col(x)^T}, summed over the tiles, then added in the parameter order; with
   * {@code biasToo} also {@code grad_b += d * 1}, each filter's sum over the block's rows and positions
   * (in float64, {@link ComputeBackend#addRowSums}).
   */
  private void kernelGradient(ComputeBackend be, Buf x, Buf d, int n, boolean biasToo, Buf grad, LayerBuffers s) {
    int patch = g.patch(), t = tile(n, s), p = g.positions();
    Buf acc = s.scratch(be, KERNEL_GRAD, filters * patch);
    Buf kept = s.keptFor(x, n);          // the forward's im2col (direct: padded rows) of x, if it kept it
    if (be.directConvolution(g, filters)) {
      if (kept == null) {
        kept = s.scratch(be, PADDED, g.paddedSize() * n);
        be.padRows(x, n, g, kept);
      }
      be.kernelGradientDirect(kept, d, n, g, filters, acc);
    } else {
      for (int r0 = 0; r0 < n; r0 += t) {
        int m = Math.min(t, n - r0), co = 0;
        Buf cols = s.cols;
        if (kept != null) {
          cols = kept;
          co = r0 * colsPerRow();
        } else {
          be.im2col(x, r0, m, g, cols, 0);
        }
        be.gemm(false, true, filters, patch, p * m, 1.0, d, r0 * outPerRow(), filters, cols, co, patch,
            r0 == 0 ? 0.0 : 1.0, acc, 0, filters);
      }
    }
    if (biasToo) be.addRowSums(d, filters, p * n, grad, bOff);     // d's block starts at 0
    int[] order = g.patchOrder();
    for (int i = 0; i < patch; i++) {
      int to = kOff + filters * order[i], from = filters * i;
      for (int f = 0; f < filters; f++) grad.set(to + f, grad.get(to + f) + acc.get(from + f));
    }
  }

  /** {@code dx = col2im(K1^T d1 [+ K2^T d2])}, tile by tile, for the kernels stored in {@code w1} and {@code w2}. */
  private void inputGradient(ComputeBackend be, Buf w1, Buf d1, Buf w2, Buf d2, int n, Buf dx, LayerBuffers s) {
    Buf k1 = kernel(be, w1, KERNEL_W, s), k2 = w2 == null ? null : kernel(be, w2, KERNEL_V, s);
    int patch = g.patch(), t = tile(n, s), p = g.positions();
    for (int r0 = 0; r0 < n; r0 += t) {
      int m = Math.min(t, n - r0), off = r0 * outPerRow();
      be.gemm(true, false, patch, p * m, filters, 1.0, k1, kernelOffset(k1, w1), filters, d1, off, filters, 0.0, s.cols, 0,
          patch);
      if (k2 != null) {
        be.gemm(true, false, patch, p * m, filters, 1.0, k2, kernelOffset(k2, w2), filters, d2, off, filters, 1.0, s.cols,
            0, patch);
      }
      be.col2im(s.cols, m, g, dx, r0);
    }
  }

  @Override public void forward(ComputeBackend be, Buf w, Buf x, int n, Buf y, LayerBuffers s) {
    convolve(be, w, KERNEL_W, x, n, true, true, y, s);
  }

  @Override public void backward(ComputeBackend be, Buf w, Buf x, Buf y, Buf dy, int n, Buf grad, Buf dx, LayerBuffers s) {
    if (grad != null) kernelGradient(be, x, dy, n, true, grad, s);
    if (dx != null) inputGradient(be, w, dy, null, null, n, dx, s);
  }

  @Override public void rForward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, int n, Buf ry, LayerBuffers s) {
    convolve(be, v, KERNEL_V, x, n, true, false, ry, s);                    // V * x + v_b
    if (rx != null) convolve(be, w, KERNEL_W, rx, n, false, false, ry, s);  // + K * R(x)
  }

  @Override public void rBackward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, Buf ry, Buf dy, Buf rdy, int n,
                                  Buf hv, Buf rdx, LayerBuffers s) {
    // R(dK) = R(dy) cols(x)^T + dy cols(Rx)^T; R(db) = rowsum R(dy); R(dx) = col2im(K^T R(dy) + V^T dy)
    kernelGradient(be, x, rdy, n, true, hv, s);
    if (rx != null) kernelGradient(be, rx, dy, n, false, hv, s);
    if (rdx != null) inputGradient(be, w, rdy, v, dy, n, rdx, s);
  }
}
