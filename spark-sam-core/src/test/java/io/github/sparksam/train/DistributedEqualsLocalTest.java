package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.testutil.SparkTestBase;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Which rows form a step's batch depends on the example id, seed and epoch only, so 1 and 4
 * partitions train the same model (up to summation order), and a fixed seed and partitioning give
 * bit-identical weights.
 */
class DistributedEqualsLocalTest extends SparkTestBase {

  private SharpnessAwareClassifier sgd(int partitions) {
    // 200 rows, batch 10: 20 steps in one epoch
    return new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {6}).setActivation("tanh")
        .setOptimizer("nesterov").setMomentum(0.9).setLearningRate(0.05).setBatchSize(10).setEpochs(1)
        .setPrecision("float64").setWeightCol("weight").setWeightDecay(1e-3).setSeed(7).setNumPartitions(partitions);
  }

  @Test
  void oneAndFourPartitionsGiveTheSameWeightsAfter20Steps() {
    Dataset<Row> data = blobs(200, 5, 3, 11, true);
    SharpnessAwareClassificationModel one = sgd(1).fit(data);
    SharpnessAwareClassificationModel four = sgd(4).fit(data);
    assertEquals(20, one.summary().stepsPerEpoch());
    assertEquals(4, four.summary().numPartitions());
    double[] a = one.weights(), b = four.weights();
    double maxRel = 0;
    for (int i = 0; i < a.length; i++) {
      maxRel = Math.max(maxRel, Math.abs(a[i] - b[i]) / Math.max(1e-12, Math.max(Math.abs(a[i]), Math.abs(b[i]))));
    }
    assertTrue(maxRel < 1e-9, "max relative difference " + maxRel);
    // and training moved the weights
    double[] init = one.network().initialParams(7);
    double moved = 0;
    for (int i = 0; i < a.length; i++) moved = Math.max(moved, Math.abs(a[i] - init[i]));
    assertTrue(moved > 1e-3, "weights barely moved: " + moved);
  }

  @Test
  void sameSeedAndPartitioningIsBitIdentical() {
    Dataset<Row> data = blobs(300, 5, 3, 12, false);
    SharpnessAwareClassifier est = sgd(3).setPrecision("float32").setEpochs(2).setOptimizer("adam").setLearningRate(0.01);
    double[] a = est.fit(data).weights();
    double[] b = est.fit(data).weights();
    assertArrayEquals(a, b, 0.0);
  }

  @Test
  void localStepsTrainAndAreDeterministic() {
    Dataset<Row> data = blobs(400, 5, 3, 13, false);
    SharpnessAwareClassifier est = sgd(2).setLocalSteps(4).setEpochs(3).setLearningRate(0.1);
    SharpnessAwareClassificationModel m = est.fit(data);
    assertArrayEquals(m.weights(), est.fit(data).weights(), 0.0);
    assertTrue(m.summary().epochs().get(2).accuracy() > 0.8, m.summary().toString());
  }
}
