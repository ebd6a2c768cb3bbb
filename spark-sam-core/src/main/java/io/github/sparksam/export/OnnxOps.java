package io.github.sparksam.export;

import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.tribuo.util.onnx.ONNXAttribute;
import org.tribuo.util.onnx.ONNXOperator;
import org.tribuo.util.onnx.ONNXOperators;

/**
 * The standard ONNX operators (default domain, Tribuo's opset) that Tribuo's
 * {@link ONNXOperators} lacks and our networks need. Attribute specs follow the ONNX operator
 * documentation for that opset.
 */
enum OnnxOps implements ONNXOperator {
  /** {@code Relu(X)}. */
  RELU("Relu", 1, 0),
  /** {@code Tanh(X)}. */
  TANH("Tanh", 1, 0),
  /** {@code ArgMax(data)} along {@code axis}; int64 indices, the first on ties. */
  ARGMAX("ArgMax", 1, 0, new ONNXAttribute("axis", AttributeType.INT, false),
      new ONNXAttribute("keepdims", AttributeType.INT, false),
      new ONNXAttribute("select_last_index", AttributeType.INT, false)),
  /** {@code Reshape(data, shape)}; a -1 in the int64 {@code shape} takes the remaining size (the batch). */
  RESHAPE("Reshape", 2, 0),
  /** {@code Conv(X, W, B)}: cross-correlation of NCHW {@code X} with {@code W} {@code [M, C/group, kH, kW]}. */
  CONV("Conv", 2, 1, new ONNXAttribute("kernel_shape", AttributeType.INTS, false),
      new ONNXAttribute("strides", AttributeType.INTS, false), new ONNXAttribute("pads", AttributeType.INTS, false),
      new ONNXAttribute("dilations", AttributeType.INTS, false), new ONNXAttribute("group", AttributeType.INT, false)),
  /** {@code MaxPool(X)} over {@code kernel_shape} windows (output sizes rounded down: ceil_mode 0). */
  MAX_POOL("MaxPool", 1, 0, new ONNXAttribute("kernel_shape", AttributeType.INTS, true),
      new ONNXAttribute("strides", AttributeType.INTS, false), new ONNXAttribute("pads", AttributeType.INTS, false),
      new ONNXAttribute("ceil_mode", AttributeType.INT, false)),
  /** {@code AveragePool(X)}; {@code count_include_pad} 1 divides by the whole window, padding included. */
  AVERAGE_POOL("AveragePool", 1, 0, new ONNXAttribute("kernel_shape", AttributeType.INTS, true),
      new ONNXAttribute("strides", AttributeType.INTS, false), new ONNXAttribute("pads", AttributeType.INTS, false),
      new ONNXAttribute("count_include_pad", AttributeType.INT, false),
      new ONNXAttribute("ceil_mode", AttributeType.INT, false)),
  /** {@code GlobalAveragePool(X)}: {@code [N, C, H, W] -> [N, C, 1, 1]}. */
  GLOBAL_AVERAGE_POOL("GlobalAveragePool", 1, 0),
  /** {@code Transpose(data)} by {@code perm}. */
  TRANSPOSE("Transpose", 1, 0, new ONNXAttribute("perm", AttributeType.INTS, false)),
  /** {@code Flatten(input)}: {@code [d0, ..., d(axis-1)]} by the product of the rest. */
  FLATTEN("Flatten", 1, 0, new ONNXAttribute("axis", AttributeType.INT, false));

  private final String opName;
  private final int numInputs;
  private final int numOptionalInputs;
  private final Map<String, ONNXAttribute> attributes;

  OnnxOps(String opName, int numInputs, int numOptionalInputs, ONNXAttribute... attributes) {
    this.opName = opName;
    this.numInputs = numInputs;
    this.numOptionalInputs = numOptionalInputs;
    Map<String, ONNXAttribute> m = new LinkedHashMap<>();
    for (ONNXAttribute a : attributes) m.put(a.getName(), a);
    this.attributes = Collections.unmodifiableMap(m);
  }

  @Override public String getOpName() { return opName; }

  @Override public int getNumInputs() { return numInputs; }

  @Override public int getNumOptionalInputs() { return numOptionalInputs; }

  @Override public int getNumOutputs() { return 1; }

  @Override public Map<String, ONNXAttribute> getAttributes() { return attributes; }

  @Override public Set<String> getMandatoryAttributeNames() {
    return attributes.values().stream().filter(ONNXAttribute::isMandatory).map(ONNXAttribute::getName)
        .collect(Collectors.toUnmodifiableSet());
  }

  /** The same opset as Tribuo's operators, so that the model imports one version of the default domain. */
  @Override public int getOpVersion() { return ONNXOperators.getOpsetVersion(); }

  /** null: the default ONNX domain, as for Tribuo's operators. */
  @Override public String getOpDomain() { return null; }
}
