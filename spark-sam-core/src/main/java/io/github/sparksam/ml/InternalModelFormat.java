package io.github.sparksam.ml;

import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.util.MLFormatRegister;
import org.apache.spark.sql.SparkSession;

/**
 * MLlib writer format {@code "internal"} (GeneralMLWriter's default) for
 * {@link SharpnessAwareClassificationModel}: the {@code spark.ml} layout that {@code load} and
 * {@code Pipeline} persistence read, metadata plus one Parquet row. Registered in
 * {@code META-INF/services/org.apache.spark.ml.util.MLFormatRegister}, like MLlib's own models'.
 */
public final class InternalModelFormat implements MLFormatRegister {
  public static final String FORMAT = "internal";

  @Override public String format() { return FORMAT; }

  @Override public String stageName() { return SharpnessAwareClassificationModel.class.getName(); }

  @Override public void write(String path, SparkSession session, scala.collection.mutable.Map<String, String> options,
                              PipelineStage stage) {
    SharpnessAwareClassificationModel.Writer w = new SharpnessAwareClassificationModel.Writer(
        (SharpnessAwareClassificationModel) stage);
    w.session(session);
    w.saveImpl(path);
  }
}
