package io.github.sparksam.nn;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.backend.Precision;
import java.io.Serializable;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A feed-forward classifier on one flat parameter vector: dense layers with a hidden activation,
 * then a softmax (multinomial) or sigmoid (binomial, one logit) cross-entropy head. With no hidden
 * layers it is softmax / logistic regression. Layer {@code l} has a weight matrix {@code W_l}
 * ({@code out x in}, column-major) followed by its bias; the layout records which is which.
 *
 * <p>Forward and backward work on a block of {@code n} rows at once (GEMMs through the
 * {@link ComputeBackend}); per-task buffers live in a {@link Workspace} so that nothing big is
 * allocated per step.
 */
public final class Network implements Serializable {
  private static final long serialVersionUID = 1L;

  /** How the last layer's outputs become class probabilities. */
  public enum Head { MULTINOMIAL, BINOMIAL }

  private final int[] sizes;          // input, hidden..., output units
  private final Activation activation;
  private final Head head;
  private final int numClasses;
  private final ParamLayout layout;

  private Network(int numFeatures, int[] hidden, int numClasses, Activation activation, Head head) {
    if (numFeatures < 1) throw new IllegalArgumentException("numFeatures must be >= 1, got " + numFeatures);
    if (numClasses < 2) throw new IllegalArgumentException("numClasses must be >= 2, got " + numClasses);
    if (head == Head.BINOMIAL && numClasses != 2) {
      throw new IllegalArgumentException("the binomial head needs exactly 2 classes, got " + numClasses);
    }
    for (int h : hidden) if (h < 1) throw new IllegalArgumentException("hidden layer sizes must be >= 1, got " + Arrays.toString(hidden));
    this.sizes = new int[hidden.length + 2];
    sizes[0] = numFeatures;
    System.arraycopy(hidden, 0, sizes, 1, hidden.length);
    sizes[sizes.length - 1] = head == Head.BINOMIAL ? 1 : numClasses;
    this.activation = activation;
    this.head = head;
    this.numClasses = numClasses;
    ParamLayout.Builder b = new ParamLayout.Builder();
    for (int l = 1; l < sizes.length; l++) {
      b.add("W" + l, sizes[l], sizes[l - 1], ParamLayout.Kind.WEIGHT);
      b.add("b" + l, sizes[l], 1, ParamLayout.Kind.BIAS);
    }
    this.layout = b.build();
  }

  /** Softmax regression (multinomial) or logistic regression (binomial). */
  public static Network linear(int numFeatures, int numClasses, Head head) {
    return new Network(numFeatures, new int[0], numClasses, Activation.RELU, head);
  }

  /** A multi-layer perceptron with the given hidden layer sizes. */
  public static Network mlp(int numFeatures, int[] hidden, int numClasses, Activation activation, Head head) {
    return new Network(numFeatures, hidden.clone(), numClasses, activation, head);
  }

  public ParamLayout layout() { return layout; }

  public int numParams() { return layout.size(); }

  public int numFeatures() { return sizes[0]; }

  public int numClasses() { return numClasses; }

  /** Number of logits per row: 1 for the binomial head, else numClasses. */
  public int numOutputs() { return sizes[sizes.length - 1]; }

  public Head head() { return head; }

  public Activation activation() { return activation; }

  public int[] hiddenLayers() { return Arrays.copyOfRange(sizes, 1, sizes.length - 1); }

