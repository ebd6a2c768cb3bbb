package io.github.sparksam.sam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.LossStats;
import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.DataSummary;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.nn.Network;
import io.github.sparksam.optim.ConstantRate;
import io.github.sparksam.optim.Optimizers;
import io.github.sparksam.testutil.SparkTestBase;
import io.github.sparksam.train.DistributedTrainer;
import io.github.sparksam.train.EpochMetrics;
import io.github.sparksam.train.LocalRule;
import io.github.sparksam.train.StepContext;
import io.github.sparksam.train.TrainingConfig;
import io.github.sparksam.train.TrainingResult;
import io.github.sparksam.train.UpdateRule;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;

/** SAF and MESA trained on Spark: degenerate settings, record coverage and masking, accuracy. */
class SafMesaTrainingTest extends SparkTestBase {

  /** 120 rows, batch 20: 6 steps per epoch, 2 partitions, float64, momentum SGD. */
  private SharpnessAwareClassifier est(String rule) {
    return new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {5}).setActivation("tanh")
        .setOptimizer("momentum").setMomentum(0.9).setLearningRate(0.1).setBatchSize(20).setEpochs(4)
        .setPrecision("float64").setWeightCol("weight").setSeed(5).setNumPartitions(2).setRule(rule);
  }

  private Dataset<Row> data() { return blobs(120, 4, 3, 21, true); }

  private static List<EpochMetrics> epochs(SharpnessAwareClassificationModel m) { return m.summary().epochs(); }

  private static void assertFinite(double[] w) {
    for (double v : w) assertTrue(Double.isFinite(v), "non-finite weight");
  }

  // ------------------------------------------------------------------ SAF degenerate settings

  @Test
  void safWithLambdaZeroIsBitIdenticalToTheBaseOptimizer() {
    Dataset<Row> d = data();
    double[] base = est("none").fit(d).weights();
    SharpnessAwareClassificationModel saf = est("saf").setSafLambda(0).setSafLag(1).setKlStartEpoch(0).fit(d);
    assertArrayEquals(base, saf.weights(), 0.0);
    // the term's path did run: records were read in epochs 1..3
    for (int e = 1; e < 4; e++) assertEquals(1.0, epochs(saf).get(e).ruleMetrics().get("safCoverage"), 0.0);
  }

  @Test
  void safWithLagZeroIsBitIdenticalToTheBaseOptimizer() {
    Dataset<Row> d = data();
    double[] base = est("none").fit(d).weights();
    SharpnessAwareClassificationModel saf = est("saf").setSafLag(0).setKlStartEpoch(0).fit(d);
    assertArrayEquals(base, saf.weights(), 0.0);
    for (int e = 1; e < 4; e++) {
      Map<String, Double> m = epochs(saf).get(e).ruleMetrics();
      assertEquals(1.0, m.get("safCoverage"), 0.0);
      assertEquals(0.0, m.get("trajectoryLoss"), 0.0);
    }
  }

  @Test
  void safBeforeItsWindowIsIdenticalAndChangesTrainingInside() {
    Dataset<Row> d = data();
    // klStart = 2: epochs 0..2 are plain training; a 3-epoch run never switches the term on
    double[] base3 = est("none").setEpochs(3).fit(d).weights();
    SharpnessAwareClassificationModel saf3 = est("saf").setEpochs(3).setSafLag(2).setKlStartEpoch(2).fit(d);
    assertArrayEquals(base3, saf3.weights(), 0.0);
    for (EpochMetrics m : epochs(saf3)) assertTrue(m.ruleMetrics().isEmpty(), m.ruleMetrics().toString());
    // with a 4th epoch (e = 3 > klStart) the term is on and moves the weights away from the base
    double[] base4 = est("none").fit(d).weights();
    SharpnessAwareClassificationModel saf4 = est("saf").setSafLag(2).setKlStartEpoch(2).fit(d);
    assertFalse(java.util.Arrays.equals(base4, saf4.weights()));
    Map<String, Double> last = epochs(saf4).get(3).ruleMetrics();
    assertEquals(1.0, last.get("safCoverage"), 0.0);
    assertTrue(last.get("trajectoryLoss") > 0, last.toString());
  }

  @Test
  void safRejectsAStartBeforeTheFirstRecord() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> est("saf").setSafLag(3).setKlStartEpoch(1).fit(data()));
    assertTrue(e.getMessage().contains("klStartEpoch"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new SharpnessAwareTrainingForFree(0.3, 5, -1, 0, 10));
    // the automatic start honours the lag: 30% of 2 epochs = 0, but at least lag - 1 = 1
    SharpnessAwareTrainingForFree auto = (SharpnessAwareTrainingForFree) Rules.create(
        RuleSettings.none().withRule("saf"), Network.linear(2, 3, Network.Head.MULTINOMIAL), 2, 0);
    assertEquals(2, auto.lag());
    assertEquals(1, auto.klStart());
  }

  // ------------------------------------------------------------------ SAF coverage and masking

  @Test
  void safCoverageIsCompleteInEveryActiveEpochAndTrainingIsGood() {
    SharpnessAwareClassificationModel m = est("saf").setSafLag(2).setKlStartEpoch(1).setEpochs(6).fit(data());
    List<EpochMetrics> es = epochs(m);
    for (int e = 0; e < 6; e++) {
      Map<String, Double> r = es.get(e).ruleMetrics();
      if (e <= 1) {
        assertTrue(r.isEmpty(), "epoch " + e + ": " + r);
      } else {
        assertEquals(1.0, r.get("safCoverage"), 0.0, "epoch " + e);
        assertEquals(0.0, r.get("safRecordsMissing"), 0.0);
        assertTrue(r.get("trajectoryLoss") > 0 && Double.isFinite(r.get("trajectoryLoss")), r.toString());
      }
    }
    assertTrue(es.get(5).accuracy() > 0.85, m.summary().toString());
    assertFinite(m.weights());
  }

  /**
   * Storage lost with the cached partitions: after epoch 1 the blocks are evicted (unpersist, then
   * persist again), the next job recomputes the partitions with empty local state, so epoch 2 finds
   * none of epoch 1's records (masked, coverage 0) while epoch 3 finds epoch 2's again.
   */
  @Test
  void lostRecordsAreMaskedAndCounted() {
    Dataset<Row> d = data();
    JavaRDD<BlockedPartition> blocked = Blockifier.blockify(d, new InputColumns("features", "label", "weight"),
        Precision.FLOAT64, 2, -1).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      DataSummary ds = DataSummary.of(blocked, "features");
      Network net = Network.linear(4, 3, Network.Head.MULTINOMIAL);
      TrainingConfig cfg = new TrainingConfig(20, 4, 3L, 1, Precision.FLOAT64, 0.0, 0.0, 0.0, 1024);
      SharpnessAwareTrainingForFree saf = new SharpnessAwareTrainingForFree(0.3, 5, 1, 0, Integer.MAX_VALUE);
      EvictAfterEpoch rule = new EvictAfterEpoch(saf, blocked, 1);
      DistributedTrainer t = new DistributedTrainer(blocked, ds, net, cfg, rule,
          Optimizers.create("momentum", 0.9, 0.9, 0.999, 1e-8, 0.0, net.layout().weightMask()), new ConstantRate(0.1));
      TrainingResult res = t.train(net.initialParams(3));
      List<EpochMetrics> es = res.summary().epochs();
      assertEquals(1.0, es.get(1).ruleMetrics().get("safCoverage"), 0.0);
      assertEquals(0.0, es.get(2).ruleMetrics().get("safCoverage"), 0.0, es.get(2).ruleMetrics().toString());
      assertEquals(120.0, es.get(2).ruleMetrics().get("safRecordsMissing"), 0.0);
      assertTrue(Double.isNaN(es.get(2).ruleMetrics().get("trajectoryLoss")));
      assertEquals(1.0, es.get(3).ruleMetrics().get("safCoverage"), 0.0);
      assertFinite(res.params());
      assertTrue(es.get(3).accuracy() > 0.8, res.summary().toString());
    } finally {
      blocked.unpersist(false);
    }
  }

  /** Delegates to a rule and evicts the cached training data once, at the end of one epoch. */
  private static final class EvictAfterEpoch implements UpdateRule {
    private final UpdateRule rule;
    private final transient JavaRDD<BlockedPartition> data;
    private final int evictAfter;
    private int seen;

    EvictAfterEpoch(UpdateRule rule, JavaRDD<BlockedPartition> data, int evictAfter) {
      this.rule = rule;
      this.data = data;
      this.evictAfter = evictAfter;
    }

    @Override public LocalRule localRule() { return rule.localRule(); }

    @Override public void step(StepContext ctx) { rule.step(ctx); }

    @Override public Map<String, Double> epochMetrics(LossStats s) {
      Map<String, Double> m = rule.epochMetrics(s);
      if (seen++ == evictAfter) {
        data.unpersist(true);
        data.persist(StorageLevel.MEMORY_AND_DISK());
      }
      return m;
    }

    @Override public String name() { return rule.name(); }
  }

  // ------------------------------------------------------------------ SAF variants

  @Test
  void safWithLocalStepsTrainsWithFullCoverage() {
    SharpnessAwareClassificationModel m = est("saf").setLocalSteps(2).setSafLag(1).setKlStartEpoch(0).setEpochs(4)
        .fit(data());
    for (int e = 1; e < 4; e++) assertEquals(1.0, epochs(m).get(e).ruleMetrics().get("safCoverage"), 0.0);
    assertTrue(epochs(m).get(3).accuracy() > 0.8, m.summary().toString());
  }

  @Test
  void safOnABinomialFloat32Model() {
    Dataset<Row> d = blobs(120, 3, 2, 8, false);
    SharpnessAwareClassificationModel m = est("saf").setModelType("softmax").setHiddenLayers(new int[0])
        .setPrecision("float32").setSafLag(1).setKlStartEpoch(0).fit(d);
    assertEquals(Network.Head.BINOMIAL, m.network().head());
    for (int e = 1; e < 4; e++) {
      Map<String, Double> r = epochs(m).get(e).ruleMetrics();
      assertEquals(1.0, r.get("safCoverage"), 0.0);
      assertTrue(r.get("trajectoryLoss") > 0 && Double.isFinite(r.get("trajectoryLoss")), r.toString());
    }
    assertTrue(epochs(m).get(3).accuracy() > 0.85, m.summary().toString());
  }

  // ------------------------------------------------------------------ MESA

  @Test
  void mesaWithDecayZeroIsTheBaseOptimizer() {
    Dataset<Row> d = data();
    double[] base = est("none").fit(d).weights();
    SharpnessAwareClassificationModel mesa = est("mesa").setEmaDecay(0).setKlStartEpoch(-1).fit(d);
    // the term was on (klStart = 30% of 4 epochs = 1) and is 0: teacher == current weights
    assertEquals(0.0, epochs(mesa).get(3).ruleMetrics().get("trajectoryLoss"), 0.0);
    assertArrayEquals(base, mesa.weights(), 0.0);
  }

  @Test
  void mesaBeforeItsWindowIsIdentical() {
    Dataset<Row> d = data();
    double[] base = est("none").setEpochs(2).fit(d).weights();
    SharpnessAwareClassificationModel mesa = est("mesa").setEpochs(2).setKlStartEpoch(1).setEmaDecay(0.5).fit(d);
    assertArrayEquals(base, mesa.weights(), 0.0);
  }

  /** 10.14: after t steps v_t = beta^t v_0 + (1 - beta) sum_k beta^(t-k) theta_k; beta 1 freezes, 0 copies. */
  @Test
  void emaClosedForm() {
    java.util.SplittableRandom r = new java.util.SplittableRandom(4);
    double[] v0 = {0.5, -1, 2};
    double[][] theta = new double[7][3];
    for (double[] th : theta) for (int i = 0; i < 3; i++) th[i] = gauss(r);
    for (double beta : new double[] {0, 0.3, 0.9, 1}) {
      double[] v = v0.clone();
      for (double[] th : theta) MemoryEfficientSharpnessAware.emaUpdate(v, th, beta);
      int t = theta.length;
      for (int i = 0; i < 3; i++) {
        double expected = Math.pow(beta, t) * v0[i];
        for (int k = 1; k <= t; k++) expected += (1 - beta) * Math.pow(beta, t - k) * theta[k - 1][i];
        assertEquals(expected, v[i], 1e-12, "beta " + beta);
      }
      if (beta == 1) assertArrayEquals(v0, v, 0.0);
      if (beta == 0) assertArrayEquals(theta[t - 1], v, 0.0);
    }
  }

  @Test
  void mesaWithDecayOneKeepsTheTeacherAtTheInitialWeights() {
    Dataset<Row> d = data();
    JavaRDD<BlockedPartition> blocked = Blockifier.blockify(d, new InputColumns("features", "label", "weight"),
        Precision.FLOAT64, 2, -1).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      DataSummary ds = DataSummary.of(blocked, "features");
      Network net = Network.mlp(4, new int[] {5}, 3, io.github.sparksam.nn.Activation.TANH, Network.Head.MULTINOMIAL);
      TrainingConfig cfg = new TrainingConfig(20, 3, 3L, 1, Precision.FLOAT64, 0.0, 0.0, 0.0, 1024);
      MemoryEfficientSharpnessAware mesa = new MemoryEfficientSharpnessAware(0.8, 5, 1.0, 0, Integer.MAX_VALUE);
      double[] init = net.initialParams(3);
      TrainingResult res = new DistributedTrainer(blocked, ds, net, cfg, mesa,
          Optimizers.create("momentum", 0.9, 0.9, 0.999, 1e-8, 0.0, net.layout().weightMask()), new ConstantRate(0.1))
          .train(init);
      assertArrayEquals(init, mesa.teacher(), 0.0);
      assertEquals(18, mesa.emaUpdates());
      assertFalse(java.util.Arrays.equals(init, res.params()));
      // the frozen teacher disagrees with the trained student, so the term is positive
      assertTrue(res.summary().epochs().get(2).ruleMetrics().get("trajectoryLoss") > 0);
    } finally {
      blocked.unpersist(false);
    }
  }

  @Test
  void mesaTrainsToGoodAccuracy() {
    SharpnessAwareClassificationModel m = est("mesa").setEpochs(6).setKlStartEpoch(1).setEmaDecay(0.9).fit(data());
    for (int e = 2; e < 6; e++) {
      double tl = epochs(m).get(e).ruleMetrics().get("trajectoryLoss");
      assertTrue(tl > 0 && Double.isFinite(tl), "epoch " + e + ": " + tl);
    }
    assertTrue(epochs(m).get(5).accuracy() > 0.85, m.summary().toString());
    assertFinite(m.weights());
  }

  @Test
  void mesaSaysItCannotRunLocalSteps() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> est("mesa").setLocalSteps(2).fit(data()));
    assertTrue(e.getMessage().contains("localSteps"), e.getMessage());
    assertTrue(MemoryEfficientSharpnessAware.of(RuleSettings.none(), 4).toString().contains("emaDecay"));
  }
}
