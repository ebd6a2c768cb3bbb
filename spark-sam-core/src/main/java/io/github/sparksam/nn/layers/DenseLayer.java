package io.github.sparksam.nn.layers;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.ParamLayout;
import java.util.SplittableRandom;

/**
 * Fully connected: {@code y = W x + b} with {@code W} ({@code out x in}, column-major; a weight:
 * decayed and ASAM-scaled) and {@code b} (a bias). A non-flat input is read as its flattened row.
 * One GEMM per block for the output, two for the gradient.
 */
public final class DenseLayer extends Layer {
  private static final long serialVersionUID = 1L;

  private final int units;
  private final int inputs;
  private int wOff = -1;
  private int bOff = -1;

  public DenseLayer(Shape in, int units) {
    super(in, Shape.flat(units));
    if (units < 1) throw new IllegalArgumentException("a dense layer needs >= 1 units, got " + units);
    this.units = units;
    this.inputs = in.size();
  }

  public int units() { return units; }

  @Override public boolean hasParams() { return true; }

  @Override public void declareTensors(ParamLayout.Builder b, int number) {
    wOff = b.size();
    b.add("W" + number, units, inputs, ParamLayout.Kind.WEIGHT);
    bOff = b.size();
    b.add("b" + number, units, 1, ParamLayout.Kind.BIAS);
  }

  @Override public void initialize(double[] w, SplittableRandom rnd, Activation activation) {
    gaussianFill(w, wOff, units * inputs, initStd(activation, inputs, units), rnd);
  }

  @Override public String spec() { return "dense " + units; }

  @Override public void forward(ComputeBackend be, Buf w, Buf x, int n, Buf y, LayerBuffers s) {
    be.gemm(false, false, units, n, inputs, 1.0, w, wOff, units, x, 0, inputs, 0.0, y, 0, units);
    be.addBias(y, units, n, w, bOff);
  }

  @Override public void backward(ComputeBackend be, Buf w, Buf x, Buf y, Buf dy, int n, Buf grad, Buf dx, LayerBuffers s) {
    if (grad != null) {
      be.gemm(false, true, units, inputs, n, 1.0, dy, 0, units, x, 0, inputs, 1.0, grad, wOff, units);
      be.addRowSums(dy, units, n, grad, bOff);
    }
    if (dx != null) be.gemm(true, false, inputs, n, units, 1.0, w, wOff, units, dy, 0, units, 0.0, dx, 0, inputs);
  }

  @Override public void rForward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, int n, Buf ry, LayerBuffers s) {
    forward(be, v, x, n, ry, s);                                   // V x + v_b
    if (rx != null) be.gemm(false, false, units, n, inputs, 1.0, w, wOff, units, rx, 0, inputs, 1.0, ry, 0, units);
  }

  @Override public void rBackward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, Buf ry, Buf dy, Buf rdy, int n,
                                  Buf hv, Buf rdx, LayerBuffers s) {
    // R(dW) = R(dy) x^T + dy R(x)^T; R(db) = rowsum R(dy); R(dx) = W^T R(dy) + V^T dy
    backward(be, w, x, y, rdy, n, hv, rdx, s);
    if (rx != null) be.gemm(false, true, units, inputs, n, 1.0, dy, 0, units, rx, 0, inputs, 1.0, hv, wOff, units);
    if (rdx != null) be.gemm(true, false, inputs, n, units, 1.0, v, wOff, units, dy, 0, units, 1.0, rdx, 0, inputs);
  }
}
