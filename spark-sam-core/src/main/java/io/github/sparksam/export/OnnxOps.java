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
      new ONNXAttribute("select_last_index", AttributeType.INT, false));

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
