package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.testutil.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Convolutional networks through the unchanged training loop (issue #14): every rule gives the
 * driver path's weights bit for bit under allReduce, 1 and 4 partitions agree after 20 float64
 * steps, and a run resumed from a checkpoint is bit-identical. {@code local[4,4]}: four task slots.
 */
class CnnTrainingTest extends SparkTestBase {

  @Override protected String master() { return "local[4,4]"; }

  /** 16 features read as a 1x4x4 image; 120 rows, batch 12: 10 steps per epoch, float64. */
  private static SharpnessAwareClassifier est(String rule, int partitions) {
    return new SharpnessAwareClassifier().setModelType("cnn").setInputShape(new int[] {1, 4, 4})
        .setLayers("conv 3 3x3 pad 1, maxpool 2, dense 6").setActivation("relu").setOptimizer("momentum")
        .setMomentum(0.9).setLearningRate(0.05).setBatchSize(12).setEpochs(2).setPrecision("float64")
        .setWeightCol("weight").setSeed(5).setNumPartitions(partitions).setRule(rule);
  }

  private Dataset<Row> data() { return blobs(120, 16, 3, 21, true); }

  private static void assertSameRun(SharpnessAwareClassificationModel expected, SharpnessAwareClassificationModel actual,
                                    String what) {
    assertArrayEquals(expected.weights(), actual.weights(), 0.0, what);
    assertArrayEquals(expected.summary().lossHistory(), actual.summary().lossHistory(), 0.0, what);
    for (int e = 0; e < expected.summary().epochs().size(); e++) {
      assertEquals(expected.summary().epochs().get(e).ruleMetrics(), actual.summary().epochs().get(e).ruleMetrics(), what);
    }
  }

  @Test
  void everyRuleGivesTheDriversWeightsBitForBitUnderAllReduce() {
    Dataset<Row> d = data();
    Map<String, SharpnessAwareClassifier> rules = new LinkedHashMap<>();
    rules.put("sgd", est("none", 2));
    rules.put("global SAM", est("sam", 2).setPerturbation("global").setRho(0.05));
    rules.put("m-SAM", est("sam", 2).setPerturbation("partition").setMicroBatchSize(3).setRho(0.05));
    rules.put("ASAM", est("asam", 2).setRho(0.5));
    rules.put("SAF", est("saf", 2).setSafLag(1).setKlStartEpoch(0));
    rules.put("MESA", est("mesa", 2).setKlStartEpoch(0).setEmaDecay(0.9));
    for (Map.Entry<String, SharpnessAwareClassifier> r : rules.entrySet()) {
      SharpnessAwareClassificationModel tree = r.getValue().fit(d);
      SharpnessAwareClassificationModel ring = r.getValue().copy(new ParamMap()).setAggregation("allReduce").fit(d);
      assertEquals("allReduce", ring.summary().aggregation());
      assertTrue(tree.network().isConvolutional());
      assertSameRun(tree, ring, r.getKey());
    }
  }

  @Test
  void oneAndFourPartitionsAgreeAfterTwentySteps() {
    Dataset<Row> d = data();
    for (SharpnessAwareClassifier e : new SharpnessAwareClassifier[] {
        est("none", 1), est("sam", 1).setPerturbation("global").setRho(0.05)}) {
      SharpnessAwareClassificationModel one = e.fit(d);
      SharpnessAwareClassificationModel four = e.copy(new ParamMap()).setNumPartitions(4).fit(d);
      assertEquals(2, one.summary().epochs().size());     // 2 epochs of 10 steps
      double[] a = one.weights(), b = four.weights();
      double diff = 0, norm = 0;
      for (int i = 0; i < a.length; i++) {
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
        norm = Math.max(norm, Math.abs(a[i]));
      }
      assertTrue(diff <= 1e-9 * norm, e.getRule() + ": 1 vs 4 partitions differ by " + diff + " (max |w| " + norm + ")");
      assertTrue(Math.abs(one.weights()[0] - e.fit(d).weights()[0]) == 0.0, "a fixed seed is bit-identical");
    }
  }

  @Test
  void resumesFromACheckpointBitIdentical() throws Exception {
    Dataset<Row> d = data();
    Path dir = Files.createTempDirectory("cnn-ckpt");
    SharpnessAwareClassifier e = est("asam", 2).setRho(0.5).setOptimizer("adam").setLearningRate(0.01);
    SharpnessAwareClassificationModel full = e.copy(new ParamMap()).setCheckpointDir("file://" + dir)
        .setCheckpointInterval(1).fit(d);
    SharpnessAwareClassificationModel resumed = e.copy(new ParamMap())
        .setResumeFrom(dir.resolve(Checkpoint.fileName(10)).toString()).fit(d);
    assertSameRun(full, resumed, "resumed after epoch 1");
  }
}
