package io.github.sparksam.nn.layers;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.Conv2dGeometry;

/**
 * Average pooling per channel over {@code kh x kw} windows moved by {@code stride}. Linear in its
 * input, so its R-operator is the layer itself applied to {@code R(x)} and its backward to {@code R(dy)}.
 */
public class AvgPool2dLayer extends Layer {
  private static final long serialVersionUID = 1L;

  private final Conv2dGeometry g;

  public AvgPool2dLayer(Shape in, boolean inputChannelsLast, int k, int stride) {
    this(in, inputChannelsLast, k, k, stride);
  }

  AvgPool2dLayer(Shape in, boolean inputChannelsLast, int kh, int kw, int stride) {
    this(new Conv2dGeometry(in.channels(), in.height(), in.width(), kh, kw, stride, 0, inputChannelsLast));
  }

  private AvgPool2dLayer(Conv2dGeometry g) {
    super(new Shape(g.channels, g.height, g.width), new Shape(g.channels, g.outH, g.outW));
    this.g = g;
  }

  /** Where the window reads its input (for export). */
  public Conv2dGeometry geometry() { return g; }

  @Override public String spec() {
    return "avgpool " + g.kernelH + (g.stride != g.kernelH ? " stride " + g.stride : "");
  }

  @Override public void forward(ComputeBackend be, Buf w, Buf x, int n, Buf y, LayerBuffers s) {
    be.avgPool(x, n, g, y);
  }

  @Override public void backward(ComputeBackend be, Buf w, Buf x, Buf y, Buf dy, int n, Buf grad, Buf dx, LayerBuffers s) {
    if (dx != null) be.avgPoolBackward(dy, n, g, dx);
  }

  @Override public void rForward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, int n, Buf ry, LayerBuffers s) {
    if (rx == null) ry.zero(0, outputShape().size() * n);
    else forward(be, w, rx, n, ry, s);
  }

  @Override public void rBackward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, Buf ry, Buf dy, Buf rdy, int n,
                                  Buf hv, Buf rdx, LayerBuffers s) {
    backward(be, w, x, y, rdy, n, null, rdx, s);
  }
}
