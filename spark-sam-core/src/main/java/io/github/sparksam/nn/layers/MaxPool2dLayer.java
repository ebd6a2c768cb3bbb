package io.github.sparksam.nn.layers;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.Conv2dGeometry;

/**
 * Max pooling per channel over {@code k x k} windows moved by {@code stride} (default {@code k}).
 * Forward keeps each output's argmax for the block; backward routes the gradient to it and the
 * R-operator reads and routes through it (the layer is linear with that selection fixed).
 */
public final class MaxPool2dLayer extends Layer {
  private static final long serialVersionUID = 1L;

  private final Conv2dGeometry g;

  public MaxPool2dLayer(Shape in, boolean inputChannelsLast, int k, int stride) {
    this(new Conv2dGeometry(in.channels(), in.height(), in.width(), k, k, stride, 0, inputChannelsLast));
  }

  private MaxPool2dLayer(Conv2dGeometry g) {
    super(new Shape(g.channels, g.height, g.width), new Shape(g.channels, g.outH, g.outW));
    this.g = g;
  }

  /** Where the window reads its input (for export). */
  public Conv2dGeometry geometry() { return g; }

  @Override public int indicesPerRow() { return outputShape().size(); }

  @Override public String spec() {
    return "maxpool " + g.kernelH + (g.stride != g.kernelH ? " stride " + g.stride : "");
  }

  private int outLen(int n) { return outputShape().size() * n; }

  @Override public void forward(ComputeBackend be, Buf w, Buf x, int n, Buf y, LayerBuffers s) {
    be.maxPool(x, n, g, y, s.indices);
  }

  @Override public void backward(ComputeBackend be, Buf w, Buf x, Buf y, Buf dy, int n, Buf grad, Buf dx, LayerBuffers s) {
    if (dx != null) be.scatterAdd(dy, s.indices, outLen(n), dx, inputShape().size() * n);
  }

  @Override public void rForward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, int n, Buf ry, LayerBuffers s) {
    if (rx == null) ry.zero(0, outLen(n));
    else be.gather(rx, s.indices, outLen(n), ry);
  }

  @Override public void rBackward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, Buf ry, Buf dy, Buf rdy, int n,
                                  Buf hv, Buf rdx, LayerBuffers s) {
    backward(be, w, x, y, rdy, n, null, rdx, s);
  }
}
