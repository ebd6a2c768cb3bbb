package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.DataSummary;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.optim.Optimizers;
import io.github.sparksam.testutil.SparkTestBase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code aggregation = tree} ({@link TreeAggregation}): bit-identical reruns, the same weights as
 * {@code collect} up to rounding for 1, 4 and 16 partitions, {@code collect}'s weights bit for bit
 * while there is no tree level, task retries inside the tree; {@code auto}'s choice, the estimator's
 * {@code auto} default, and the old name {@code treeAggregate}. {@code local[2,4]}: Spark may retry.
 */
class TreeAggregationTest extends SparkTestBase {

  @TempDir Path tmp;

  @Override protected String master() { return "local[2,4]"; }

  /** 120 rows, batch 20: 6 steps per epoch, 3 epochs, float64, Nesterov momentum. */
  private static SharpnessAwareClassifier est(String aggregation, int partitions) {
    return new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {5}).setActivation("tanh")
        .setOptimizer("nesterov").setMomentum(0.9).setLearningRate(0.1).setBatchSize(20).setEpochs(3)
        .setPrecision("float64").setWeightCol("weight").setSeed(5).setNumPartitions(partitions)
        .setAggregation(aggregation);
  }

  private Dataset<Row> data() { return blobs(120, 4, 3, 21, true); }

  /** Trains with the trainer directly, to set the tree's fan-in (2: 16 partitions make a 4-level tree). */
  private TrainingResult train(Dataset<Row> d, int partitions, String aggregation, int fanout) {
    JavaRDD<BlockedPartition> blocked = Blockifier.blockify(d, new InputColumns("features", "label", "weight"),
        Precision.FLOAT64, partitions, -1).persist(StorageLevel.MEMORY_ONLY());
    try {
      DataSummary ds = DataSummary.of(blocked, "features");
      Network net = Network.mlp(4, new int[] {5}, 3, Activation.TANH, Network.Head.MULTINOMIAL);
      TrainingConfig cfg = new TrainingConfig(20, 3, 5, 1, Precision.FLOAT64, 0.0, 0.0, 0.0, 1024);
      var opt = Optimizers.create("momentum", 0.9, 0.9, 0.999, 1e-8, 0.0, net.layout().weightMask());
      var schedule = Optimizers.schedule("constant", 0.1, 6, 0.1, 0.0, 0);
      return new DistributedTrainer(blocked, ds, net, cfg, new StandardTraining(), opt, schedule)
          .setAggregation(aggregation, 60_000)
          .setTreeFanout(fanout).train(net.initialParams(5));
    } finally {
      blocked.unpersist(true);
    }
  }

  @Test
  void aDeepTreeIsBitIdenticalFromRunToRunAndEqualsCollectToRounding() {
    Dataset<Row> d = data();
    TrainingResult a = train(d, 16, "tree", 2);
    TrainingResult b = train(d, 16, "tree", 2);
    assertEquals("tree", a.summary().aggregation());
    assertArrayEquals(a.params(), b.params(), 0.0, "reruns of a 4-level tree");
    TrainingResult c = train(d, 16, "collect", 2);
    assertEquals("collect", c.summary().aggregation());
    double[] collect = c.params();
    assertArrayEquals(collect, a.params(), 1e-9, "tree against collect, 16 partitions");
    assertFalse(java.util.Arrays.equals(collect, a.params()), "a 4-level tree adds in another order than collect; "
        + "if this ever holds, the test does not exercise the tree");
  }

  @Test
  void oneFourAndSixteenPartitionsGiveTheSameWeightsToRounding() {
    Dataset<Row> d = data();
    SharpnessAwareClassificationModel one = est("tree", 1).fit(d);
    SharpnessAwareClassificationModel four = est("tree", 4).fit(d);
    SharpnessAwareClassificationModel sixteen = est("tree", 16).fit(d);      // fan-in 8: one shuffle level
    SharpnessAwareClassificationModel again = est("tree", 16).fit(d);
    assertEquals("tree", sixteen.summary().aggregation());
    assertEquals(16, sixteen.summary().numPartitions());
    assertArrayEquals(one.weights(), four.weights(), 1e-9);
    assertArrayEquals(one.weights(), sixteen.weights(), 1e-9);
    assertArrayEquals(one.summary().lossHistory(), sixteen.summary().lossHistory(), 1e-9);
    assertArrayEquals(sixteen.weights(), again.weights(), 0.0, "reruns");
    assertArrayEquals(sixteen.summary().lossHistory(), again.summary().lossHistory(), 0.0, "reruns");
  }

  @Test
  void withoutATreeLevelItIsCollectBitForBit() {
    Dataset<Row> d = data();
    for (int p : new int[] {1, 4, 8}) {
      assertArrayEquals(est("collect", p).fit(d).weights(), est("tree", p).fit(d).weights(), 0.0, p + " partitions");
    }
  }

  @Test
  void twoPassRulesAndRetriedTasksInTheTreeGiveTheCleanRunsWeights() {
    Dataset<Row> d = data();
    SharpnessAwareClassifier e = est("tree", 16).setRule("sam").setPerturbation("global").setRho(0.05).setEpochs(2);
    SharpnessAwareClassificationModel clean = e.fit(d);
    SharpnessAwareClassificationModel faulty = fitWithFaults(e, d, "fail:3@0.2,crash:12@1.4");
    assertArrayEquals(clean.weights(), faulty.weights(), 0.0);
    assertTrue(faulty.summary().recovery().failedTaskAttempts() >= 2, faulty.summary().recovery().toString());
    assertTrue(faulty.summary().recovery().partitionStateRebuilds() >= 1, faulty.summary().recovery().toString());
  }

  @Test
  void autoPicksTheTreeForManyPartitionsOfALargeModelWhereAllReduceCannotRun() {
    assertFalse(TreeAggregation.preferredOver(8, 10_000_000));          // no more partitions than the fan-in
    assertFalse(TreeAggregation.preferredOver(16, 50_000));             // 6.1 MiB per pass: collect
    assertTrue(TreeAggregation.preferredOver(16, 100_000));             // 12.2 MiB
    assertTrue(TreeAggregation.preferredOver(64, 20_000));              // 9.8 MiB
    Dataset<Row> d = blobs(40, 4, 3, 21, true);     // 2 steps
    // 16 partitions > 2 task slots: no allReduce; 4-8200-3 is 73,803 weights: 9 MiB per pass by collecting
    SharpnessAwareClassificationModel big = est("auto", 16).setHiddenLayers(new int[] {8200}).setEpochs(1).fit(d);
    assertEquals("tree", big.summary().aggregation());
    assertEquals("collect", est("auto", 16).setEpochs(1).fit(d).summary().aggregation());
  }

  @Test
  void theEstimatorsDefaultFitRunsOnTheFastPath() {
    SharpnessAwareClassifier e = new SharpnessAwareClassifier().setHiddenLayers(new int[] {5}).setBatchSize(20)
        .setEpochs(1);
    assertEquals("auto", e.getAggregation());
    SharpnessAwareClassificationModel m = e.fit(data());
    assertEquals("allReduce", m.summary().aggregation());
    assertTrue(m.summary().numPartitions() <= 2, "at most one partition per task slot of local[2,4]");
  }

  @Test
  void localStepsAverageModelsOnlyWithCollect() {
    Dataset<Row> d = data();
    assertEquals("collect", est("auto", 2).setLocalSteps(2).setEpochs(1).fit(d).summary().aggregation());
    IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
        () -> est("tree", 2).setLocalSteps(2).fit(d));
    assertTrue(x.getMessage().contains("localSteps=2"), x.getMessage());
  }

  @Test
  void theOldNameTreeAggregateMeansCollect() throws IOException {
    assertEquals(Aggregation.COLLECT, Aggregation.parse("treeAggregate"));
    assertEquals("collect", new SharpnessAwareClassifier().setAggregation("treeAggregate").getAggregation());
    assertEquals("collect", new SharpnessAwareClassifier().setAggregation("TREEAGGREGATE").getAggregation());
    assertEquals("tree", new SharpnessAwareClassifier().setAggregation("Tree").getAggregation());
    IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> Aggregation.parse("ring"));
    assertTrue(x.getMessage().contains("collect, tree, allReduce or auto"), x.getMessage());

    // an estimator and a pipeline saved by a version that wrote aggregation=treeAggregate
    Path est = tmp.resolve("old-estimator");
    est("collect", 2).save(est.toString());
    Path pipe = tmp.resolve("old-pipeline");
    new Pipeline().setStages(new PipelineStage[] {est("collect", 2)}).save(pipe.toString());
    assertEquals(2, rewriteMetadata(tmp, "\"aggregation\":\"collect\"", "\"aggregation\":\"treeAggregate\""));
    SharpnessAwareClassifier loaded = SharpnessAwareClassifier.load(est.toString());
    assertEquals("collect", loaded.getAggregation());
    assertEquals("collect", loaded.getOrDefault(loaded.aggregation()), "stored under the new name");
    SharpnessAwareClassifier inPipeline = (SharpnessAwareClassifier) Pipeline.load(pipe.toString()).getStages()[0];
    assertEquals("collect", inPipeline.getAggregation());
    assertEquals(3, inPipeline.fit(data()).summary().epochs().size());
  }

  /** Replaces {@code from} by {@code to} in every metadata file under {@code dir}; returns how many changed. */
  private static int rewriteMetadata(Path dir, String from, String to) throws IOException {
    int changed = 0;
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.filter(f -> f.toString().contains("metadata") && f.getFileName().toString().startsWith("part-"))
          .toList()) {
        String text = Files.readString(p, StandardCharsets.UTF_8);
        if (!text.contains(from)) continue;
        Files.writeString(p, text.replace(from, to), StandardCharsets.UTF_8);
        Files.deleteIfExists(p.resolveSibling("." + p.getFileName() + ".crc"));
        changed++;
      }
    }
    return changed;
  }
}
