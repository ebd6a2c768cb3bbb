package io.github.sparksam.nn.layers;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.Conv2dGeometry;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.ParamLayout;
import java.util.SplittableRandom;

/**
 * 2-D convolution (cross-correlation, as in PyTorch) with {@code filters} output channels, a
 * {@code kh x kw} kernel, a stride and zero padding. Computed as im2col + one GEMM per block:
 * {@code Y (filters x P n) = K (filters x C kh kw) * cols (C kh kw x P n) + b}, so the output is
 * stored HWC per row; the kernel gradient is one more GEMM and the input gradient a GEMM + col2im.
 * The kernel {@code K} is a weight (decayed, ASAM-scaled), {@code b} a bias.
 */
public final class Conv2dLayer extends Layer {
  private static final long serialVersionUID = 1L;

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

  /** {@code out (+)= K * im2col(x)} for the kernel at {@code k}. */
  private void apply(ComputeBackend be, Buf k, Buf x, int n, double beta, Buf out, LayerBuffers s) {
    be.im2col(x, n, g, s.cols);
    be.gemm(false, false, filters, g.positions() * n, g.patch(), 1.0, k, kOff, filters, s.cols, 0, g.patch(), beta, out, 0,
        filters);
  }

  /** {@code grad_K += d * im2col(x)^T}. */
  private void kernelGradient(ComputeBackend be, Buf x, Buf d, int n, Buf grad, LayerBuffers s) {
    be.im2col(x, n, g, s.cols);
    be.gemm(false, true, filters, g.patch(), g.positions() * n, 1.0, d, 0, filters, s.cols, 0, g.patch(), 1.0, grad, kOff,
        filters);
  }

  @Override public void forward(ComputeBackend be, Buf w, Buf x, int n, Buf y, LayerBuffers s) {
    apply(be, w, x, n, 0.0, y, s);
    be.addBias(y, filters, g.positions() * n, w, bOff);
  }

  @Override public void backward(ComputeBackend be, Buf w, Buf x, Buf y, Buf dy, int n, Buf grad, Buf dx, LayerBuffers s) {
    if (grad != null) {
      kernelGradient(be, x, dy, n, grad, s);
      be.addRowSums(dy, filters, g.positions() * n, grad, bOff);
    }
    if (dx != null) {
      be.gemm(true, false, g.patch(), g.positions() * n, filters, 1.0, w, kOff, filters, dy, 0, filters, 0.0, s.cols, 0,
          g.patch());
      be.col2im(s.cols, n, g, dx);
    }
  }

  @Override public void rForward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, int n, Buf ry, LayerBuffers s) {
    forward(be, v, x, n, ry, s);                                   // V * x + v_b
    if (rx != null) apply(be, w, rx, n, 1.0, ry, s);               // + K * R(x)
  }

  @Override public void rBackward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, Buf ry, Buf dy, Buf rdy, int n,
                                  Buf hv, Buf rdx, LayerBuffers s) {
    // R(dK) = R(dy) cols(x)^T + dy cols(Rx)^T; R(db) = rowsum R(dy); R(dx) = col2im(K^T R(dy) + V^T dy)
    kernelGradient(be, x, rdy, n, hv, s);
    be.addRowSums(rdy, filters, g.positions() * n, hv, bOff);
    if (rx != null) kernelGradient(be, rx, dy, n, hv, s);
    if (rdx != null) {
      int cols = g.positions() * n;
      be.gemm(true, false, g.patch(), cols, filters, 1.0, w, kOff, filters, rdy, 0, filters, 0.0, s.cols, 0, g.patch());
      be.gemm(true, false, g.patch(), cols, filters, 1.0, v, kOff, filters, dy, 0, filters, 1.0, s.cols, 0, g.patch());
      be.col2im(s.cols, n, g, rdx);
    }
  }
}
