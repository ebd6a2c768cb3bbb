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

  /** Regularised objective of the 1-D problem at (w1, b), as LogisticObjective defines it. */
  static double loss6(double w1, double b, double l2) {
    double s = 0;
    for (int i = 0; i < X6.length; i++) {
      double z = w1 * X6[i] + b;
      s += Y6[i] > 0.5 ? LogisticBatchKernel.softplus(-z) : LogisticBatchKernel.softplus(z);
    }
    return s / X6.length + 0.5 * l2 * w1 * w1;
  }

  @Test
  void bruteForceGridOnTwoParameters() {
    double l2 = 0.05;
    ExactLogisticRange s = solver(sixPoints(), 3, l2);
    ExactLogisticRange.Baseline b = s.fitBaseline();
    double w1 = b.weights()[0], b0 = b.weights()[1];
    double[] xs = {-2, 0, 0.5, 3};
    double[] epss = {0.01, 0.05};
    List<ExactLogisticRange.Result> res = s.ranges(b, new long[] {0, 1, 2, 3}, new double[][] {{-2}, {0}, {0.5}, {3}}, epss);
    int g = 1601;
    double half = 3.0, step = 2 * half / (g - 1);
    for (int e = 0; e < epss.length; e++) {
      double level = b.loss() + epss[e];
      double[] lo = new double[xs.length], hi = new double[xs.length];
      java.util.Arrays.fill(lo, Double.POSITIVE_INFINITY);
      java.util.Arrays.fill(hi, Double.NEGATIVE_INFINITY);
      for (int i = 0; i < g; i++) {
        double a = w1 - half + i * step;
        for (int j = 0; j < g; j++) {
          double c = b0 - half + j * step;
          if (loss6(a, c, l2) > level) continue;
          for (int t = 0; t < xs.length; t++) {
            double sc = a * xs[t] + c;
            lo[t] = Math.min(lo[t], sc);
            hi[t] = Math.max(hi[t], sc);
          }
        }
      }
      for (int t = 0; t < xs.length; t++) {
        ExactLogisticRange.Range r = res.get(e).ranges().get(t);
        double glo = LogisticBatchKernel.sigmoid(lo[t]), ghi = LogisticBatchKernel.sigmoid(hi[t]);
        // the exact range contains the grid's (grid points are members of the set) ...
        assertTrue(r.lower() <= glo + 1e-9, "eps " + epss[e] + " x " + xs[t] + ": " + r.lower() + " > grid " + glo);
        assertTrue(r.upper() >= ghi - 1e-9, "eps " + epss[e] + " x " + xs[t] + ": " + r.upper() + " < grid " + ghi);
        // ... and is within the grid's resolution of it
        assertEquals(glo, r.lower(), 2e-3);
        assertEquals(ghi, r.upper(), 2e-3);
        // the endpoints lie on the level set and are optimal there
        assertEquals(level, loss6(r.max().weights()[0], r.max().weights()[1], l2), 1e-6);
        assertEquals(level, loss6(r.min().weights()[0], r.min().weights()[1], l2), 1e-6);
      }
    }
  }

  @Test
  void nestedInEpsilonAndAmbiguityMonotone() {
    Dataset<Row> df = blobs(60, 3, 2, 7, true);
    ExactLogisticRange s = solver(df, 2, 0.01);
    ExactLogisticRange.Baseline b = s.fitBaseline();
    List<Row> rows = df.collectAsList();
    long[] ids = new long[rows.size()];
    double[][] xs = new double[rows.size()][];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = i;
      xs[i] = rows.get(i).<org.apache.spark.ml.linalg.Vector>getAs(0).toArray();
    }
    double[] epss = {0.05, 0.005, 0.02};   // any order; solved ascending
    List<ExactLogisticRange.Result> res = s.ranges(b, ids, xs, epss);
    assertEquals(0.05, res.get(0).epsilon());
    assertEquals(0.005, res.get(1).epsilon());
    ExactLogisticRange.Result small = res.get(1), mid = res.get(2), big = res.get(0);
    double[] deltas = {0.01, 0.05, 0.1, 0.2};
    double prevAmb = 2;
    for (double delta : deltas) {
      double aS = ambiguity(small, delta), aM = ambiguity(mid, delta), aB = ambiguity(big, delta);
      assertTrue(aS <= aM && aM <= aB, "ambiguity must not decrease with epsilon");
      assertTrue(aB <= prevAmb, "ambiguity must not increase with delta");
      prevAmb = aB;
    }
    for (int t = 0; t < ids.length; t++) {
      ExactLogisticRange.Range rs = small.ranges().get(t), rm = mid.ranges().get(t), rb = big.ranges().get(t);
      assertTrue(rs.converged() && rm.converged() && rb.converged());
      assertTrue(rb.lower() <= rm.lower() + 1e-9 && rm.lower() <= rs.lower() + 1e-9);
      assertTrue(rs.upper() <= rm.upper() + 1e-9 && rm.upper() <= rb.upper() + 1e-9);
      assertTrue(rs.lower() <= rs.baseline() && rs.baseline() <= rs.upper());
    }
    System.out.println("60 targets, 3 epsilons: passes " + small.passes() + "/" + mid.passes() + "/" + big.passes()
        + ", evaluations " + small.evaluations() + "/" + mid.evaluations() + "/" + big.evaluations());
  }

  static double ambiguity(ExactLogisticRange.Result r, double delta) {
    int n = 0;
    for (ExactLogisticRange.Range x : r.ranges()) {
      if (Math.max(x.baseline() - x.lower(), x.upper() - x.baseline()) >= delta) n++;
    }
    return (double) n / r.ranges().size();
  }

  @Test
  void distributedEqualsLocal() {
    Dataset<Row> df = blobs(80, 4, 2, 11, true);
    List<Row> rows = df.collectAsList();
    long[] ids = new long[10];
    double[][] xs = new double[10][];
    for (int i = 0; i < 10; i++) {
      ids[i] = i;
      xs[i] = rows.get(i * 7).<org.apache.spark.ml.linalg.Vector>getAs(0).toArray();
    }
    double[] epss = {0.01, 0.05};
    ExactLogisticRange one = solver(df.coalesce(1), 1, 0.02);
    ExactLogisticRange four = solver(df, 4, 0.02);
    long t0 = System.nanoTime();
    ExactLogisticRange.Baseline b1 = one.fitBaseline();
    long t1 = System.nanoTime();
    ExactLogisticRange.Baseline b4 = four.fitBaseline();
    long t2 = System.nanoTime();
    System.out.println("baseline fits " + (t1 - t0) / 1e9 + " s (" + b1.iterations() + " it), " + (t2 - t1) / 1e9 + " s");
    List<ExactLogisticRange.Result> r1 = one.ranges(b1, ids, xs, epss);
    List<ExactLogisticRange.Result> r4 = four.ranges(b4, ids, xs, epss);
    for (int e = 0; e < epss.length; e++) {
      for (int t = 0; t < ids.length; t++) {
        ExactLogisticRange.Range a = r1.get(e).ranges().get(t), b = r4.get(e).ranges().get(t);
        assertTrue(a.converged() && b.converged(), "endpoint " + t + " did not converge");
        assertEquals(a.baseline(), b.baseline(), 1e-10);
        assertEquals(a.lower(), b.lower(), 1e-9);
        assertEquals(a.upper(), b.upper(), 1e-9);
      }
      System.out.println("1 vs 4 partitions: passes " + r1.get(e).passes() + " / " + r4.get(e).passes() + " evals "
          + r1.get(e).evaluations() + " seconds " + r1.get(e).seconds() + " / " + r4.get(e).seconds());
      assertEquals(r1.get(e).passes(), r4.get(e).passes());
    }
  }

  @Test
  void badInput() {
    ExactLogisticRange s = solver(sixPoints(), 1, 0.0);
    ExactLogisticRange.Baseline b = s.fitBaseline();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> s.ranges(b, new long[] {0}, new double[][] {{0}}, new double[] {0}));
    assertTrue(e.getMessage().contains("epsilon must be > 0"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> s.ranges(b, new long[] {0}, new double[][] {{0}}, new double[] {-0.1}));
    e = assertThrows(IllegalArgumentException.class, () -> s.ranges(b, new long[0], new double[0][], new double[] {0.1}));
    assertTrue(e.getMessage().contains("no target rows"), e.getMessage());
    // separable data without a penalty: no optimum
    List<Row> sep = new ArrayList<>();
    for (int i = 0; i < 6; i++) sep.add(RowFactory.create(Vectors.dense(i - 2.5), i < 3 ? 0.0 : 1.0, 1.0));
    ExactLogisticRange s2 = solver(spark.createDataFrame(sep, SCHEMA), 1, 0.0);
    e = assertThrows(IllegalArgumentException.class, s2::fitBaseline);
    assertTrue(e.getMessage().contains("separable"), e.getMessage());
    // ... which a penalty fixes
    solver(spark.createDataFrame(sep, SCHEMA), 1, 0.1).fitBaseline();
  }
}
