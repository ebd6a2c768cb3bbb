package io.github.sparksam.export;

import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.util.MLFormatRegister;
import org.apache.spark.sql.SparkSession;

/**
 * MLlib writer format {@code "onnx"} for {@link SharpnessAwareClassificationModel}, found by
 * {@code GeneralMLWriter} through {@code META-INF/services/org.apache.spark.ml.util.MLFormatRegister}
 * (as MLlib's own {@code "pmml"} format is): {@code model.write().format("onnx").save(file)} writes one
 * {@code .onnx} file at {@code file} (see {@link OnnxExporter}).
 */
public final class OnnxModelFormat implements MLFormatRegister {
  public static final String FORMAT = "onnx";

  @Override public String format() { return FORMAT; }

  @Override public String stageName() { return SharpnessAwareClassificationModel.class.getName(); }

  @Override public void write(String path, SparkSession session, scala.collection.mutable.Map<String, String> options,
                              PipelineStage stage) {
    try {
      OnnxExporter.write((SharpnessAwareClassificationModel) stage, path, session.sparkContext().hadoopConfiguration());
    } catch (LinkageError e) {
      // Tribuo missing, or Spark's protobuf-java 3.19 ahead of the 3.25 that Tribuo's classes need
      throw new IllegalStateException("ONNX export needs tribuo-util-onnx and protobuf-java 3.25 on the classpath, "
          + "ahead of Spark's protobuf-java (" + e + "); use the spark-sam-examples app jar, which bundles them "
          + "relocated (docs/SERVING.md)", e);
    }
  }
}
