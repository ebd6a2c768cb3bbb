package io.github.sparksam.ml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.testutil.SparkTestBase;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every rule with its default settings trains the same weights however the data is partitioned
 * (so on 2, 4 or 64 cores): the partition count is never a hidden hyper-parameter. float64, 1e-9.
 */
class DefaultRuleSettingsTest extends SparkTestBase {

  private Dataset<Row> data;

  @BeforeAll
  void data() {
    data = blobs(120, 4, 3, 23, true).cache();   // batch 24: 5 steps per epoch; local[2]: 2 partitions
    assertEquals(2, data.rdd().getNumPartitions());
  }

  /** Only what is not a rule setting is chosen here; every rule param keeps its default. */
  private static SharpnessAwareClassifier defaults(String rule) {
    return new SharpnessAwareClassifier().setRule(rule).setHiddenLayers(new int[] {5}).setActivation("tanh")
        .setBatchSize(24).setEpochs(4).setPrecision("float64").setWeightCol("weight").setSeed(11);
  }

  private static double maxRel(double[] a, double[] b) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1e-12, Math.max(Math.abs(a[i]), Math.abs(b[i]))));
    }
    return m;
  }

  private void assertPartitionIndependent(String rule) {
    SharpnessAwareClassificationModel one = defaults(rule).setNumPartitions(1).fit(data);
    assertEquals(1, one.summary().numPartitions());
    for (int p : new int[] {2, 4}) {
      SharpnessAwareClassificationModel m = defaults(rule).setNumPartitions(p).fit(data);
      assertEquals(p, m.summary().numPartitions());
      double d = maxRel(one.weights(), m.weights());
      assertTrue(d < 1e-9, rule + " with defaults, 1 vs " + p + " partitions: max relative difference " + d);
    }
    // numPartitions 0 (the default) keeps the input's layout: the same rows in the same order, in 1 or 2 partitions
    for (Dataset<Row> input : List.of(data.coalesce(1), data)) {
      double d = maxRel(one.weights(), defaults(rule).fit(input).weights());
      assertTrue(d < 1e-9, rule + " with defaults on a " + input.rdd().getNumPartitions()
          + "-partition input: max relative difference " + d);
    }
  }

  @Test
  void defaultSamIsIndependentOfThePartitioning() {
    assertPartitionIndependent("sam");
    // and the default SAM does perturb: it is not the base optimizer
    double d = maxRel(defaults("sam").fit(data).weights(), defaults("none").fit(data).weights());
    assertTrue(d > 1e-6, "default SAM equals plain training (max relative difference " + d + ")");
  }

  @Test
  void defaultAsamSafAndMesaAreIndependentOfThePartitioning() {
    for (String rule : new String[] {"asam", "saf", "mesa"}) assertPartitionIndependent(rule);
  }
}
