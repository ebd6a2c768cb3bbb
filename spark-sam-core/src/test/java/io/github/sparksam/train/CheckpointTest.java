package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints every N epochs and on demand; resuming gives the uninterrupted run's weights bit for bit. */
class CheckpointTest extends SparkTestBase {

  @TempDir Path tmp;

  /** 120 rows, batch 20: 6 steps per epoch, 2 partitions, 4 epochs, float64. */
  private static SharpnessAwareClassifier est(String rule) {
    return new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {5}).setActivation("tanh")
        .setOptimizer("adam").setLearningRate(0.01).setLrSchedule("cosine").setBatchSize(20).setEpochs(4)
        .setPrecision("float64").setWeightCol("weight").setSeed(5).setNumPartitions(2).setRule(rule);
  }

  private Dataset<Row> data() { return blobs(120, 4, 3, 21, true); }

  private static List<Path> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> !p.getFileName().toString().endsWith(".crc")).sorted().toList();
    }
  }

  /** Full run with a checkpoint every epoch, then a resume from the checkpoint after epoch 2. */
  private void assertResumeIsBitIdentical(SharpnessAwareClassifier e) throws IOException {
    Dataset<Row> d = data();
    Path dir = tmp.resolve(e.getRule() + "-" + System.nanoTime());
    SharpnessAwareClassificationModel full = e.copy(new org.apache.spark.ml.param.ParamMap())
        .setCheckpointDir("file://" + dir).setCheckpointInterval(1).fit(d);
    List<Path> written = files(dir);
    assertEquals(4, written.size(), written.toString());    // atomic: no temporary files left
    assertEquals(4, full.summary().recovery().checkpoints().size());
    Path afterEpoch2 = dir.resolve(Checkpoint.fileName(12));
    assertTrue(Files.exists(afterEpoch2), written.toString());
    SharpnessAwareClassificationModel resumed = e.copy(new org.apache.spark.ml.param.ParamMap())
        .setResumeFrom(afterEpoch2.toString()).fit(d);
    assertArrayEquals(full.weights(), resumed.weights(), 0.0, e.getRule());
    assertEquals(4, resumed.summary().epochs().size());
    assertArrayEquals(full.summary().lossHistory(), resumed.summary().lossHistory(), 0.0);
    assertEquals(full.summary().epochs().get(3).ruleMetrics(), resumed.summary().epochs().get(3).ruleMetrics());
    assertTrue(resumed.summary().recovery().resumedFrom().endsWith(afterEpoch2.getFileName().toString()));
  }

  @Test
  void adamWithCosineScheduleResumesBitIdentical() throws IOException {
    assertResumeIsBitIdentical(est("none"));
  }

  @Test
  void mesaResumesBitIdenticalWithItsTeacher() throws IOException {
    assertResumeIsBitIdentical(est("mesa").setKlStartEpoch(0).setEmaDecay(0.9));
  }

  @Test
  void safResumesBitIdenticalWithItsCheckpointedRecords() throws IOException {
    // lag 2: epochs 3 and 4 read the records of epochs 1 and 2, which only the checkpoint holds
    SharpnessAwareClassifier e = est("saf").setSafLag(2).setKlStartEpoch(1);
    assertResumeIsBitIdentical(e);
  }

  @Test
  void samResumesBitIdentical() throws IOException {
    for (String rule : FaultToleranceTest.SAM_RULES) {
      assertResumeIsBitIdentical(est(rule).setPerturbation("global"));
    }
  }

  @Test
  void onDemandCheckpointMidEpochResumesBitIdentical() throws IOException {
    Dataset<Row> d = data();
    JavaRDD<BlockedPartition> blocked = Blockifier.blockify(d, new InputColumns("features", "label", "weight"),
        Precision.FLOAT64, 2, -1).persist(StorageLevel.MEMORY_ONLY());
    try {
      DataSummary ds = DataSummary.of(blocked, "features");
      Network net = Network.mlp(4, new int[] {5}, 3, Activation.TANH, Network.Head.MULTINOMIAL);
      TrainingConfig cfg = new TrainingConfig(20, 3, 5, 1, Precision.FLOAT64, 0.0, 0.0, 0.0, 1024);
      var opt = Optimizers.create("momentum", 0.9, 0.9, 0.999, 1e-8, 0.0, net.layout().weightMask());
      var schedule = Optimizers.schedule("cosine", 0.1, 6, 0.1, 0.0, 0);
      double[] init = net.initialParams(5);
      TrainingResult full = new DistributedTrainer(blocked, ds, net, cfg, new StandardTraining(), opt, schedule).train(init);

      Path dir = tmp.resolve("on-demand");
      DistributedTrainer[] ref = new DistributedTrainer[1];
      UpdateRule requestAt8 = new UpdateRule() {
        final StandardTraining base = new StandardTraining();

        @Override public LocalRule localRule() { return base.localRule(); }

        @Override public void step(StepContext ctx) {
          base.step(ctx);
          if (ctx.globalStep() == 7) ref[0].requestCheckpoint();    // after the 8th step: epoch 2, step 3 next
        }

        @Override public String name() { return base.name(); }
      };
      ref[0] = new DistributedTrainer(blocked, ds, net, cfg, requestAt8, opt, schedule).checkpointTo(dir.toString(), 0);
      TrainingResult withCkpt = ref[0].train(init);
      assertArrayEquals(full.params(), withCkpt.params(), 0.0);
      assertEquals(1, ref[0].checkpointsWritten().size());
      Checkpoint c = Checkpoint.read(dir.toString(), spark.sparkContext().hadoopConfiguration());   // the newest in dir
      assertEquals(1, c.epoch);
      assertEquals(2, c.stepInEpoch);
      assertEquals(8, c.globalStep);
      assertEquals(8, c.optimizerState().step);
      TrainingResult resumed = new DistributedTrainer(blocked, ds, net, cfg, new StandardTraining(), opt, schedule)
          .train(null, c);
      assertArrayEquals(full.params(), resumed.params(), 0.0);
      assertArrayEquals(full.optimizerState().slots[0], resumed.optimizerState().slots[0], 0.0);
      assertEquals(full.summary().epochs().get(1).loss(), resumed.summary().epochs().get(1).loss(), 0.0);
    } finally {
      blocked.unpersist(false);
    }
  }

  @Test
  void badCheckpointsAndSettingsFailClearly() throws IOException {
    Dataset<Row> d = data();
    // interval without a directory
    IllegalArgumentException x = assertThrows(IllegalArgumentException.class,
        () -> est("none").setCheckpointInterval(1).fit(d));
    assertTrue(x.getMessage().contains("checkpointInterval") && x.getMessage().contains("checkpointDir"), x.getMessage());
    // missing path, empty directory
    String missing = tmp.resolve("nope").toString();
    x = assertThrows(IllegalArgumentException.class, () -> est("none").setResumeFrom(missing).fit(d));
    assertTrue(x.getMessage().contains(missing) && x.getMessage().contains("does not exist"), x.getMessage());
    Path empty = Files.createDirectories(tmp.resolve("empty"));
    x = assertThrows(IllegalArgumentException.class, () -> est("none").setResumeFrom(empty.toString()).fit(d));
    assertTrue(x.getMessage().contains("holds no checkpoint"), x.getMessage());
    // a checkpoint of a 2-epoch run
    Path dir = tmp.resolve("ck");
    est("none").setEpochs(2).setCheckpointDir(dir.toString()).setCheckpointInterval(2).fit(d);
    Path file = dir.resolve(Checkpoint.fileName(12));
    assertTrue(Files.exists(file));
    // a leftover temporary file of an interrupted write is ignored by 'latest'
    Files.writeString(dir.resolve("." + Checkpoint.fileName(99) + ".x.tmp"), "partial");
    assertEquals(file.getFileName().toString(), new org.apache.hadoop.fs.Path(
        Checkpoint.latest(dir.toString(), spark.sparkContext().hadoopConfiguration())).getName());
    // a different run: other hidden layer size, other batch size, other rule
    x = assertThrows(IllegalArgumentException.class,
        () -> est("none").setHiddenLayers(new int[] {6}).setResumeFrom(file.toString()).fit(d));
    assertTrue(x.getMessage().contains("resumeFrom") && x.getMessage().contains("number of weights"), x.getMessage());
    x = assertThrows(IllegalArgumentException.class,
        () -> est("none").setBatchSize(30).setResumeFrom(file.toString()).fit(d));
    assertTrue(x.getMessage().contains("batchSize 20 vs 30"), x.getMessage());
    x = assertThrows(IllegalArgumentException.class,
        () -> est("mesa").setResumeFrom(file.toString()).fit(d));
    assertTrue(x.getMessage().contains("rule standard vs mesa"), x.getMessage());
    // a different feature size
    x = assertThrows(IllegalArgumentException.class,
        () -> est("none").setResumeFrom(file.toString()).fit(blobs(120, 5, 3, 21, true)));
    assertTrue(x.getMessage().contains("number of weights"), x.getMessage());
    // a run with fewer epochs than the checkpoint's position
    x = assertThrows(IllegalArgumentException.class, () -> est("none").setEpochs(1).setResumeFrom(file.toString()).fit(d));
    assertTrue(x.getMessage().contains("only 1 epochs"), x.getMessage());
    // truncated, altered, not a checkpoint
    Path cut = tmp.resolve("cut.bin");
    Files.copy(file, cut);
    try (RandomAccessFile f = new RandomAccessFile(cut.toFile(), "rw")) {
      f.setLength(f.length() / 2);
    }
    x = assertThrows(IllegalArgumentException.class, () -> est("none").setResumeFrom(cut.toString()).fit(d));
    assertTrue(x.getMessage().contains(cut.toString()) && x.getMessage().contains("truncated or corrupt"), x.getMessage());
    Path flipped = tmp.resolve("flipped.bin");
    byte[] b = Files.readAllBytes(file);
    b[b.length / 2] ^= 1;
    Files.write(flipped, b);
    x = assertThrows(IllegalArgumentException.class, () -> est("none").setResumeFrom(flipped.toString()).fit(d));
    assertTrue(x.getMessage().contains("checksum"), x.getMessage());
    Path text = Files.writeString(tmp.resolve("text.bin"), "hello, not a checkpoint");
    x = assertThrows(IllegalArgumentException.class, () -> est("none").setResumeFrom(text.toString()).fit(d));
    assertTrue(x.getMessage().contains("not a spark-sam checkpoint"), x.getMessage());
    assertFalse(x.getMessage().contains("\n"));
    assertNotNull(Checkpoint.read(file.toString(), spark.sparkContext().hadoopConfiguration()));
  }
}
