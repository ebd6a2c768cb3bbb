package io.github.sparksam.nn;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.backend.Precision;
import io.github.sparksam.nn.layers.ActivationLayer;
import io.github.sparksam.nn.layers.Architecture;
import io.github.sparksam.nn.layers.DenseLayer;
import io.github.sparksam.nn.layers.Layer;
import io.github.sparksam.nn.layers.LayerBuffers;
import io.github.sparksam.nn.layers.Shape;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A feed-forward classifier on one flat parameter vector: a stack of {@link Layer}s (dense,
 * convolution, pooling, flatten, activations), then a softmax (multinomial) or sigmoid (binomial,
 * one logit) cross-entropy head. With one dense layer it is softmax / logistic regression; dense
 * layers with an activation between them make an MLP; {@link #cnn} builds a convolutional network
 * from an {@link Architecture} specification. Each layer owns its tensors in the {@link ParamLayout}
 * (which records weight vs bias) and its block forward, backward and R-operator, so the training
 * loop, the rules and the measures see only the flat vector.
 *
 * <p>Forward and backward work on a block of {@code n} rows at once (GEMMs through the
 * {@link ComputeBackend}); per-task buffers live in a {@link Workspace} so that nothing big is
 * allocated per step.
 */
public final class Network implements Serializable {
  private static final long serialVersionUID = 1L;

  /** How the last layer's outputs become class probabilities. */
  public enum Head { MULTINOMIAL, BINOMIAL }

  private final Shape input;
  private final Layer[] layers;
  private final Activation activation;
  private final Head head;
  private final int numClasses;
  private final ParamLayout layout;
  /** The convolutional network's {@code layers} specification (normal form); null for softmax and MLPs. */
  private final String architecture;

  private Network(Shape input, List<Layer> layers, int numClasses, Activation activation, Head head,
                  String architecture) {
    this.input = input;
    this.layers = layers.toArray(new Layer[0]);
    this.activation = activation;
    this.head = head;
    this.numClasses = numClasses;
    this.architecture = architecture;
    ParamLayout.Builder b = new ParamLayout.Builder();
    int number = 0;
    for (Layer l : this.layers) if (l.hasParams()) l.declareTensors(b, ++number);
    this.layout = b.build();
  }

  private static int outputsOf(int numFeatures, int numClasses, Head head) {
    if (numFeatures < 1) throw new IllegalArgumentException("numFeatures must be >= 1, got " + numFeatures);
    if (numClasses < 2) throw new IllegalArgumentException("numClasses must be >= 2, got " + numClasses);
    if (head == Head.BINOMIAL && numClasses != 2) {
      throw new IllegalArgumentException("the binomial head needs exactly 2 classes, got " + numClasses);
    }
    return head == Head.BINOMIAL ? 1 : numClasses;
  }

  /** Softmax regression (multinomial) or logistic regression (binomial). */
  public static Network linear(int numFeatures, int numClasses, Head head) {
    return mlp(numFeatures, new int[0], numClasses, Activation.RELU, head);
  }

  /** A multi-layer perceptron with the given hidden layer sizes. */
  public static Network mlp(int numFeatures, int[] hidden, int numClasses, Activation activation, Head head) {
    int outputs = outputsOf(numFeatures, numClasses, head);
    for (int h : hidden) if (h < 1) throw new IllegalArgumentException("hidden layer sizes must be >= 1, got " + Arrays.toString(hidden));
    List<Layer> ls = new ArrayList<>();
    Shape s = Shape.flat(numFeatures);
    for (int h : hidden) {
      DenseLayer d = new DenseLayer(s, h);
      ls.add(d);
      ls.add(new ActivationLayer(d.outputShape(), activation));
      s = d.outputShape();
    }
    ls.add(new DenseLayer(s, outputs));
    return new Network(Shape.flat(numFeatures), ls, numClasses, activation, head, null);
  }

  /**
   * A convolutional network on rows of shape {@code input} (stored NCHW), built from the
   * {@code layers} specification (see {@link Architecture}); every convolution and dense layer is
   * followed by {@code activation}, and the output layer is appended.
   */
  public static Network cnn(Shape input, String layers, int numClasses, Activation activation, Head head) {
    int outputs = outputsOf(input.size(), numClasses, head);
    Architecture a = Architecture.build(layers, input, outputs, activation);
    return new Network(input, a.layers(), numClasses, activation, head, a.canonical());
  }

  public ParamLayout layout() { return layout; }

  public int numParams() { return layout.size(); }

  public int numFeatures() { return input.size(); }

  /** The shape of one input row. */
  public Shape inputShape() { return input; }

  public int numClasses() { return numClasses; }

  /** Number of logits per row: 1 for the binomial head, else numClasses. */
  public int numOutputs() { return layers[layers.length - 1].outputShape().size(); }

  public Head head() { return head; }

  public Activation activation() { return activation; }

  /** The layers, activations and output layer included. */
  public List<Layer> layers() { return List.of(layers); }

  /** True for a network built by {@link #cnn}. */
  public boolean isConvolutional() { return architecture != null; }

  /** The {@link #cnn} specification in normal form; null for softmax regression and MLPs. */
  public String architecture() { return architecture; }

  /** Widths of the hidden dense layers (the MLP's hidden layers). */
  public int[] hiddenLayers() {
    List<Integer> w = new ArrayList<>();
    for (int i = 0; i < layers.length - 1; i++) if (layers[i] instanceof DenseLayer d) w.add(d.units());
    return w.stream().mapToInt(Integer::intValue).toArray();
  }

  /**
   * Initial parameters: zeros for linear models; He (relu) or Glorot (tanh) normal weights (dense
   * matrices and convolution kernels, in layer order) and zero biases otherwise, from {@code seed}.
   */
  public double[] initialParams(long seed) {
    double[] w = new double[numParams()];
    if (layers.length == 1) return w;
    SplittableRandom rnd = new SplittableRandom(seed);
    for (Layer l : layers) l.initialize(w, rnd, activation);
    return w;
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
    for (int i = 0; i < layers.length; i++) {
      Buf out = ws.output(i, in);
      layers[i].forward(be, params, in, n, out, ws.buffers[i]);
      in = out;
    }
    return in;
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
    Buf logits = forward(params, x, n, ws);
    int cur = 0;
    Buf delta = ws.delta[cur];
    applyHead(be, logits, n, labels, weights, rowOff, smoothing, delta, stats);
    if (hook != null) hook.adjust(logits, delta, n, stats);
    for (int i = layers.length - 1; i >= 0; i--) {
      Buf in = i == 0 ? x : ws.outputs[i - 1];
      Buf dx = i == 0 ? null : ws.inPlace(i) ? delta : ws.delta[1 - cur];
      layers[i].backward(be, params, in, ws.outputs[i], delta, n, grad, dx, ws.buffers[i]);
      if (dx != null && dx != delta) cur = 1 - cur;
      delta = dx;
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
    if (architecture != null) {
      return "CNN(" + input + ": " + architecture + " -> " + numOutputs() + ", " + activation.paramValue() + "), "
          + numParams() + " params";
    }
    int[] hidden = hiddenLayers();
    int[] sizes = new int[hidden.length + 2];
    sizes[0] = numFeatures();
    System.arraycopy(hidden, 0, sizes, 1, hidden.length);
    sizes[sizes.length - 1] = numOutputs();
    String kind = sizes.length == 2 ? (head == Head.BINOMIAL ? "LogisticRegression" : "SoftmaxRegression") : "MLP";
    return kind + Arrays.toString(sizes) + (sizes.length > 2 ? "(" + activation.paramValue() + ")" : "")
        + ", " + numParams() + " params";
  }

  /**
   * Per-thread buffers: each layer's output (in-place layers share their input's), two ping-pong
   * delta buffers, the shared im2col matrix and per-layer index buffers; grown only when a larger
   * block arrives.
   */
  public final class Workspace {
    final ComputeBackend backend;
    final Buf[] outputs = new Buf[layers.length];
    final Buf[] delta = new Buf[2];
    final LayerBuffers[] buffers = new LayerBuffers[layers.length];
    private int capacity;
    private Buf paramBuf;
    private Buf inputBuf;

    Workspace(ComputeBackend backend, int maxRows) {
      this.backend = backend;
      ensure(Math.max(1, maxRows));
    }

    public ComputeBackend backend() { return backend; }

    /** Layer {@code i} works in place (never the first: it must not overwrite the caller's input). */
    boolean inPlace(int i) { return i > 0 && layers[i].inPlace(); }

    Buf output(int i, Buf in) {
      if (inPlace(i)) outputs[i] = in;
      return outputs[i];
    }

    void ensure(int n) {
      if (n <= capacity) return;
      int maxUnits = 0, maxCols = 0;
      for (int i = 0; i < layers.length; i++) {
        if (!inPlace(i)) outputs[i] = backend.allocate(layers[i].outputShape().size() * n);
        maxUnits = Math.max(maxUnits, layers[i].outputShape().size());
        maxCols = Math.max(maxCols, layers[i].colsFor(n));
      }
      delta[0] = backend.allocate(maxUnits * n);
      delta[1] = backend.allocate(maxUnits * n);
      Buf cols = maxCols == 0 ? null : backend.allocate(maxCols);
      for (int i = 0; i < layers.length; i++) {
        int idx = layers[i].indicesPerRow();
        buffers[i] = new LayerBuffers(cols, idx == 0 ? null : new int[idx * n]);
      }
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
      if (inputBuf == null) inputBuf = backend.allocate(numFeatures());
      inputBuf.setFrom(features, 0, 0, numFeatures());
      return inputBuf;
    }
  }
}
