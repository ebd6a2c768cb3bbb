package io.github.sparksam.nn.layers;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;

/**
 * Reads a {@code C x H x W} row as a flat vector of {@code C H W} values (in the order the
 * previous layer stored them); moves no data in training.
 */
public final class FlattenLayer extends Layer {
  private static final long serialVersionUID = 1L;

  public FlattenLayer(Shape in) { super(in, Shape.flat(in.size())); }

  @Override public boolean inPlace() { return true; }

  @Override public String spec() { return "flatten"; }

  private static void pass(ComputeBackend be, Buf from, Buf to, int len) {
    if (to != null && to != from) be.copy(from, 0, to, 0, len);
  }

  @Override public void forward(ComputeBackend be, Buf w, Buf x, int n, Buf y, LayerBuffers s) {
    pass(be, x, y, inputShape().size() * n);
  }

  @Override public void backward(ComputeBackend be, Buf w, Buf x, Buf y, Buf dy, int n, Buf grad, Buf dx, LayerBuffers s) {
    pass(be, dy, dx, inputShape().size() * n);
  }

  @Override public void rForward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, int n, Buf ry, LayerBuffers s) {
    if (rx == null) ry.zero(0, inputShape().size() * n);
    else pass(be, rx, ry, inputShape().size() * n);
  }

  @Override public void rBackward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, Buf ry, Buf dy, Buf rdy, int n,
                                  Buf hv, Buf rdx, LayerBuffers s) {
    pass(be, rdy, rdx, inputShape().size() * n);
  }
}
