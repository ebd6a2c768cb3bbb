package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.nn.ParamLayout;
import io.github.sparksam.testutil.SparkTestBase;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code optimizer=lbfgs}: full-batch Breeze L-BFGS over the distributed objective reaches MLlib
 * LogisticRegression's optimum at the same L2 (its objective with standardization off), is the
 * same for 1 and 4 partitions, rejects the sharpness-aware rules, and its models persist.
 */
class LbfgsTrainingTest extends SparkTestBase {
  private static final double L2 = 0.01;

  @TempDir Path tmp;

  private static SharpnessAwareClassifier lbfgs() {
    return new SharpnessAwareClassifier().setModelType("softmax").setOptimizer("lbfgs").setWeightDecay(L2)
        .setEpochs(300).setTol(1e-10).setPrecision("float64").setSeed(5);
  }

  private static LogisticRegressionModel mllib(Dataset<Row> d, String family) {
    return new LogisticRegression().setFamily(family).setRegParam(L2).setElasticNetParam(0).setStandardization(false)
        .setTol(1e-12).setMaxIter(1000).setWeightCol("weight").fit(d);
  }

  @Test
  void softmaxMatchesMllibLogisticRegressionAtTheSameL2() {
    Dataset<Row> d = blobs(300, 4, 3, 11, true);
    SharpnessAwareClassificationModel ours = lbfgs().setWeightCol("weight").setFamily("multinomial").fit(d);
    LogisticRegressionModel ref = mllib(d, "multinomial");
    ParamLayout lay = ours.network().layout();
    double[] w = ours.weights();
    int k = 3, f = 4;
    int wo = lay.tensor("W1").offset(), bo = lay.tensor("b1").offset();
    for (int c = 0; c < k; c++) {
      for (int j = 0; j < f; j++) {
        assertEquals(ref.coefficientMatrix().apply(c, j), w[wo + c + j * k], 1e-4, "coefficient " + c + "," + j);
      }
    }
    // intercepts are defined up to a common shift (the softmax ignores it and it is not penalised): centre both
    double mo = 0, mr = 0;
    for (int c = 0; c < k; c++) {
      mo += w[bo + c] / k;
      mr += ref.interceptVector().apply(c) / k;
    }
    for (int c = 0; c < k; c++) assertEquals(ref.interceptVector().apply(c) - mr, w[bo + c] - mo, 1e-4, "intercept " + c);
    TrainingSummary s = ours.summary();
    assertEquals("lbfgs", s.optimizer());
    EpochMetrics last = s.epochs().get(s.epochs().size() - 1);
    assertTrue(last.ruleMetrics().get("gradientNorm") < 1e-6, "gradient norm " + last.ruleMetrics());
    assertTrue(s.epochs().size() < 300, "stopped by the tolerance, not the iteration limit");
    // the loss decreases monotonically (a line search with the Wolfe conditions)
    double[] obj = s.epochs().stream().mapToDouble(e -> e.ruleMetrics().get("objective")).toArray();
    for (int i = 1; i < obj.length; i++) assertTrue(obj[i] <= obj[i - 1] + 1e-15, "objective rose at " + i);
  }

  @Test
  void binomialMatchesMllibLogisticRegression() {
    Dataset<Row> d = blobs(200, 3, 2, 12, true);
    SharpnessAwareClassificationModel ours = lbfgs().setWeightCol("weight").fit(d);
    LogisticRegressionModel ref = mllib(d, "binomial");
    ParamLayout lay = ours.network().layout();
    double[] w = ours.weights();
    for (int j = 0; j < 3; j++) assertEquals(ref.coefficients().apply(j), w[lay.tensor("W1").offset() + j], 1e-4);
    assertEquals(ref.intercept(), w[lay.tensor("b1").offset()], 1e-4);
  }

  @Test
  void oneAndFourPartitionsGiveTheSameWeights() {
    Dataset<Row> d = blobs(240, 4, 3, 13, false);
    SharpnessAwareClassifier mlp = lbfgs().setModelType("mlp").setHiddenLayers(new int[] {5}).setActivation("tanh")
        .setEpochs(40).setTol(1e-9);
    SharpnessAwareClassificationModel one = mlp.copy(org.apache.spark.ml.param.ParamMap.empty()).setNumPartitions(1).fit(d);
    SharpnessAwareClassificationModel four = mlp.copy(org.apache.spark.ml.param.ParamMap.empty()).setNumPartitions(4).fit(d);
    assertEquals(1, one.summary().numPartitions());
    assertEquals(4, four.summary().numPartitions());
    assertArrayEquals(one.weights(), four.weights(), 1e-9);
    // and a refit is bit-identical
    assertArrayEquals(one.weights(), mlp.copy(org.apache.spark.ml.param.ParamMap.empty()).setNumPartitions(1).fit(d)
        .weights(), 0.0);
  }

  @Test
  void sharpnessAwareRulesAndStepOnlySettingsAreRejected() {
    Dataset<Row> d = blobs(30, 2, 2, 14, false);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lbfgs().setRule("sam").fit(d));
    assertTrue(e.getMessage().contains("optimizer lbfgs does not support rule=sam"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> lbfgs().setLocalSteps(4).setMaxGradNorm(1).fit(d));
    assertTrue(e.getMessage().contains("localSteps=4") && e.getMessage().contains("maxGradNorm"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> lbfgs().setTol(0));
    assertThrows(IllegalArgumentException.class, () -> lbfgs().setLbfgsHistorySize(0));
  }

  @Test
  void persistedModelAndEstimatorLoad() throws Exception {
    Dataset<Row> d = blobs(90, 3, 3, 15, false);
    SharpnessAwareClassifier est = lbfgs().setEpochs(20).setTol(1e-7).setLbfgsHistorySize(4);
    SharpnessAwareClassificationModel m = est.fit(d);
    String mp = tmp.resolve("model").toString();
    m.write().overwrite().save(mp);
    SharpnessAwareClassificationModel back = SharpnessAwareClassificationModel.load(mp);
    assertArrayEquals(m.weights(), back.weights(), 0.0);
    List<Row> a = m.transform(d).select("probability").collectAsList();
    List<Row> b = back.transform(d).select("probability").collectAsList();
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(((Vector) a.get(i).get(0)).toArray(), ((Vector) b.get(i).get(0)).toArray(), 0.0);
    }
    String ep = tmp.resolve("estimator").toString();
    est.write().overwrite().save(ep);
    SharpnessAwareClassifier eb = SharpnessAwareClassifier.load(ep);
    assertEquals("lbfgs", eb.getOptimizer());
    assertEquals(1e-7, eb.getTol());
    assertEquals(4, eb.getLbfgsHistorySize());
  }
}
