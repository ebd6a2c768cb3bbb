package io.github.sparksam.testutil;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/** One local[2] SparkSession per test class, as MLlib's own tests configure it, and small data sets. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class SparkTestBase {
  protected SparkSession spark;

  @BeforeAll
  void startSpark() {
    spark = SparkSession.builder()
        .master(master())
        .appName(getClass().getSimpleName())
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.unsafe.exceptionOnMemoryLeak", "true")
        .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
  }

  /** The master URL; subclasses may override (e.g. {@code local[2,4]} to allow task retries). */
  protected String master() {
    return System.getProperty("test.master", "local[2]");
  }

  @AfterAll
  void stopSpark() {
    if (spark != null) spark.stop();
  }

  public static final StructType SCHEMA = new StructType()
      .add("features", SQLDataTypes.VectorType(), false)
      .add("label", DataTypes.DoubleType, false)
      .add("weight", DataTypes.DoubleType, false);

  /**
   * Fits {@code e} with {@code spec} as this thread's {@link io.github.sparksam.train.FaultInjection}
   * property (null: no injected failures).
   */
  protected <M extends org.apache.spark.ml.Model<M>> M fitWithFaults(org.apache.spark.ml.Estimator<M> e, Dataset<Row> d,
                                                                      String spec) {
    spark.sparkContext().setLocalProperty(io.github.sparksam.train.FaultInjection.PROPERTY, spec);
    try {
      return e.fit(d);
    } finally {
      spark.sparkContext().setLocalProperty(io.github.sparksam.train.FaultInjection.PROPERTY, null);
    }
  }

  /**
   * Gaussian blobs: {@code k} classes in {@code d} dimensions, class c centred at 2*e_c (c < d),
   * unit noise; weights in [0.5, 1.5) when {@code weighted}. Deterministic for a seed.
   */
  protected Dataset<Row> blobs(int n, int d, int k, long seed, boolean weighted) {
    SplittableRandom r = new SplittableRandom(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int c = i % k;
      double[] x = new double[d];
      for (int j = 0; j < d; j++) x[j] = gauss(r) * 0.7 + (j == c % d ? 2.0 : 0.0) + (c >= d && j == 0 ? -2.0 : 0.0);
      rows.add(RowFactory.create(Vectors.dense(x), (double) c, weighted ? 0.5 + r.nextDouble() : 1.0));
    }
    return spark.createDataFrame(rows, SCHEMA);
  }

  protected static double gauss(SplittableRandom r) {
    return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
  }
}
