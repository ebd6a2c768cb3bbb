package io.github.sparksam.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.testutil.SparkTestBase;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** Which training labels flip depends on the example id and seed only, at the configured rate, to the right classes. */
class LabelNoiseTest extends SparkTestBase {

  @Test
  void symmetricFlipsAtTheRateToAnotherClassUniformly() {
    LabelNoise n = new LabelNoise("symmetric", 0.4, 3, 10, "");
    int flips = 0, rows = 20_000;
    int[] to = new int[10];
    for (long id = 0; id < rows; id++) {
      int y = (int) (id % 10);
      int z = (int) n.noisyLabel(id, y);
      if (z != y) {
        flips++;
        to[(z - y + 10) % 10]++;
      }
    }
    assertEquals(0.4, flips / (double) rows, 0.015);
    assertEquals(0, to[0]);
    for (int k = 1; k < 10; k++) assertEquals(flips / 9.0, to[k], flips / 9.0 * 0.15, "offset " + k);
  }

  @Test
  void asymmetricFollowsTheMap() {
    LabelNoise fm = new LabelNoise("asymmetric", 0.5, 1, 10, LabelNoise.FASHION_MNIST_MAP);
    int[] partner = {6, 1, 4, 3, 2, 7, 0, 5, 8, 9};
    int flips = 0;
    for (long id = 0; id < 5000; id++) {
      int y = (int) (id % 10);
      int z = (int) fm.noisyLabel(id, y);
      assertTrue(z == y || z == partner[y], y + " -> " + z);
      if (z != y) flips++;
    }
    assertEquals(0.5 * 0.6, flips / 5000.0, 0.03);   // 6 of the 10 classes have a partner
    LabelNoise cyc = new LabelNoise("asymmetric", 0.3, 1, 3, "");
    for (long id = 0; id < 1000; id++) {
      int y = (int) (id % 3);
      int z = (int) cyc.noisyLabel(id, y);
      assertTrue(z == y || z == (y + 1) % 3);
    }
    assertThrows(IllegalArgumentException.class, () -> LabelNoise.partnerMap("0:10", 10));
    assertThrows(IllegalArgumentException.class, () -> LabelNoise.partnerMap("0-1", 10));
    assertThrows(IllegalArgumentException.class, () -> new LabelNoise("symmetric", 1.0, 1, 10, ""));
    assertThrows(IllegalArgumentException.class, () -> new LabelNoise("uniform", 0.1, 1, 10, ""));
  }

  @Test
  void theSameRowsFlipWithOneAndFourPartitions() {
    Dataset<Row> data = blobs(3000, 3, 5, 5, false);
    TreeMap<Long, double[]> one = flips(data, 1), four = flips(data, 4);
    assertEquals(3000, one.size());
    assertEquals(one.keySet(), four.keySet());
    long flipped = 0;
    for (long id : one.keySet()) {
      assertEquals(one.get(id)[0], four.get(id)[0], "noisy label of example " + id);
      assertEquals(one.get(id)[1], four.get(id)[1], "clean label of example " + id);
      if (one.get(id)[0] != one.get(id)[1]) flipped++;
      assertEquals(id % 5, one.get(id)[1]);    // the block keeps the clean label (blobs: label = row % k)
    }
    assertEquals(0.25, flipped / 3000.0, 0.03);
    assertNotEquals(0, flipped);
  }

  private TreeMap<Long, double[]> flips(Dataset<Row> data, int parts) {
    JavaRDD<BlockedPartition> b = Blockifier.blockify(data, new InputColumns("features", "label", null),
        Precision.FLOAT64, parts, -1);
    List<double[]> rows = new LabelNoise("symmetric", 0.25, 42, 5, "").apply(b).flatMap(p -> {
      List<double[]> out = new ArrayList<>();
      for (DataBlock blk : p.blocks) {
        for (int r = 0; r < blk.numRows; r++) out.add(new double[] {blk.ids[r], blk.labels[r], blk.cleanLabels[r]});
      }
      return out.iterator();
    }).collect();
    TreeMap<Long, double[]> m = new TreeMap<>();
    for (double[] r : rows) m.put((long) r[0], new double[] {r[1], r[2]});
    return m;
  }
}
