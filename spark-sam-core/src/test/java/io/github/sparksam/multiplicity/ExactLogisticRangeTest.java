package io.github.sparksam.multiplicity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.testutil.SparkTestBase;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/** The exact viable prediction range against the spec's oracles (§4.7) and a brute-force grid. */
class ExactLogisticRangeTest extends SparkTestBase {

  static final double[] X6 = {-2, -1, 0, 1, 2, 3};
  static final double[] Y6 = {0, 0, 1, 0, 1, 1};

  Dataset<Row> sixPoints() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < X6.length; i++) rows.add(RowFactory.create(Vectors.dense(X6[i]), Y6[i], 1.0));
    return spark.createDataFrame(rows, SCHEMA);
  }

  JavaRDD<BlockedPartition> blocks(Dataset<Row> df, int partitions) {
    return Blockifier.blockify(df, new InputColumns("features", "label", null), Precision.FLOAT64, partitions, 2).cache();
  }

  ExactLogisticRange solver(Dataset<Row> df, int partitions, double l2) {
    LogisticObjective obj = new LogisticObjective(blocks(df, partitions), df.first().<org.apache.spark.ml.linalg.Vector>getAs(0).size(), l2, 64);
    return new ExactLogisticRange(obj, 1e-7, 100);
  }

  @Test
  void sixPointOracle() {
    ExactLogisticRange s = solver(sixPoints(), 2, 0.0);
    ExactLogisticRange.Baseline b = s.fitBaseline();
    assertEquals(1.214028, b.weights()[0], 1e-6);
    assertEquals(-0.607014, b.weights()[1], 1e-6);
    assertEquals(0.4129978, b.loss(), 1e-7);
    List<ExactLogisticRange.Result> res = s.ranges(b, new long[] {0, 3}, new double[][] {{0}, {3}}, new double[] {0.01, 0.05});
    double[][] expect = {
        {0.352741, 0.259692, 0.450442}, {0.954134, 0.901656, 0.981838},
        {0.352741, 0.159990, 0.569898}, {0.954134, 0.793275, 0.995531}};
    for (int e = 0; e < 2; e++) {
      for (int t = 0; t < 2; t++) {
        ExactLogisticRange.Range r = res.get(e).ranges().get(t);
        double[] x = expect[2 * e + t];
        System.out.printf("eps %s x %s: %.7f [%.7f, %.7f] evals %d/%d%n", res.get(e).epsilon(), t, r.baseline(), r.lower(),
            r.upper(), r.min().evaluations(), r.max().evaluations());
        assertTrue(r.converged());
        assertEquals(x[0], r.baseline(), 1e-6);
        assertEquals(x[1], r.lower(), 1.5e-6);
        assertEquals(x[2], r.upper(), 1.5e-6);
      }
      System.out.println("passes " + res.get(e).passes() + " evaluations " + res.get(e).evaluations());
    }
  }
}
