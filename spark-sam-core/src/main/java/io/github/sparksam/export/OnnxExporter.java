package io.github.sparksam.export;

import ai.onnx.proto.OnnxMl;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.backend.Conv2dGeometry;
import io.github.sparksam.nn.ParamLayout;
import io.github.sparksam.nn.layers.ActivationLayer;
import io.github.sparksam.nn.layers.AvgPool2dLayer;
import io.github.sparksam.nn.layers.Conv2dLayer;
import io.github.sparksam.nn.layers.DenseLayer;
import io.github.sparksam.nn.layers.FlattenLayer;
import io.github.sparksam.nn.layers.GlobalAvgPoolLayer;
import io.github.sparksam.nn.layers.MaxPool2dLayer;
import io.github.sparksam.nn.layers.Shape;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.tribuo.util.onnx.ONNXContext;
import org.tribuo.util.onnx.ONNXNode;
import org.tribuo.util.onnx.ONNXOperators;
import org.tribuo.util.onnx.ONNXRef;

/**
 * Turns a {@link SharpnessAwareClassificationModel} into one ONNX model (IR version {@value #IR_VERSION},
 * default-domain opset 13, Tribuo's), so that it can be served without Spark, e.g. by ONNX Runtime.
 *
 * <p>Graph: input {@value #INPUT}, float32 {@code [batch, numFeatures]} (the model's features vector; the
 * batch dimension is dynamic; a convolutional network's row, stored NCHW, is reshaped to {@code [batch, C, H, W]}
 * inside the graph); outputs {@value #RAW} (float32 {@code [batch, numClasses]}: the logits, or
 * {@code [-z, z]} for the binomial head, as {@code transform}'s column), {@value #PROBABILITY} (float32
 * {@code [batch, numClasses]}: softmax of the logits, or {@code [1 - sigmoid(z), sigmoid(z)]}) and
 * {@value #PREDICTION} (int64 {@code [batch]}: the class index, as MLlib predicts it: the largest raw score,
 * or the largest {@code probability / threshold} when the model has {@code thresholds}).
 *
 * <p>Weights are stored as float32, and the graph computes in float32 while {@code transform} computes in
 * float64: expect probabilities to differ by about 1e-7 to 1e-6 (docs/SERVING.md). Each layer kind maps to
 * ONNX nodes in one method, {@link #emit}; the layer list comes from {@link #layers}.
 */
public final class OnnxExporter {
  private OnnxExporter() {}

  /** ONNX IR version of the file: the one that introduced opset 13. */
  public static final long IR_VERSION = 7;
  /** The default-domain opset the graph imports. */
  public static final int OPSET = ONNXOperators.getOpsetVersion();
  public static final String INPUT = "features";
  public static final String RAW = "rawPrediction";
  public static final String PROBABILITY = "probability";
  public static final String PREDICTION = "prediction";
  private static final String BATCH = "batch";
  /** A protobuf message is limited to 2 GiB; leave room for the graph. */
  private static final long MAX_PARAMS = (1L << 31) / Float.BYTES - (1 << 20);

  /** One step of the forward pass, as the exporter sees it. */
  interface Layer {}

  /** {@code x W^T + b}: a dense layer's weight ({@code out x in}, column-major) and bias tensors. */
  record Dense(ParamLayout.Tensor weight, ParamLayout.Tensor bias) implements Layer {}

  /** An element-wise hidden activation. */
  record Act(Activation activation) implements Layer {}

  /** The flat input row, stored NCHW, as the {@code [batch, C, H, W]} tensor the convolutions read. */
  record Unflatten(Shape shape) implements Layer {}

  /** A convolution: its kernel ({@code filters x C kH kW}, column-major) and bias tensors and its window. */
  record Conv(ParamLayout.Tensor kernel, ParamLayout.Tensor bias, Conv2dGeometry window) implements Layer {}

  /** Max ({@code max}) or average pooling over the window. */
  record Pool(boolean max, Conv2dGeometry window) implements Layer {}

  /** The mean of each channel. */
  record GlobalAvgPool() implements Layer {}

  /**
   * The row as a flat vector in the order the network stored it: HWC after a convolution or pooling layer
   * ({@code channelsLast}), else the input's CHW.
   */
  record Flatten(boolean channelsLast) implements Layer {}

