package io.github.sparksam.multiplicity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.ArffReader;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.data.TabularEncoder;
import io.github.sparksam.optim.Lbfgs;
import io.github.sparksam.testutil.SparkTestBase;
import java.io.File;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Which solver fits the exact method's baseline (the optimum of the L2-regularised logistic
 * objective) on credit-g: Newton with the LAPACK Cholesky ({@link ExactLogisticRange#fitBaseline})
 * or Breeze L-BFGS at a tight tolerance. Both must reach the same optimum; Newton must be at least
 * as low, which is why the job keeps it (it also needs the Hessian there for the ranges).
 */
class BaselineSolverTest extends SparkTestBase {
  private static final String WEKA = "/usr/share/doc/weka/examples/";

  @Test
  void newtonAndLbfgsReachTheSameOptimumOnCreditG() {
    boolean present = new File(WEKA + "credit-g.arff").exists() || new File(WEKA + "credit-g.arff.gz").exists();
    if (!present) System.out.println("SKIPPED BaselineSolverTest: " + WEKA + "credit-g.arff is missing (apt-get install weka)");
    Assumptions.assumeTrue(present, WEKA + "credit-g.arff is missing; install the Debian package weka");
    Dataset<Row> df = TabularEncoder.encode(ArffReader.read(spark, WEKA + "credit-g.arff").frame(), "class", true).frame();
    JavaRDD<BlockedPartition> blocks = Blockifier.blockify(df, new InputColumns("features", "label", null),
        Precision.FLOAT64, 2, 2).cache();
    int d = df.first().<org.apache.spark.ml.linalg.Vector>getAs("features").size();
    double l2 = 1e-3;                                  // the multiplicity job's default
    LogisticObjective obj = new LogisticObjective(blocks, d, l2, 1);
    ExactLogisticRange.Baseline newton = new ExactLogisticRange(obj, 1e-6, 100).fitBaseline();
    long newtonPasses = obj.passes();
    Lbfgs.Result lb = new Lbfgs(2000, 10, 1e-12).minimize((w, g) -> {
      LogisticObjective.Value v = obj.evaluate(List.of(w), false).get(0);
      System.arraycopy(v.grad(), 0, g, 0, g.length);
      return v.loss();
    }, new double[d + 1], null);
    System.out.printf("credit-g baseline (l2 %g, %d parameters): Newton objective %.15f in %d passes; L-BFGS %.15f in "
        + "%d passes (%s, |grad| %.2e)%n", l2, d + 1, newton.loss(), newtonPasses, lb.value(), lb.evaluations(),
        lb.stopReason(), lb.gradientNorm());
    assertTrue(newton.loss() <= lb.value() + 1e-13, "Newton " + newton.loss() + " vs L-BFGS " + lb.value());
    assertEquals(newton.loss(), lb.value(), 1e-9);
    for (int i = 0; i <= d; i++) assertEquals(newton.weights()[i], lb.weights()[i], 1e-3, "weight " + i);
    blocks.unpersist(false);
  }
}
