package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.testutil.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code aggregation = allReduce} (an epoch per barrier stage, {@link AllReduceEpoch}) against the
 * driver-side {@code collect}: the same weights bit for bit for every rule, 1 to 4 partitions,
 * task failures that restart the stage, resume from a checkpoint, divergence and the clear errors.
 * {@code local[4,4]}: four task slots, and Spark may retry.
 */
class AllReduceTest extends SparkTestBase {

  @Override protected String master() { return "local[4,4]"; }

  /** 120 rows, batch 20: 6 steps per epoch, 3 epochs, float64. */
  private static SharpnessAwareClassifier est(String rule, int partitions) {
    return new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {5}).setActivation("tanh")
        .setOptimizer("nesterov").setMomentum(0.9).setLearningRate(0.1).setBatchSize(20).setEpochs(3)
        .setPrecision("float64").setWeightCol("weight").setSeed(5).setNumPartitions(partitions).setRule(rule)
        .setAggregation("collect");
  }

  private Dataset<Row> data() { return blobs(120, 4, 3, 21, true); }

  private SharpnessAwareClassificationModel fit(SharpnessAwareClassifier e, Dataset<Row> d, String faults) {
    return fitWithFaults(e, d, faults);
  }

  private static void assertSameRun(SharpnessAwareClassificationModel expected, SharpnessAwareClassificationModel actual,
                                    String what) {
    assertArrayEquals(expected.weights(), actual.weights(), 0.0, what);
    assertArrayEquals(expected.summary().lossHistory(), actual.summary().lossHistory(), 0.0, what);
    for (int e = 0; e < expected.summary().epochs().size(); e++) {
      assertEquals(expected.summary().epochs().get(e).accuracy(), actual.summary().epochs().get(e).accuracy(), 0.0, what);
      assertEquals(expected.summary().epochs().get(e).ruleMetrics(), actual.summary().epochs().get(e).ruleMetrics(), what);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 4})
  void everyRuleGivesTheDriversWeightsBitForBit(int partitions) {
    Dataset<Row> d = data();
    Map<String, SharpnessAwareClassifier> rules = Map.of(
        "sgd", est("none", partitions),
        "global SAM", est("sam", partitions).setPerturbation("global").setRho(0.05),
        "m-SAM", est("sam", partitions).setPerturbation("partition").setMicroBatchSize(5).setRho(0.05),
        "ASAM", est("asam", partitions).setRho(0.5),
        "SAF", est("saf", partitions).setSafLag(1).setKlStartEpoch(0),
        "MESA", est("mesa", partitions).setKlStartEpoch(0).setEmaDecay(0.9));
    for (Map.Entry<String, SharpnessAwareClassifier> r : rules.entrySet()) {
      SharpnessAwareClassificationModel tree = r.getValue().fit(d);
      SharpnessAwareClassificationModel ring = r.getValue().copy(new org.apache.spark.ml.param.ParamMap())
          .setAggregation("allReduce").fit(d);
      assertEquals("collect", tree.summary().aggregation());
      assertEquals("allReduce", ring.summary().aggregation());
      assertSameRun(tree, ring, r.getKey() + " with " + partitions + " partitions");
    }
  }

  /**
   * float32 gradients go to the collective as they are (tasks of one JVM read each other's float32
   * arrays; 2 ranks each sum the whole vector, 4 sum a segment each): still the driver's bits.
   */
  @ParameterizedTest
  @ValueSource(ints = {2, 4})
  void float32GradientsGiveTheDriversWeightsBitForBit(int partitions) {
    Dataset<Row> d = data();
    Map<String, SharpnessAwareClassifier> rules = Map.of(
        "sgd", est("none", partitions).setPrecision("float32"),
        "m-SAM", est("sam", partitions).setPrecision("float32").setPerturbation("partition").setMicroBatchSize(5)
            .setRho(0.05),
        "MESA", est("mesa", partitions).setPrecision("float32").setKlStartEpoch(0).setEmaDecay(0.9));
    for (Map.Entry<String, SharpnessAwareClassifier> r : rules.entrySet()) {
      SharpnessAwareClassificationModel driver = r.getValue().fit(d);
      SharpnessAwareClassificationModel ring = r.getValue().copy(new org.apache.spark.ml.param.ParamMap())
          .setAggregation("allReduce").fit(d);
      assertSameRun(driver, ring, r.getKey() + " in float32 with " + partitions + " partitions");
    }
  }

  @Test
  void aFailedTaskRestartsTheEpochAndGivesTheSameWeights() {
    Dataset<Row> d = data();
    SharpnessAwareClassifier e = est("mesa", 2).setKlStartEpoch(0).setEmaDecay(0.9).setAggregation("allReduce");
    SharpnessAwareClassificationModel clean = fit(e, d, null);
    // partition 0 fails in epoch 1 step 2, partition 1 crashes (drops its task-local state) in epoch 2 step 3
    SharpnessAwareClassificationModel faulty = fit(e, d, "fail:0@0.1,crash:1@1.2");
    assertSameRun(clean, faulty, "mesa with failures");
    TrainingSummary.Recovery r = faulty.summary().recovery();
    assertEquals(2, r.failedTaskAttempts(), r.events().toString());
    assertEquals(1, r.partitionStateRebuilds(), r.events().toString());
    assertTrue(r.events().stream().anyMatch(s -> s.contains("epoch 1: a task failed; the barrier stage ran again from "
        + "step 1")), r.events().toString());
  }

  @Test
  void safKeepsItsRecordsAcrossARestartedEpoch() {
    Dataset<Row> d = data();
    SharpnessAwareClassifier e = est("saf", 2).setSafLag(1).setKlStartEpoch(0).setAggregation("allReduce");
    SharpnessAwareClassificationModel clean = fit(e, d, null);
    SharpnessAwareClassificationModel failed = fit(e, d, "fail:0@1.4,fail:1@2.3");
    assertSameRun(clean, failed, "saf with failures");
    for (EpochMetrics m : failed.summary().epochs().subList(1, 3)) assertEquals(1.0, m.ruleMetrics().get("safCoverage"), 0.0);
  }

  @Test
  void resumesFromACheckpointBitIdentical() throws Exception {
    Dataset<Row> d = data();
    Path dir = Files.createTempDirectory("allreduce-ckpt");
    SharpnessAwareClassifier e = est("sam", 2).setPerturbation("global").setAggregation("allReduce");
    SharpnessAwareClassificationModel full = e.copy(new org.apache.spark.ml.param.ParamMap())
        .setCheckpointDir("file://" + dir).setCheckpointInterval(1).fit(d);
    assertEquals(3, full.summary().recovery().checkpoints().size());
    SharpnessAwareClassificationModel resumed = e.copy(new org.apache.spark.ml.param.ParamMap())
        .setResumeFrom(dir.resolve(Checkpoint.fileName(6)).toString()).fit(d);
    assertSameRun(full, resumed, "resumed after epoch 1");
  }

  @Test
  void divergenceStopsAtOnceWithTheStep() {
    List<Row> rows = new java.util.ArrayList<>();
    for (Row r : blobs(100, 5, 3, 4, false).collectAsList()) {
      double[] x = ((org.apache.spark.ml.linalg.Vector) r.get(0)).toArray();
      for (int j = 0; j < x.length; j++) x[j] *= 1e3;
      rows.add(org.apache.spark.sql.RowFactory.create(org.apache.spark.ml.linalg.Vectors.dense(x), r.get(1), r.get(2)));
    }
    Dataset<Row> big = spark.createDataFrame(rows, SCHEMA);
    long t0 = System.nanoTime();
    TrainingDivergedException x = assertThrows(TrainingDivergedException.class, () -> new SharpnessAwareClassifier()
        .setModelType("mlp").setHiddenLayers(new int[] {8}).setLearningRate(1e6).setPrecision("float64")
        .setBatchSize(10).setEpochs(5).setSeed(2).setNumPartitions(2).setAggregation("allReduce").fit(big));
    assertTrue(x.getMessage().matches("(?s)training diverged at epoch \\d+, step \\d+.*"), x.getMessage());
    assertTrue(x.getMessage().contains("learning rate (1000000.0)"), x.getMessage());
    assertTrue((System.nanoTime() - t0) / 1e9 < 60, "a deterministic divergence must not be retried");
  }

  @Test
  void autoPicksAllReduceWhereItCanAndFallsBackWhereItCannot() {
    Dataset<Row> d = data();
    assertEquals("allReduce", est("none", 2).setEpochs(1).setAggregation("auto").fit(d).summary().aggregation());
    assertEquals("collect", est("none", 8).setEpochs(1).setAggregation("auto").fit(d).summary().aggregation());
    assertEquals("collect", est("none", 2).setEpochs(1).setLocalSteps(2).setAggregation("auto").fit(d)
        .summary().aggregation());
  }

  @Test
  void anInputWithMorePartitionsThanSlotsIsCachedInOnePartitionPerSlot() {
    Dataset<Row> d = data().repartition(8);
    for (String mode : new String[] {"auto", "allReduce"}) {
      SharpnessAwareClassificationModel m = est("none", 0).setEpochs(1).setAggregation(mode).fit(d);
      assertEquals("allReduce", m.summary().aggregation(), mode);
      assertEquals(4, m.summary().numPartitions(), mode);     // local[4]
    }
    // collect keeps the input's partitioning
    assertEquals(8, est("none", 0).setEpochs(1).fit(d).summary().numPartitions());
  }

  @Test
  void clearErrorsForSettingsItCannotRun() {
    Dataset<Row> d = data();
    IllegalArgumentException slots = assertThrows(IllegalArgumentException.class,
        () -> est("none", 8).setAggregation("allReduce").fit(d));
    assertTrue(slots.getMessage().contains("8 partitions") && slots.getMessage().contains("4 task slots"),
        slots.getMessage());
    IllegalArgumentException local = assertThrows(IllegalArgumentException.class,
        () -> est("none", 2).setLocalSteps(2).setAggregation("allReduce").fit(d));
    assertTrue(local.getMessage().contains("localSteps=2"), local.getMessage());
    assertThrows(IllegalArgumentException.class, () -> est("none", 2).setAggregation("ring"));
    assertEquals("allReduce", est("none", 2).setAggregation("ALLREDUCE").getAggregation());
    assertEquals("auto", new SharpnessAwareClassifier().getAggregation());
    // the session is still usable: nothing left running
    assertEquals(List.of(1L), List.of((long) est("none", 2).setEpochs(1).setAggregation("allReduce").fit(d)
        .summary().epochs().get(0).epoch()));
  }
}