  /**
   * The network's forward pass up to the logits, one exporter layer per network layer (for a convolutional
   * network, after an {@link Unflatten} of the input row). Tensor names follow {@code Network}'s numbering: the
   * n-th layer with parameters owns {@code K<n>} or {@code W<n>}, and {@code b<n>}.
   */
  static List<Layer> layers(Network n) {
    List<Layer> out = new ArrayList<>();
    if (n.isConvolutional()) out.add(new Unflatten(n.inputShape()));
    ParamLayout p = n.layout();
    boolean channelsLast = false;    // convolution and pooling layers store their output HWC (Conv2dGeometry)
    int number = 0;
    for (io.github.sparksam.nn.layers.Layer l : n.layers()) {
      if (l.hasParams()) number++;
      if (l instanceof DenseLayer) {
        out.add(new Dense(p.tensor("W" + number), p.tensor("b" + number)));
      } else if (l instanceof ActivationLayer a) {
        out.add(new Act(a.activation()));
      } else if (l instanceof Conv2dLayer c) {
        out.add(new Conv(p.tensor("K" + number), p.tensor("b" + number), c.geometry()));
      } else if (l instanceof MaxPool2dLayer m) {
        out.add(new Pool(true, m.geometry()));
      } else if (l instanceof GlobalAvgPoolLayer) {
        out.add(new GlobalAvgPool());
      } else if (l instanceof AvgPool2dLayer a) {
        out.add(new Pool(false, a.geometry()));
      } else if (l instanceof FlattenLayer f) {
        out.add(new Flatten(channelsLast && !f.inputShape().isFlat()));
      } else {
        throw new IllegalArgumentException("cannot export a " + l.getClass().getSimpleName() + " layer to ONNX");
      }
      if (!(l instanceof FlattenLayer || l instanceof DenseLayer || l instanceof ActivationLayer)) channelsLast = true;
    }
    return out;
  }

  /**
   * The ONNX nodes of one layer, applied to {@code in}; the one place where a layer kind maps to ONNX. A new
   * kind is a record above, a case here and a line in {@link #layers}; the head and the outputs stay as they are.
   * Between convolution and pooling nodes the tensors are ONNX's NCHW; the network's HWC storage only shows at a
   * {@link Flatten}, which transposes to NHWC first so that the next dense layer sees its inputs in its order.
   */
  static ONNXRef<?> emit(ONNXContext ctx, Layer layer, ONNXRef<?> in, double[] w, int index) {
    if (layer instanceof Dense d) {
      ParamLayout.Tensor wt = d.weight();
      // column-major out x in is, read row-major, the in x out matrix W^T: Gemm(x, W^T, b) with transB = 0
      ONNXRef<?> weight = ctx.floatTensor(wt.name(), List.of(wt.cols(), wt.rows()), buf -> {
        for (int i = 0; i < wt.size(); i++) buf.put((float) w[wt.offset() + i]);
      });
      return ctx.operation(ONNXOperators.GEMM, List.of(in, weight, vector(ctx, d.bias(), w)), "dense" + index, Map.of());
    }
    if (layer instanceof Act a) {
      OnnxOps op = switch (a.activation()) {
        case RELU -> OnnxOps.RELU;
        case TANH -> OnnxOps.TANH;
      };
      return ctx.operation(op, List.of(in), a.activation().paramValue() + index, Map.of());
    }
    if (layer instanceof Unflatten u) {
      Shape s = u.shape();
      ONNXRef<?> shape = ctx.array("input_shape", new long[] {-1, s.channels(), s.height(), s.width()});
      return ctx.operation(OnnxOps.RESHAPE, List.of(in, shape), "unflatten" + index, Map.of());
    }
    if (layer instanceof Conv c) {
      ParamLayout.Tensor k = c.kernel();
      Conv2dGeometry g = c.window();
      int filters = k.rows(), patch = k.cols();
      // K is filters x patch column-major, a window's entries ordered (c, ky, kx): transposed to row-major
      // [filters, patch] it is ONNX's [M, C, kH, kW]
      ONNXRef<?> kernel = ctx.floatTensor(k.name(), List.of(filters, g.channels, g.kernelH, g.kernelW), buf -> {
        for (int f = 0; f < filters; f++) {
          for (int r = 0; r < patch; r++) buf.put((float) w[k.offset() + f + r * filters]);
        }
      });
      Map<String, Object> attrs = window(g);
      attrs.put("dilations", new int[] {1, 1});
      attrs.put("group", 1);
      return ctx.operation(OnnxOps.CONV, List.of(in, kernel, vector(ctx, c.bias(), w)), "conv" + index, attrs);
    }
    if (layer instanceof Pool p) {
      Map<String, Object> attrs = window(p.window());
      attrs.put("ceil_mode", 0);                      // floor((H + 2 pad - k) / stride) + 1, as Conv2dGeometry
      if (!p.max()) attrs.put("count_include_pad", 1); // ours divides by kH kW, padding or not (pools have none)
      return ctx.operation(p.max() ? OnnxOps.MAX_POOL : OnnxOps.AVERAGE_POOL, List.of(in),
          (p.max() ? "maxpool" : "avgpool") + index, attrs);
    }
    if (layer instanceof GlobalAvgPool) {
      return ctx.operation(OnnxOps.GLOBAL_AVERAGE_POOL, List.of(in), "globalavgpool" + index, Map.of());
    }
    if (layer instanceof Flatten f) {
      ONNXRef<?> x = in;
      if (f.channelsLast()) {
        x = ctx.operation(OnnxOps.TRANSPOSE, List.of(in), "to_nhwc" + index, Map.of("perm", new int[] {0, 2, 3, 1}));
      }
      return ctx.operation(OnnxOps.FLATTEN, List.of(x), "flatten" + index, Map.of("axis", 1));
    }
    throw new IllegalArgumentException("cannot export a " + layer.getClass().getSimpleName() + " layer to ONNX");
  }

