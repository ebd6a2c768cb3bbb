package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.DataSummary;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.optim.Optimizers;
import io.github.sparksam.sam.SharpnessAwareTrainingForFree;
import io.github.sparksam.testutil.SparkTestBase;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;

/**
 * Two trainings at the same time in one SparkSession (as a hyper-parameter or correlation grid
 * runs them) share no state: each gives the weights it gives alone, and SAF's per-example records
 * are kept per run, even when both runs train on the same cached partitions.
 */
class ConcurrencyTest extends SparkTestBase {

  private static <T> List<T> together(Callable<T> a, Callable<T> b) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<T> fa = pool.submit(a);
      Future<T> fb = pool.submit(b);
      return List.of(fa.get(), fb.get());
    } finally {
      pool.shutdownNow();
    }
  }

  private static SharpnessAwareClassifier est(String rule, double lambda) {
    return new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {5}).setActivation("tanh")
        .setOptimizer("momentum").setLearningRate(0.1).setBatchSize(20).setEpochs(3).setPrecision("float64")
        .setSeed(5).setNumPartitions(2).setRule(rule).setSafLambda(lambda).setSafLag(1).setKlStartEpoch(0)
        .setMesaLambda(lambda);
  }

  @Test
  void twoEstimatorFitsAtOnceGiveTheirSoloWeights() throws Exception {
    Dataset<Row> d = blobs(120, 4, 3, 21, false);
    SharpnessAwareClassifier a = est("saf", 0.3);
    SharpnessAwareClassifier b = est("mesa", 0.8).setSeed(6);
    double[] soloA = a.fit(d).weights();
    double[] soloB = b.fit(d).weights();
    List<double[]> both = together(() -> a.fit(d).weights(), () -> b.fit(d).weights());
    assertArrayEquals(soloA, both.get(0), 0.0);
    assertArrayEquals(soloB, both.get(1), 0.0);
  }

  @Test
  void twoSafRunsOnTheSameCachedPartitionsKeepTheirRecordsApart() throws Exception {
    Dataset<Row> d = blobs(120, 4, 3, 22, false);
    JavaRDD<BlockedPartition> blocked = Blockifier.blockify(d, new InputColumns("features", "label", null),
        Precision.FLOAT64, 2, -1).persist(StorageLevel.MEMORY_ONLY());
    try {
      DataSummary ds = DataSummary.of(blocked, "features");
      Network net = Network.mlp(4, new int[] {5}, 3, Activation.TANH, Network.Head.MULTINOMIAL);
      TrainingConfig cfg = new TrainingConfig(20, 3, 5, 1, Precision.FLOAT64, 0.0, 0.0, 0.0, 1024);
      double[] init = net.initialParams(5);
      // same data and weights, different lambda: if either run read the other's records, its
      // trajectory term (and so its weights) would change
      Callable<DistributedTrainer> mkA = () -> trainer(blocked, ds, net, cfg, 0.3);
      Callable<DistributedTrainer> mkB = () -> trainer(blocked, ds, net, cfg, 2.0);
      double[] soloA = mkA.call().train(init).params();
      double[] soloB = mkB.call().train(init).params();
      DistributedTrainer ta = mkA.call(), tb = mkB.call();
      assertNotEquals(ta.runId(), tb.runId());
      List<TrainingResult> both = together(() -> ta.train(init), () -> tb.train(init));
      assertArrayEquals(soloA, both.get(0).params(), 0.0);
      assertArrayEquals(soloB, both.get(1).params(), 0.0);
      for (TrainingResult r : both) {
        for (EpochMetrics m : r.summary().epochs().subList(1, 3)) assertEquals(1.0, m.ruleMetrics().get("safCoverage"), 0.0);
      }
      // #16: each run kept its records under its own key while it ran, and released them when it ended
      List<Set<String>> keys = blocked.map(p -> {
        synchronized (p) {
          return (Set<String>) new TreeSet<>(p.local().keySet());
        }
      }).collect();
      for (Set<String> k : keys) {
        assertTrue(k.stream().noneMatch(s -> s.endsWith(ta.runId()) || s.endsWith(tb.runId())), k.toString());
      }
    } finally {
      blocked.unpersist(false);
    }
  }

  private static DistributedTrainer trainer(JavaRDD<BlockedPartition> blocked, DataSummary ds, Network net,
                                            TrainingConfig cfg, double lambda) {
    var opt = Optimizers.create("momentum", 0.9, 0.9, 0.999, 1e-8, 0.0, net.layout().weightMask());
    var schedule = Optimizers.schedule("constant", 0.1, 6, 0.1, 0.0, 0);
    return new DistributedTrainer(blocked, ds, net, cfg, new SharpnessAwareTrainingForFree(lambda, 5.0, 1, 0,
        Integer.MAX_VALUE), opt, schedule);
  }
}
