package io.github.sparksam.sharpness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.testutil.SparkTestBase;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** Every measure gives the same value with 1 and 4 partitions (fixed seeds), and the sample is the reference's. */
class DistributedEqualsLocalTest extends SparkTestBase {

  static SharpnessConfig smallConfig(long sampleSeed) {
    return new SharpnessConfig().sample(96, 32, sampleSeed)
        .specs(List.of(SharpnessSpec.parse("worst:linf:adaptive:0.01"), SharpnessSpec.parse("worst:l2:standard:0.1"),
            SharpnessSpec.parse("average:l2:adaptive:0.1"), SharpnessSpec.parse("average:linf:standard:0.05")))
        .worstCase(10, 1.0, false).averageCase(6, false)
        .lanczos(5, 1e-12).power(5, 1e-12).hutchinson(8, 4).density(2, 3).seed(3);
  }

  @Test
  void everyMeasureIsTheSameWithOneAndFourPartitions() {
    Dataset<Row> df = blobs(240, 4, 3, 17, true);
    Network net = Network.mlp(4, new int[] {5}, 3, Activation.TANH, Network.Head.MULTINOMIAL);
    double[] w = net.initialParams(2);
    for (int i = 0; i < w.length; i++) w[i] += 0.05 * Math.sin(i);
    for (long sampleSeed : new long[] {-1, 7}) {
      SharpnessConfig cfg = smallConfig(sampleSeed).hessianRows(sampleSeed < 0 ? 0 : 150);
      if (sampleSeed >= 0) cfg.hessianMeasures("topEigenvalue", "hessianTrace");  // keep the test short
      JavaRDD<BlockedPartition> one = HessianMeasuresTest.blocks(df, 1), four = HessianMeasuresTest.blocks(df, 4);
      SharpnessReport a = SharpnessAnalysis.run(one, net, w, cfg);
      SharpnessReport b = SharpnessAnalysis.run(four, net, w, cfg);
      assertEquals(4, a.sharpness().size());
      for (int s = 0; s < 4; s++) {
        // sample batches are partition-independent and each is computed by one task: bit-identical
        assertArrayEquals(a.sharpness().get(s).perBatch(), b.sharpness().get(s).perBatch(), 0.0);
        assertEquals(a.sharpness().get(s).value(), b.sharpness().get(s).value(), 0.0);
        assertTrue(a.sharpness().get(s).value() > 0);
      }
      assertEquals(a.sampleLoss(), b.sampleLoss(), 0.0);
      // distributed sums differ only in summation order between partitionings
      for (String m : sampleSeed >= 0 ? new String[] {"topEigenvalue", "hessianTrace"} : new String[] {"topEigenvalue",
          "topEigenvaluePower", "hessianTrace", "hessianFrobenius", "directionalSharpness"}) {
        assertEquals(a.metric(m), b.metric(m), 1e-9 * Math.abs(a.metric(m)), m + " sampleSeed " + sampleSeed);
      }
      if (a.density() != null) assertEquals(a.density().firstMoment(), b.density().firstMoment(), 1e-9 * Math.abs(a.density().firstMoment()));
      assertEquals(a.hessianLoss(), b.hessianLoss(), 1e-12);
      one.unpersist();
      four.unpersist();
    }
  }

  @Test
  void referenceSampleIsTheFirstRowsByIdInBatchesOfM() {
    Dataset<Row> df = blobs(100, 2, 2, 3, false);
    JavaRDD<BlockedPartition> blocks = HessianMeasuresTest.blocks(df, 3);
    EvaluationSample s = EvaluationSample.collect(blocks, 40, 16, -1);
    assertEquals(40, s.numRows());
    assertEquals(3, s.batches().size());
    assertEquals(8, s.batches().get(2).numRows());
    long next = 0;
    for (SampleBatch b : s.batches()) for (long id : b.ids()) assertEquals(next++, id);
    EvaluationSample h = EvaluationSample.collect(blocks, 40, 16, 5);
    EvaluationSample h1 = EvaluationSample.collect(HessianMeasuresTest.blocks(df, 1), 40, 16, 5);
    for (int i = 0; i < 3; i++) assertArrayEquals(h.batches().get(i).ids(), h1.batches().get(i).ids());
    for (long id = 0; id < 100; id++) {
      boolean inSample = false;
      for (SampleBatch b : h.batches()) for (long x : b.ids()) inSample |= x == id;
      assertEquals(inSample, h.selection().contains(id));
    }
  }
}
