package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.testutil.SparkTestBase;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Task failures injected into the first attempt of chosen training tasks ({@link FaultInjection});
 * {@code local[2,4]} lets Spark retry each task up to 4 times. A retried task recomputes the same
 * contribution, so the weights are bit-identical to the run without failures; a "crash" (the
 * partition's task-local state is dropped as well, as with a lost executor) is reported as a
 * rebuilt partition state, and costs SAF the records of that partition.
 */
class FaultToleranceTest extends SparkTestBase {

  @Override protected String master() { return "local[2,4]"; }

  /** 120 rows, batch 20: 6 steps per epoch, 2 partitions, 3 epochs, float64; a Spark job per step (collect). */
  private static SharpnessAwareClassifier est(String rule) {
    return new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {5}).setActivation("tanh")
        .setOptimizer("momentum").setLearningRate(0.1).setBatchSize(20).setEpochs(3).setPrecision("float64")
        .setWeightCol("weight").setSeed(5).setNumPartitions(2).setRule(rule).setAggregation("collect");
  }

  private Dataset<Row> data() { return blobs(120, 4, 3, 21, true); }

  private SharpnessAwareClassificationModel fit(SharpnessAwareClassifier e, Dataset<Row> d, String faults) {
    return fitWithFaults(e, d, faults);
  }

  // partition 0 fails late in epoch 1 step 2; partition 1 "crashes" in epoch 2 step 3 (its local
  // state is dropped); both partitions fail in epoch 3 step 1
  private static final String SPEC = "fail:0@0.1,crash:1@1.2,fail:*@2.0";

  @Test
  void sgdWithFailedTasksIsBitIdentical() {
    Dataset<Row> d = data();
    SharpnessAwareClassificationModel clean = fit(est("none"), d, null);
    assertEquals(0, clean.summary().recovery().failedTaskAttempts());
    assertEquals(0, clean.summary().recovery().partitionStateRebuilds());
    SharpnessAwareClassificationModel faulty = fit(est("none"), d, SPEC);
    assertArrayEquals(clean.weights(), faulty.weights(), 0.0);
    TrainingSummary.Recovery r = faulty.summary().recovery();
    assertEquals(4, r.failedTaskAttempts(), r.events().toString());
    assertEquals(1, r.partitionStateRebuilds(), r.events().toString());
    assertTrue(r.events().stream().anyMatch(s -> s.contains("partition 1 lost its task-local state")), r.events().toString());
    assertTrue(faulty.summary().toString().contains("4 failed task attempts"), faulty.summary().toString());
  }

  @Test
  void localStepsWithFailedTasksAreBitIdentical() {
    Dataset<Row> d = data();
    double[] clean = fit(est("none").setLocalSteps(2), d, null).weights();
    // local rounds start at steps 0, 2, 4 of each epoch
    SharpnessAwareClassificationModel faulty = fit(est("none").setLocalSteps(2), d, "fail:0@0.2,crash:1@1.4");
    assertArrayEquals(clean, faulty.weights(), 0.0);
    assertEquals(2, faulty.summary().recovery().failedTaskAttempts());
    assertEquals(1, faulty.summary().recovery().partitionStateRebuilds());
  }

  @Test
  void mesaWithFailedTasksIsBitIdentical() {
    Dataset<Row> d = data();
    SharpnessAwareClassifier e = est("mesa").setKlStartEpoch(0).setEmaDecay(0.9);
    double[] clean = fit(e, d, null).weights();
    SharpnessAwareClassificationModel faulty = fit(e, d, SPEC);
    assertArrayEquals(clean, faulty.weights(), 0.0);
    assertEquals(4, faulty.summary().recovery().failedTaskAttempts());
  }

  @Test
  void sharpnessAwareRulesWithFailedTasksAreBitIdentical() {
    Dataset<Row> d = data();
    assertTrue(SAM_RULES.contains("sam"), SAM_RULES.toString());
    // global SAM (two passes per step: both fail once) and m-SAM (micro-batches of 5 in each task)
    for (String rule : List.of("sam")) {
      for (String scope : new String[] {"global", "partition"}) {
        SharpnessAwareClassifier e = est(rule).setPerturbation(scope).setMicroBatchSize(5);
        double[] clean = fit(e, d, null).weights();
        SharpnessAwareClassificationModel faulty = fit(e, d, SPEC);
        assertArrayEquals(clean, faulty.weights(), 0.0, rule + "/" + scope);
        assertTrue(faulty.summary().recovery().failedTaskAttempts() >= 4, rule + "/" + scope);
      }
    }
  }

  /** The SAM rules available in this build (sam/asam land separately; see Rules). */
  static final java.util.List<String> SAM_RULES = availableSamRules();

  private static java.util.List<String> availableSamRules() {
    java.util.List<String> out = new java.util.ArrayList<>();
    for (String r : new String[] {"sam", "asam"}) {
      try {
        io.github.sparksam.sam.Rules.create(io.github.sparksam.sam.RuleSettings.none().withRule(r),
            io.github.sparksam.nn.Network.linear(2, 2, io.github.sparksam.nn.Network.Head.BINOMIAL), 1, 0.0);
        out.add(r);
      } catch (IllegalArgumentException notYet) {
        // not in this build
      }
    }
    return out;
  }

  @Test
  void safSurvivesFailuresAndReportsTheCoverageACrashCost() {
    Dataset<Row> d = data();
    SharpnessAwareClassifier e = est("saf").setSafLag(1).setKlStartEpoch(0);
    SharpnessAwareClassificationModel clean = fit(e, d, null);
    // a failure that keeps the partition's state: the retry reads the same records, same weights
    SharpnessAwareClassificationModel failed = fit(e, d, "fail:0@1.0,fail:1@2.3");
    assertArrayEquals(clean.weights(), failed.weights(), 0.0);
    for (EpochMetrics m : failed.summary().epochs().subList(1, 3)) {
      assertEquals(1.0, m.ruleMetrics().get("safCoverage"), 0.0);
    }
    // a crash of partition 0 at the start of epoch 2 drops its records of epoch 1: masked, counted
    SharpnessAwareClassificationModel crashed = fit(e, d, "crash:0@1.0");
    assertEquals(1, crashed.summary().recovery().partitionStateRebuilds());
    Map<String, Double> e2 = crashed.summary().epochs().get(1).ruleMetrics();
    assertTrue(e2.get("safCoverage") < 1.0 && e2.get("safCoverage") > 0.0, e2.toString());
    assertTrue(e2.get("safRecordsMissing") > 0, e2.toString());
    // epoch 3 reads the records written in epoch 2 after the rebuild: full coverage again
    assertEquals(1.0, crashed.summary().epochs().get(2).ruleMetrics().get("safCoverage"), 0.0);
    for (double w : crashed.weights()) assertTrue(Double.isFinite(w));
  }
}
