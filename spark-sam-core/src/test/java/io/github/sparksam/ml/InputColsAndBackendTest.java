package io.github.sparksam.ml;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.GpuUnavailableException;
import io.github.sparksam.testutil.SparkTestBase;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;

/** Several numeric feature columns (inputCols), and the computeBackend param without a GPU. */
class InputColsAndBackendTest extends SparkTestBase {

  private SharpnessAwareClassifier clf() {
    return new SharpnessAwareClassifier().setHiddenLayers(new int[] {4}).setPrecision("float64").setEpochs(2)
        .setBatchSize(16).setSeed(3);
  }

  /** x0 (double), x1 (float), x2 (int, scaled) plus the same values as an array<double> column. */
  private Dataset<Row> columns() {
    Dataset<Row> v = blobs(60, 3, 3, 11, false);
    Dataset<Row> arr = v.withColumn("arr", org.apache.spark.ml.functions.vector_to_array(col("features"), "float64"));
    return arr.withColumn("x0", col("arr").getItem(0))
        .withColumn("x1", col("arr").getItem(1).cast(DataTypes.FloatType))
        .withColumn("x2", col("arr").getItem(2).multiply(4).cast(DataTypes.IntegerType))
        .withColumn("arr", org.apache.spark.sql.functions.array(col("x0"), col("x1").cast("double"), col("x2").cast("double")))
        .drop("features");
  }

  @Test
  void inputColsTrainsLikeTheArrayColumn() {
    Dataset<Row> df = columns().cache();
    SharpnessAwareClassificationModel byCols = clf().setInputCols(new String[] {"x0", "x1", "x2"}).fit(df);
    SharpnessAwareClassificationModel byArray = clf().setFeaturesCol("arr").fit(df);
    assertArrayEquals(byArray.weights(), byCols.weights(), 0.0);
    assertEquals(3, byCols.numFeatures());

    // the model predicts from the same columns, keeps the input columns and adds only MLlib's outputs
    Dataset<Row> out = byCols.transform(df);
    assertEquals(List.of("label", "weight", "arr", "x0", "x1", "x2", "rawPrediction", "probability", "prediction"),
        List.of(out.columns()));
    List<Row> a = out.select("prediction").collectAsList();
    List<Row> b = byArray.transform(df).select("prediction").collectAsList();
    assertEquals(b, a);
    assertEquals(java.util.Set.of(out.columns()), java.util.Set.of(byCols.transformSchema(df.schema()).fieldNames()));
  }

  @Test
  void inputColsErrorsNameTheColumn() {
    Dataset<Row> df = columns().withColumn("s", col("x0").cast("string"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> clf().setInputCols(new String[] {"x0", "s"}).fit(df));
    assertTrue(e.getMessage().contains("input column 's' must be of a numeric type"), e.getMessage());
    IllegalArgumentException m = assertThrows(IllegalArgumentException.class,
        () -> clf().setInputCols(new String[] {"x0", "nope"}).fit(df));
    assertTrue(m.getMessage().contains("'nope' does not exist"), m.getMessage());
  }

  @Test
  void trainingInputIsWhatFitBlockifies() {
    Dataset<Row> prepared = clf().setInputCols(new String[] {"x0", "x1", "x2"}).trainingInput(columns());
    assertEquals("array<double>", prepared.schema().fields()[0].dataType().simpleString());
    assertEquals(3, prepared.columns().length);
  }

  @Test
  void autoFallsBackToTheCpuAndTheSummarySaysSo() {
    SharpnessAwareClassificationModel m = clf().setFeaturesCol("arr").fit(columns());
    assertEquals("auto", clf().getComputeBackend());
    assertTrue(m.summary().computeBackend().startsWith("cpu (auto: no GPU backend on the classpath"),
        m.summary().computeBackend());
    SharpnessAwareClassificationModel c = clf().setFeaturesCol("arr").setComputeBackend("cpu").fit(columns());
    assertEquals("cpu", c.summary().computeBackend());
    assertArrayEquals(m.weights(), c.weights(), 0.0);
  }

  @Test
  void gpuWithoutAGpuFailsBeforeAnyWork() {
    Dataset<Row> df = columns();
    long jobsBefore = spark.sparkContext().statusTracker().getJobIdsForGroup(null).length;
    GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
        () -> clf().setFeaturesCol("arr").setComputeBackend("gpu").fit(df));
    assertTrue(e.getMessage().startsWith("computeBackend=gpu but no GPU backend is on the classpath"), e.getMessage());
    assertEquals(jobsBefore, spark.sparkContext().statusTracker().getJobIdsForGroup(null).length,
        "no Spark job may run before the error");
    assertThrows(IllegalArgumentException.class, () -> clf().setComputeBackend("tpu"));
  }
}
