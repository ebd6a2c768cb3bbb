package io.github.sparksam.nn.layers;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.ParamLayout;
import java.io.Serializable;
import java.util.SplittableRandom;

/**
 * One layer of a {@link io.github.sparksam.nn.Network}: a map from {@code inputShape} to
 * {@code outputShape} on blocks of {@code n} rows (column-major, {@code size x n}), with the tensors
 * it owns in the network's one flat parameter vector.
 *
 * <p>Three block operations. {@code forward}: {@code y = f(x; w)}. {@code backward}: given
 * {@code dy = dL/dy}, adds {@code dL/dw} to {@code grad} and writes {@code dx = dL/dx}.
 * The R-operator (Pearlmutter 1994, "Fast exact multiplication by the Hessian"): {@code rForward}
 * is the directional derivative {@code Ry = J_x Rx + J_w v}; {@code rBackward} differentiates the
 * backward pass along the same direction, adding {@code R(dL/dw)} (the layer's block of
 * {@code H v}) to {@code hv} and writing {@code R(dx)}. {@code Rx == null} means the input does not
 * depend on the parameters (the network's input). {@code grad}, {@code dx} and {@code rdx} may be
 * null when not needed.
 *
 * <p>Layers with {@link #inPlace()} may be given {@code y == x} and {@code dx == dy} (activations,
 * flatten); their backward uses only {@code y}.
 */
public abstract class Layer implements Serializable {
  private static final long serialVersionUID = 1L;

  private final Shape in;
  private final Shape out;

  protected Layer(Shape in, Shape out) {
    this.in = in;
    this.out = out;
  }

  public final Shape inputShape() { return in; }

  public final Shape outputShape() { return out; }

  /**
   * Appends this layer's tensors to the layout; {@code number} is its 1-based position among the
   * layers that have parameters (tensor names end with it: {@code W1}, {@code b1}, ...).
   */
  public void declareTensors(ParamLayout.Builder b, int number) {}

  public boolean hasParams() { return false; }

  /** May work with {@code y == x} and {@code dx == dy}. */
  public boolean inPlace() { return false; }

  /** im2col entries needed per row (0: none). */
  public int colsPerRow() { return 0; }

  /**
   * Values of im2col matrix to work in per block of up to {@code n} rows: whole rows up to about
   * {@value #COLS_TILE} values (a tile that stays in the core's cache), at least one row.
   */
  public int colsFor(int n) {
    int per = colsPerRow();
    return per == 0 ? 0 : per * Math.max(1, Math.min(n, COLS_TILE / per));
  }

  /** Target size of the im2col tile, in values. */
  static final int COLS_TILE = 1 << 18;

  /** Index entries needed per row (0: none). */
  public int indicesPerRow() { return 0; }

  /** Draws this layer's initial weights into {@code w} (biases stay 0). */
  public void initialize(double[] w, SplittableRandom rnd, Activation activation) {}

  /** The layer as the {@code layers} parameter writes it, e.g. {@code conv 16 5x5 pad 2}; null if implied. */
  public abstract String spec();

  public abstract void forward(ComputeBackend be, Buf w, Buf x, int n, Buf y, LayerBuffers s);

  public abstract void backward(ComputeBackend be, Buf w, Buf x, Buf y, Buf dy, int n, Buf grad, Buf dx, LayerBuffers s);

  public abstract void rForward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, int n, Buf ry, LayerBuffers s);

  public abstract void rBackward(ComputeBackend be, Buf w, Buf v, Buf x, Buf rx, Buf y, Buf ry, Buf dy, Buf rdy, int n,
                                 Buf hv, Buf rdx, LayerBuffers s);

  /** Normal(0, std^2) weights for the tensor at {@code [off, off+len)}. */
  static void gaussianFill(double[] w, int off, int len, double std, SplittableRandom rnd) {
    for (int i = 0; i < len; i++) w[off + i] = std * gaussian(rnd);
  }

  /** He (relu) or Glorot (tanh) standard deviation. */
  static double initStd(Activation a, int fanIn, int fanOut) {
    return a == Activation.RELU ? Math.sqrt(2.0 / fanIn) : Math.sqrt(2.0 / (fanIn + fanOut));
  }

  private static double gaussian(SplittableRandom r) {
    // Box-Muller; SplittableRandom has no nextGaussian on Java 17
    double u1 = r.nextDouble(), u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  @Override public String toString() {
    String s = spec();
    return (s == null ? getClass().getSimpleName() : s) + " " + in + " -> " + out;
  }
}