  /**
   * Initial parameters: zeros for linear models; He (relu) or Glorot (tanh) normal weights and
   * zero biases for MLPs, from {@code seed}.
   */
  public double[] initialParams(long seed) {
    double[] w = new double[numParams()];
    if (sizes.length == 2) return w;
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int l = 1; l < sizes.length; l++) {
      ParamLayout.Tensor t = layout.tensor("W" + l);
      int fanIn = sizes[l - 1], fanOut = sizes[l];
      double std = activation == Activation.RELU ? Math.sqrt(2.0 / fanIn) : Math.sqrt(2.0 / (fanIn + fanOut));
      for (int i = 0; i < t.size(); i++) w[t.offset() + i] = std * gaussian(rnd);
    }
    return w;
  }

  private static double gaussian(SplittableRandom r) {
    // Box-Muller; SplittableRandom has no nextGaussian on Java 17
    double u1 = r.nextDouble(), u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Double-precision buffers for loss, gradient and exact Hessian-vector products (R-operator) of
   * blocks of up to {@code maxRows} rows; see {@link CurvatureWorkspace}. For curvature and
   * sharpness measures, not training.
   */
  public CurvatureWorkspace newCurvatureWorkspace(int maxRows) {
    return new CurvatureWorkspace(this, maxRows);
  }

  /** Buffers for blocks of up to {@code maxRows} rows. */
  public Workspace newWorkspace(ComputeBackend backend, int maxRows) {
    return new Workspace(backend, maxRows);
  }

  /**
   * Forward pass of {@code n} rows ({@code x}: numFeatures x n, column-major). Returns the logits
   * buffer (numOutputs x n) inside the workspace.
   */
  public Buf forward(Buf params, Buf x, int n, Workspace ws) {
    ComputeBackend be = ws.backend;
    ws.ensure(n);
    Buf in = x;
    for (int l = 1; l < sizes.length; l++) {
      ParamLayout.Tensor w = layout.tensors().get(2 * (l - 1));
      ParamLayout.Tensor b = layout.tensors().get(2 * (l - 1) + 1);
      Buf out = ws.act[l];
      int m = sizes[l], k = sizes[l - 1];
      be.gemm(false, false, m, n, k, 1.0, params, w.offset(), m, in, 0, k, 0.0, out, 0, m);
      be.addBias(out, m, n, params, b.offset());
      if (l < sizes.length - 1) activation.forward(be, out, m * n);
      in = out;
    }
    return ws.act[sizes.length - 1];
  }

  /** Weighted loss (and accuracy) statistics of {@code n} rows, without gradient. */
  public void loss(Buf params, Buf x, int n, double[] labels, double[] weights, int rowOff, double smoothing,
                   Workspace ws, LossStats stats) {
    Buf logits = forward(params, x, n, ws);
    applyHead(ws.backend, logits, n, labels, weights, rowOff, smoothing, null, stats);
  }

  /**
   * Adds the gradient of the <em>weighted sum</em> of the rows' losses to {@code grad} (a buffer of
   * numParams) and their statistics to {@code stats}. Dividing by the weight sum is the caller's.
   */
  public void lossAndGradient(Buf params, Buf x, int n, double[] labels, double[] weights, int rowOff,
                              double smoothing, Buf grad, Workspace ws, LossStats stats) {
    lossAndGradient(params, x, n, labels, weights, rowOff, smoothing, grad, ws, stats, null);
  }

  /**
   * Adds an extra term to the gradient with respect to the logits before backpropagation: called
   * with the logits (numOutputs x n) and the head's {@code delta} (same shape), which it may add to.
   * How regularisers on the outputs (SAF's and MESA's trajectory terms) join the backward pass.
   */
  public interface DeltaHook {
    void adjust(Buf logits, Buf delta, int n, LossStats stats);
  }

  /** {@link #lossAndGradient} with an optional {@link DeltaHook} (null: none). */
  public void lossAndGradient(Buf params, Buf x, int n, double[] labels, double[] weights, int rowOff,
                              double smoothing, Buf grad, Workspace ws, LossStats stats, DeltaHook hook) {
    ComputeBackend be = ws.backend;
    int last = sizes.length - 1;
    Buf logits = forward(params, x, n, ws);
    Buf delta = ws.delta[last % 2];
    applyHead(be, logits, n, labels, weights, rowOff, smoothing, delta, stats);
    if (hook != null) hook.adjust(logits, delta, n, stats);
    for (int l = last; l >= 1; l--) {
      ParamLayout.Tensor w = layout.tensors().get(2 * (l - 1));
      ParamLayout.Tensor b = layout.tensors().get(2 * (l - 1) + 1);
      int m = sizes[l], k = sizes[l - 1];
      Buf in = l == 1 ? x : ws.act[l - 1];
      be.gemm(false, true, m, k, n, 1.0, delta, 0, m, in, 0, k, 1.0, grad, w.offset(), m);
      be.addRowSums(delta, m, n, grad, b.offset());
      if (l > 1) {
        Buf prev = ws.delta[(l - 1) % 2];
        be.gemm(true, false, k, n, m, 1.0, params, w.offset(), m, delta, 0, m, 0.0, prev, 0, k);
        activation.backward(be, ws.act[l - 1], prev, k * n);
        delta = prev;
      }
    }
  }

  private void applyHead(ComputeBackend be, Buf logits, int n, double[] labels, double[] weights, int rowOff,
                         double smoothing, Buf delta, LossStats stats) {
    if (head == Head.BINOMIAL) be.sigmoidCrossEntropy(logits, n, labels, weights, rowOff, smoothing, delta, stats);
    else be.softmaxCrossEntropy(logits, numClasses, n, labels, weights, rowOff, smoothing, delta, stats);
  }

  /**
   * Raw scores of one row in MLlib's convention: the logits (multinomial) or {@code [-z, z]}
   * (binomial, like LogisticRegression). Double precision; for {@code transform}, not training.
   */
  public double[] predictRaw(double[] params, double[] features, Workspace ws) {
    Buf p = ws.paramsFor(params);
    Buf x = ws.input(features);
    Buf logits = forward(p, x, 1, ws);
    if (head == Head.BINOMIAL) {
      double z = logits.get(0);
      return new double[] {-z, z};
    }
    double[] out = new double[numClasses];
    for (int k = 0; k < numClasses; k++) out[k] = logits.get(k);
    return out;
  }

  /** A double-precision single-row workspace for {@link #predictRaw}. */
  public Workspace predictionWorkspace() { return new Workspace(CpuBackend.FLOAT64, 1); }

  @Override public String toString() {
    String kind = sizes.length == 2 ? (head == Head.BINOMIAL ? "LogisticRegression" : "SoftmaxRegression") : "MLP";
    return kind + Arrays.toString(sizes) + (sizes.length > 2 ? "(" + activation.paramValue() + ")" : "")
        + ", " + numParams() + " params";
  }

  /** Per-thread buffers: activations of each layer and two ping-pong delta buffers. */
  public final class Workspace {
    final ComputeBackend backend;
    final Buf[] act = new Buf[sizes.length];
    final Buf[] delta = new Buf[2];
    private int capacity;
    private Buf paramBuf;
    private Buf inputBuf;

    Workspace(ComputeBackend backend, int maxRows) {
      this.backend = backend;
      ensure(Math.max(1, maxRows));
    }

    public ComputeBackend backend() { return backend; }

    void ensure(int n) {
      if (n <= capacity) return;
      int maxUnits = 0;
      for (int l = 1; l < sizes.length; l++) {
        act[l] = backend.allocate(sizes[l] * n);
        maxUnits = Math.max(maxUnits, sizes[l]);
      }
      delta[0] = backend.allocate(maxUnits * n);
      delta[1] = backend.allocate(maxUnits * n);
      capacity = n;
    }

    /**
     * The current values of {@code params} as a buffer of this backend. float64 wraps the array
     * (no copy); float32 converts it on every call. No caching by array identity: callers such as
     * the optimizers update the same array in place, and a cached copy would go stale.
     */
    Buf paramsFor(double[] params) {
      if (backend.precision() == Precision.FLOAT64) return new Buf.DoubleBuf(params);
      if (paramBuf == null || paramBuf.length() != params.length) paramBuf = backend.allocate(params.length);
      paramBuf.setFrom(params, 0, 0, params.length);
      return paramBuf;
    }

    Buf input(double[] features) {
      if (inputBuf == null) inputBuf = backend.allocate(sizes[0]);
      inputBuf.setFrom(features, 0, 0, sizes[0]);
      return inputBuf;
    }
  }
}