  /** A bias vector as a float32 initializer. */
  private static ONNXRef<?> vector(ONNXContext ctx, ParamLayout.Tensor b, double[] w) {
    return ctx.floatTensor(b.name(), List.of(b.size()), buf -> {
      for (int i = 0; i < b.size(); i++) buf.put((float) w[b.offset() + i]);
    });
  }

  /** The window attributes of Conv and the pools, in a fixed order (the same model gives the same bytes). */
  private static Map<String, Object> window(Conv2dGeometry g) {
    Map<String, Object> attrs = new LinkedHashMap<>();
    attrs.put("kernel_shape", new int[] {g.kernelH, g.kernelW});
    attrs.put("strides", new int[] {g.stride, g.stride});
    attrs.put("pads", new int[] {g.pad, g.pad, g.pad, g.pad});
    return attrs;
  }

  /** The ONNX model of {@code model}; see the class comment for its inputs and outputs. */
  public static OnnxMl.ModelProto toModel(SharpnessAwareClassificationModel model) {
    Network net = model.network();
    if (net.numParams() > MAX_PARAMS) {
      throw new IllegalArgumentException("the model has " + net.numParams() + " parameters; an ONNX file holds at most "
          + MAX_PARAMS + " float32 weights inline (external weight files are not supported)");
    }
    double[] thresholds = thresholds(model);
    double[] w = model.weights();
    int k = net.numClasses();
    ONNXContext ctx = new ONNXContext();
    ctx.setName("spark_sam");
    ONNXRef<?> x = ctx.floatInput(INPUT, net.numFeatures());
    List<Layer> layers = layers(net);
    for (int i = 0; i < layers.size(); i++) x = emit(ctx, layers.get(i), x, w, i);
    ONNXRef<?> raw, prob;
    if (net.head() == Network.Head.BINOMIAL) {
      // MLlib's convention (LogisticRegression): raw = [-z, z], probability = [sigmoid(-z), sigmoid(z)]
      ONNXNode neg = ctx.operation(ONNXOperators.NEG, List.of(x), "neg_logit", Map.of());
      raw = ctx.operation(ONNXOperators.CONCAT, List.of(neg, x), "raw", Map.of("axis", 1));
      prob = ctx.operation(ONNXOperators.SIGMOID, List.of(raw), "prob", Map.of());
    } else {
      raw = x;
      prob = ctx.operation(ONNXOperators.SOFTMAX, List.of(x), "prob", Map.of("axis", 1));
    }
    ONNXRef<?> scores = raw;
    if (thresholds != null) {
      float[] inv = new float[k];
      for (int c = 0; c < k; c++) inv[c] = (float) (1.0 / thresholds[c]);
      scores = ctx.operation(ONNXOperators.MUL, List.of(prob, ctx.array("inverse_thresholds", inv)), "scaled", Map.of());
    }
    Map<String, Object> argmaxAttrs = new LinkedHashMap<>(); // ordered: the same model gives the same bytes
    argmaxAttrs.put("axis", 1);
    argmaxAttrs.put("keepdims", 0);
    argmaxAttrs.put("select_last_index", 0);
    ONNXNode argmax = ctx.operation(OnnxOps.ARGMAX, List.of(scores), "argmax", argmaxAttrs);
    raw.assignTo(ctx.floatOutput(RAW, k));
    prob.assignTo(ctx.floatOutput(PROBABILITY, k));
    // Tribuo's context declares float outputs only: the int64 class index is added to the built graph
    OnnxMl.GraphProto graph = ctx.buildGraph().toBuilder()
        .addNode(ONNXOperators.IDENTITY.build(ctx, argmax.getReference(), PREDICTION))
        .addOutput(OnnxMl.ValueInfoProto.newBuilder().setName(PREDICTION).setType(OnnxMl.TypeProto.newBuilder()
            .setTensorType(OnnxMl.TypeProto.Tensor.newBuilder().setElemType(OnnxMl.TensorProto.DataType.INT64.getNumber())
                .setShape(OnnxMl.TensorShapeProto.newBuilder()
                    .addDim(OnnxMl.TensorShapeProto.Dimension.newBuilder().setDimParam(BATCH))))))
        .setDocString("spark-sam " + net + ": input '" + INPUT + "', outputs '" + RAW + "', '" + PROBABILITY
            + "', '" + PREDICTION + "'")
        .build();
    OnnxMl.ModelProto.Builder mb = OnnxMl.ModelProto.newBuilder()
        .setIrVersion(IR_VERSION)
        .addOpsetImport(ONNXOperators.getOpsetProto())
        .setProducerName("spark-sam")
        .setDomain("io.github.sparksam")
        .setModelVersion(1)
        .setDocString("SharpnessAwareClassificationModel " + model.uid() + " exported by spark-sam (see docs/SERVING.md)")
        .setGraph(graph);
    String version = OnnxExporter.class.getPackage().getImplementationVersion();
    if (version != null) mb.setProducerVersion(version);
    meta(mb, "spark-sam.uid", model.uid());
    meta(mb, "spark-sam.network", net.toString());
    meta(mb, "spark-sam.head", net.head().name().toLowerCase(java.util.Locale.ROOT));
    meta(mb, "spark-sam.numClasses", Integer.toString(k));
    if (thresholds != null) meta(mb, "spark-sam.thresholds", Arrays.toString(thresholds));
    return mb.build();
  }

