package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.collective.InProcessChannels;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.DataSummary;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.nn.Network;
import io.github.sparksam.optim.Optimizers;
import io.github.sparksam.sam.RuleSettings;
import io.github.sparksam.sam.Rules;
import io.github.sparksam.testutil.SparkTestBase;
import java.lang.management.ManagementFactory;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * What a fit leaves behind (issue #16): its entries in the cached partitions' state maps (task
 * workers, SAF records) and its in-JVM all-reduce channels are gone when it ends, also when it
 * fails; and a hundred small fits in one session grow neither the heap (after GC) nor the number
 * of live threads beyond a small bound (a leak per fit would add 100 or more).
 */
class FitReleaseTest extends SparkTestBase {
  static {
    // keep Spark's own bookkeeping of finished jobs small, so that the heap check sees ours
    System.setProperty("spark.ui.retainedJobs", "20");
    System.setProperty("spark.ui.retainedStages", "20");
    System.setProperty("spark.ui.retainedTasks", "200");
    System.setProperty("spark.sql.ui.retainedExecutions", "20");
  }

  @AfterAll
  void clearProperties() {
    for (String k : new String[] {"spark.ui.retainedJobs", "spark.ui.retainedStages", "spark.ui.retainedTasks",
        "spark.sql.ui.retainedExecutions"}) {
      System.clearProperty(k);
    }
  }

  /** Retries allowed: a barrier stage with an injected failure runs again. */
  @Override protected String master() { return "local[2,4]"; }

  static int entries(JavaRDD<BlockedPartition> blocked) {
    return blocked.map(BlockedPartition::localEntries).reduce(Integer::sum);
  }

  DistributedTrainer trainer(JavaRDD<BlockedPartition> blocked, String rule, double lr) {
    DataSummary ds = DataSummary.of(blocked, "features");
    Network net = Network.linear(3, 3, Network.Head.MULTINOMIAL);
    TrainingConfig cfg = new TrainingConfig(15, 3, 5, 1, Precision.FLOAT64, 0.0, 0.0, 0.0, 1024);
    RuleSettings rs = new RuleSettings(rule, 0.05, "partition", 0, 0.01, "weights", "decoupled", 0.3, 0.8, 5, 1, 0, -1,
        0.999);
    return new DistributedTrainer(blocked, ds, net, cfg, Rules.create(rs, net, cfg.epochs(), 0.0),
        Optimizers.create("sgd", 0, 0.9, 0.999, 1e-8, 0, net.layout().weightMask()),
        Optimizers.schedule("constant", lr, 1, 0.1, 0, 0));
  }

  @Test
  void aFitLeavesNoStateNextToTheCachedDataEvenWhenItFails() {
    Dataset<Row> d = blobs(60, 3, 3, 4, false);
    JavaRDD<BlockedPartition> blocked = Blockifier.blockify(d, new InputColumns("features", "label", "weight"),
        Precision.FLOAT64, 2, -1).persist(StorageLevel.MEMORY_ONLY());
    // other test classes share this JVM: count this test's channels only
    int channels0 = InProcessChannels.open();
    try {
      assertEquals(0, entries(blocked));
      for (String aggregation : List.of("treeAggregate", "allReduce")) {
        // SAF keeps a worker and records per partition during the fit
        DistributedTrainer saf = trainer(blocked, "saf", 0.1).setAggregation(aggregation, 60_000);
        saf.train(new double[12]);
        assertEquals(0, entries(blocked), aggregation + ": per-run entries left in the partitions' state maps");
        assertEquals(channels0, InProcessChannels.open(), aggregation + ": in-JVM channels left open");
        // a fit that diverges (lr 1e308: the weights overflow) releases as well
        DistributedTrainer diverging = trainer(blocked, "saf", 1e308).setAggregation(aggregation, 60_000);
        assertThrows(RuntimeException.class, () -> diverging.train(new double[12]));
        assertEquals(0, entries(blocked), aggregation + ": a failed fit left per-run entries");
        assertEquals(channels0, InProcessChannels.open(), aggregation + ": a failed fit left in-JVM channels");
      }
      // a failed barrier-stage attempt: its channels go too
      spark.sparkContext().setLocalProperty(FaultInjection.PROPERTY, "fail:1@1.*");
      try {
        TrainingResult r = trainer(blocked, "none", 0.1).setAggregation("allReduce", 60_000).train(new double[12]);
        assertTrue(r.summary().recovery().failedTaskAttempts() >= 1, "the injected failure must have happened");
      } finally {
        spark.sparkContext().setLocalProperty(FaultInjection.PROPERTY, null);
      }
      assertEquals(channels0, InProcessChannels.open());
      assertEquals(0, entries(blocked));
    } finally {
      blocked.unpersist(true);
    }
  }

  static long usedHeapAfterGc() throws InterruptedException {
    long min = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(150);
      min = Math.min(min, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return min;
  }

  @Test
  void aHundredSmallFitsGrowNeitherTheHeapNorTheThreads() throws Exception {
    Dataset<Row> d = blobs(40, 3, 2, 9, false).cache();
    d.count();
    SharpnessAwareClassifier[] kinds = {
        new SharpnessAwareClassifier().setModelType("softmax").setRule("saf").setSafLag(1).setKlStartEpoch(0),
        new SharpnessAwareClassifier().setModelType("softmax").setRule("sam").setAggregation("allReduce"),
        new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {4}).setRule("mesa")};
    for (SharpnessAwareClassifier k : kinds) k.setEpochs(1).setBatchSize(20).setNumPartitions(2);
    int channels0 = InProcessChannels.open();                 // other test classes share this JVM
    for (int i = 0; i < 6; i++) kinds[i % 3].fit(d);          // warm up: Spark's pools, JIT, caches
    long heap0 = usedHeapAfterGc();
    int threads0 = ManagementFactory.getThreadMXBean().getThreadCount();
    for (int i = 0; i < 100; i++) kinds[i % 3].fit(d);
    long heap1 = usedHeapAfterGc();
    int threads1 = ManagementFactory.getThreadMXBean().getThreadCount();
    d.unpersist();
    assertEquals(channels0, InProcessChannels.open());
    assertTrue(heap1 - heap0 < (16L << 20), "100 fits grew the heap after GC by " + ((heap1 - heap0) >> 10) + " KiB");
    // pools start threads lazily and retire them after a minute: a few more is noise, a leak is one per fit or more
    assertTrue(threads1 - threads0 <= 20, "100 fits grew the live threads from " + threads0 + " to " + threads1);
  }
}
