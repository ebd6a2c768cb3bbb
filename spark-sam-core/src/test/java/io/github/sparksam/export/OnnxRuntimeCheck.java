package io.github.sparksam.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Runs an exported model in ONNX Runtime (Java API) and compares it with {@code model.transform} on
 * the same rows: the oracle of the export tests. Test-only; shared by the core and CLI tests.
 */
public final class OnnxRuntimeCheck {
  private OnnxRuntimeCheck() {}

  /** Maximum absolute probability difference the tests accept (float32 graph vs float64 transform). */
  public static final double TOLERANCE = 1e-5;

  /** ONNX Runtime's outputs for a batch of rows. */
  public record Outputs(float[][] raw, float[][] probability, long[] prediction) {}

  /** Runs the ONNX model {@code onnx} on {@code rows} (float32, as a server would send them). */
  public static Outputs run(byte[] onnx, float[][] rows) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(onnx, new OrtSession.SessionOptions());
         OnnxTensor in = OnnxTensor.createTensor(env, rows);
         OrtSession.Result r = s.run(Map.of(OnnxExporter.INPUT, in))) {
      return new Outputs((float[][]) r.get(OnnxExporter.RAW).orElseThrow().getValue(),
          (float[][]) r.get(OnnxExporter.PROBABILITY).orElseThrow().getValue(),
          (long[]) r.get(OnnxExporter.PREDICTION).orElseThrow().getValue());
    }
  }

  /**
   * Checks the file's signature (names, element types, dynamic batch dimension) and that ONNX Runtime
   * reproduces {@code transformed}'s probability (within {@link #TOLERANCE}), rawPrediction and prediction
   * columns, computed from its {@code featuresCol}. Returns the largest probability difference.
   */
  public static double assertMatches(byte[] onnx, Dataset<Row> transformed, String featuresCol, int numFeatures,
                                     int numClasses) throws Exception {
    assertSignature(onnx, numFeatures, numClasses);
    List<Row> rows = transformed.select(featuresCol, "rawPrediction", "probability", "prediction").collectAsList();
    assertTrue(rows.size() > 0, "no rows to compare");
    float[][] x = new float[rows.size()][];
    for (int i = 0; i < rows.size(); i++) {
      double[] v = ((Vector) rows.get(i).get(0)).toArray();
      x[i] = new float[v.length];
      for (int j = 0; j < v.length; j++) x[i][j] = (float) v[j];
    }
    Outputs o = run(onnx, x);
    assertEquals(rows.size(), o.prediction().length);
    double maxProb = 0, maxRawRel = 0;
    long[] expected = new long[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      double[] raw = ((Vector) rows.get(i).get(1)).toArray(), p = ((Vector) rows.get(i).get(2)).toArray();
      assertEquals(numClasses, o.probability()[i].length);
      for (int c = 0; c < numClasses; c++) {
        maxProb = Math.max(maxProb, Math.abs(p[c] - o.probability()[i][c]));
        maxRawRel = Math.max(maxRawRel, Math.abs(raw[c] - o.raw()[i][c]) / Math.max(1, Math.abs(raw[c])));
      }
      expected[i] = (long) rows.get(i).getDouble(3);
    }
    System.out.printf(java.util.Locale.ROOT, "ONNX Runtime vs transform: %d rows, max |probability difference| %.3e, "
        + "max relative rawPrediction difference %.3e%n", rows.size(), maxProb, maxRawRel);
    assertTrue(maxProb <= TOLERANCE, "max |probability difference| " + maxProb + " > " + TOLERANCE);
    assertTrue(maxRawRel <= 1e-4, "max relative rawPrediction difference " + maxRawRel);
    assertArrayEquals(expected, o.prediction(), "predicted classes differ");
    return maxProb;
  }

  /** Input features float32 [batch, numFeatures]; outputs float32 [batch, numClasses] twice and int64 [batch]. */
  static void assertSignature(byte[] onnx, int numFeatures, int numClasses) throws Exception {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession s = env.createSession(onnx, new OrtSession.SessionOptions())) {
      Map<String, NodeInfo> in = s.getInputInfo(), out = s.getOutputInfo();
      assertEquals(List.of(OnnxExporter.INPUT), List.copyOf(in.keySet()));
      TensorInfo f = (TensorInfo) in.get(OnnxExporter.INPUT).getInfo();
      assertEquals(OnnxJavaType.FLOAT, f.type);
      assertArrayEquals(new long[] {-1, numFeatures}, f.getShape());
      assertEquals(List.of(OnnxExporter.RAW, OnnxExporter.PROBABILITY, OnnxExporter.PREDICTION),
          List.copyOf(out.keySet()));
      for (String o : List.of(OnnxExporter.RAW, OnnxExporter.PROBABILITY)) {
        TensorInfo t = (TensorInfo) out.get(o).getInfo();
        assertEquals(OnnxJavaType.FLOAT, t.type, o);
        assertArrayEquals(new long[] {-1, numClasses}, t.getShape(), o);
      }
      TensorInfo p = (TensorInfo) out.get(OnnxExporter.PREDICTION).getInfo();
      assertEquals(OnnxJavaType.INT64, p.type);
      assertArrayEquals(new long[] {-1}, p.getShape());
    }
  }
}