  private static void meta(OnnxMl.ModelProto.Builder mb, String key, String value) {
    mb.addMetadataProps(OnnxMl.StringStringEntryProto.newBuilder().setKey(key).setValue(value));
  }

  /** The model's thresholds (null when unset), checked as MLlib would before predicting. */
  private static double[] thresholds(SharpnessAwareClassificationModel model) {
    if (!model.isDefined(model.thresholds())) return null;
    double[] t = model.getThresholds();
    if (t.length != model.numClasses()) {
      throw new IllegalArgumentException("the model's thresholds have " + t.length + " entries but it has "
          + model.numClasses() + " classes");
    }
    for (double v : t) {
      if (!(v > 0)) {
        throw new IllegalArgumentException("cannot export thresholds " + Arrays.toString(t) + " to ONNX: the graph "
            + "divides the probabilities by them, so each must be > 0 (MLlib's special case of a 0 threshold is not "
            + "reproduced); clear them or use small positive values");
      }
    }
    return t;
  }

  /** The serialised ONNX model. */
  public static byte[] toBytes(SharpnessAwareClassificationModel model) {
    return toModel(model).toByteArray();
  }

  /**
   * Writes the ONNX file to {@code path} on any Hadoop file system, replacing an existing file (MLWriter's
   * {@code overwrite} check runs before this). No {@code .crc} file is left next to a local one.
   */
  public static void write(SharpnessAwareClassificationModel model, String path, Configuration conf) {
    byte[] bytes = toBytes(model);
    Path p = new Path(path);
    try {
      FileSystem fs = p.getFileSystem(conf);
      if (fs instanceof LocalFileSystem local) fs = local.getRaw();
      try (OutputStream out = fs.create(p, true)) {
        out.write(bytes);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the ONNX model to " + path + ": " + e.getMessage(), e);
    }
  }
}
