package io.github.sparksam.nn.layers;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.nn.Activation;

/**
 * Element-wise ReLU or tanh, in place in training. Derivatives are expressed through the output
 * {@code y}: relu' = [y > 0] (its second derivative taken as 0, as every autodiff HVP does),
 * tanh' = 1 - y^2 and tanh'' = -2 y (1 - y^2).
 */
public final class ActivationLayer extends Layer {
  private static final long serialVersionUID = 1L;

  private final Activation activation;

  public ActivationLayer(Shape in, Activation activation) {
    super(in, in);
    this.activation = activation;
  }

  public Activation activation() { return activation; }

  @Override public boolean inPlace() { return true; }

  @Override public String spec() { return null; }

  private int len(int n) { return inputShape().size() * n; }

  @Override public void forward(ComputeBackend be, Buf w, Buf x, int n, Buf y, LayerBuffers s) {
    if (y != x) be.copy(x, 0, y, 0, len(n));
    activation.forward(be, y, len(n));
  }

  @Override public void backward(ComputeBackend be, Buf w, Buf x, Buf y, Buf dy, int n, Buf grad, Buf dx, LayerBuffers s) {
    if (dx == null) return;
    if (dx != dy) be.copy(dy, 0, dx, 0, len(n));
    activation.backward(be, y, dx, len(n));
  }

  @Override public void rForward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, int n, Buf ry, LayerBuffers s) {
    if (rx == null) {
      ry.zero(0, len(n));
      return;
    }
    backward(be, w, x, y, rx, n, null, ry, s);                      // R(y) = f'(z) R(z)
  }

  @Override public void rBackward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, Buf ry, Buf dy, Buf rdy, int n,
                                  Buf hv, Buf rdx, LayerBuffers s) {
    if (rdx == null) return;
    backward(be, w, x, y, rdy, n, null, rdx, s);                    // f'(z) R(dy)
    if (activation == Activation.TANH) {                            // + f''(z) R(z) dy = -2 y R(y) dy
      for (int i = 0, len = len(n); i < len; i++) rdx.set(i, rdx.get(i) - 2 * y.get(i) * ry.get(i) * dy.get(i));
    }
  }
}
