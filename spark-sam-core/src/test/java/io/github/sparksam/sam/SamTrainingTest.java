package io.github.sparksam.sam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.testutil.SparkTestBase;
import io.github.sparksam.train.EpochMetrics;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** SAM, ASAM and m-SAM through the estimator on a local[2] session, float64. */
class SamTrainingTest extends SparkTestBase {

  private Dataset<Row> data;

  @BeforeAll
  void data() {
    data = blobs(120, 4, 3, 21, true).cache();   // batch 10: 12 steps per epoch
  }

  private static SharpnessAwareClassifier est(int partitions) {
    return new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {5}).setActivation("tanh")
        .setOptimizer("nesterov").setMomentum(0.9).setLearningRate(0.05).setBatchSize(10).setEpochs(1)
        .setPrecision("float64").setWeightCol("weight").setWeightDecay(1e-3).setSeed(5).setNumPartitions(partitions);
  }

  static double maxRel(double[] a, double[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1e-12, Math.max(Math.abs(a[i]), Math.abs(b[i]))));
    }
    return m;
  }

  @Test
  void rhoZeroIsBitIdenticalToPlainTraining() {
    double[] plain = est(3).fit(data).weights();
    for (String scope : new String[] {"partition", "global"}) {
      double[] sam = est(3).setRule("sam").setRho(0).setPerturbation(scope).fit(data).weights();
      assertArrayEquals(plain, sam, 0.0, scope);
      double[] asam = est(3).setRule("asam").setRho(0).setPerturbation(scope).fit(data).weights();
      assertArrayEquals(plain, asam, 0.0, scope);
    }
  }

  @Test
  void globalSamIsIndependentOfThePartitionCount() {
    SharpnessAwareClassifier e = est(1).setRule("sam").setRho(0.1).setPerturbation("global");
    SharpnessAwareClassificationModel one = e.fit(data);
    double[] a = one.weights();
    SharpnessAwareClassificationModel four = e.setNumPartitions(4).fit(data);
    assertEquals(4, four.summary().numPartitions());
    double[] b = four.weights();
    assertTrue(maxRel(a, b) < 1e-9, "max relative difference " + maxRel(a, b));
    double[] plain = est(1).fit(data).weights();
    assertTrue(maxRel(a, plain) > 1e-6, "SAM should differ from the base optimizer");
    EpochMetrics m = one.summary().epochs().get(0);
    assertEquals(0.1, m.ruleMetrics().get("perturbationNorm"), 1e-9);
    assertEquals(10.0, m.ruleMetrics().get("examplesPerPerturbation"), 0.0);
  }

  @Test
  void mSamWithMicroBatchOneIsIndependentOfThePartitionCount() {
    SharpnessAwareClassifier e = est(1).setRule("sam").setRho(0.1).setMicroBatchSize(1);
    SharpnessAwareClassificationModel one = e.fit(data);
    double[] a = one.weights();
    double[] b = e.setNumPartitions(4).fit(data).weights();
    assertTrue(maxRel(a, b) < 1e-9, "max relative difference " + maxRel(a, b));
    double[] global = est(1).setRule("sam").setRho(0.1).setPerturbation("global").fit(data).weights();
    assertTrue(maxRel(a, global) > 1e-6, "1-SAM should differ from global SAM");
    assertEquals(1.0, one.summary().epochs().get(0).ruleMetrics().get("examplesPerPerturbation"), 0.0);
  }

  @Test
  void mSamWithTheWholeBatchOnOnePartitionIsGlobalSam() {   // 10.18(d)
    for (String mode : new String[] {"decoupled", "loss"}) {
      double[] whole = est(1).setRule("sam").setRho(0.1).setMicroBatchSize(0).setWeightDecayMode(mode).fit(data)
          .weights(); // #16: m = 0 (the slice) is no longer the default
      double[] m10 = est(1).setRule("sam").setRho(0.1).setMicroBatchSize(10).setWeightDecayMode(mode).fit(data).weights();
      double[] global = est(1).setRule("sam").setRho(0.1).setPerturbation("global").setWeightDecayMode(mode)
          .fit(data).weights();
      assertTrue(maxRel(whole, global) < 1e-9, mode + ": max relative difference " + maxRel(whole, global));
      assertTrue(maxRel(m10, global) < 1e-9, mode + ": max relative difference " + maxRel(m10, global));
    }
    double[] dec = est(1).setRule("sam").setRho(0.1).setPerturbation("global").fit(data).weights();
    double[] loss = est(1).setRule("sam").setRho(0.1).setPerturbation("global").setWeightDecayMode("loss")
        .fit(data).weights();
    assertTrue(maxRel(dec, loss) > 1e-9, "weightDecayMode should matter with weightDecay > 0");
  }

  @Test
  void samTrainsToGoodAccuracyOnBlobs() {
    Dataset<Row> blobs = blobs(300, 4, 3, 22, false);
    SharpnessAwareClassificationModel m = est(2).setRule("sam").setRho(0.05).setMicroBatchSize(4).setEpochs(5)
        .setBatchSize(20).fit(blobs);
    long correct = m.transform(blobs).filter(functions.col("prediction").equalTo(functions.col("label"))).count();
    assertTrue(correct / 300.0 > 0.9, "accuracy " + correct / 300.0 + " " + m.summary());
    EpochMetrics last = m.summary().epochs().get(4);
    assertEquals(0.05, last.ruleMetrics().get("perturbationNorm"), 1e-9);
    // each task's slice (~10 rows of 20) ends with a shorter micro-batch, so the realised m is below 4
    double m4 = last.ruleMetrics().get("examplesPerPerturbation");
    assertTrue(m4 > 2 && m4 <= 4, "realised m " + m4);
    assertEquals("sam", m.summary().rule());
  }

  @Test
  void asamWeightsOnlyAndAllDifferWhenBiasesMatter() {
    SharpnessAwareClassifier e = est(2).setModelType("softmax").setHiddenLayers(new int[0]).setRule("asam").setRho(0.5)
        .setAdaptiveEta(0.01);
    double[] weights = e.setAdaptiveScope("weights").fit(data).weights();
    double[] all = e.setAdaptiveScope("all").fit(data).weights();
    assertTrue(maxRel(weights, all) > 1e-6, "max relative difference " + maxRel(weights, all));
    for (double v : weights) assertTrue(Double.isFinite(v));
    // float32 tasks: perturbation math stays in double, weights are stored in float
    double[] f32 = e.setPrecision("float32").fit(data).weights();
    double diff = 0, ref = 0;
    for (int i = 0; i < all.length; i++) {
      diff += (f32[i] - all[i]) * (f32[i] - all[i]);
      ref += all[i] * all[i];
    }
    assertTrue(Math.sqrt(diff / ref) < 1e-4, "float32 vs float64 relative distance " + Math.sqrt(diff / ref));
  }

  @Test
  void mSamRunsWithLocalSteps() {
    SharpnessAwareClassifier e = est(2).setRule("sam").setRho(0.05).setMicroBatchSize(2).setLocalSteps(2)
        .setEpochs(3).setLearningRate(0.1);
    SharpnessAwareClassificationModel m = e.fit(data);
    assertArrayEquals(m.weights(), e.fit(data).weights(), 0.0);
    EpochMetrics last = m.summary().epochs().get(2);
    assertTrue(last.accuracy() > 0.7, m.summary().toString());
    assertEquals(0.05, last.ruleMetrics().get("perturbationNorm"), 1e-9);
  }

  @Test
  void globalSamRejectsLocalSteps() {
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
        () -> est(2).setRule("sam").setPerturbation("global").setLocalSteps(2).fit(data));
    assertTrue(ex.getMessage().contains("localSteps") && ex.getMessage().contains("perturbation=global"), ex.getMessage());
  }
}
