package io.github.sparksam.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.testutil.SparkTestBase;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

class BlockifierTest extends SparkTestBase {

  @Test
  void idsAreTheInputOrderWhateverThePartitioning() {
    Dataset<Row> data = blobs(5000, 3, 2, 1, true);
    for (int parts : new int[] {1, 3}) {
      JavaRDD<BlockedPartition> blocked = Blockifier.blockify(data, new InputColumns("features", "label", "weight"),
          Precision.FLOAT64, parts, -1);
      List<BlockedPartition> ps = blocked.collect();
      assertEquals(parts, ps.size());
      TreeSet<Long> ids = new TreeSet<>();
      List<Row> rows = data.collectAsList();
      for (BlockedPartition p : ps) {
        for (int r = 0; r < p.numRows; r++) {
          long id = p.id(r);
          ids.add(id);
          DataBlock b = p.block(r);
          int row = BlockedPartition.rowInBlock(r);
          // the block row holds exactly input row `id`
          Row in = rows.get((int) id);
          assertEquals(in.getDouble(1), b.labels[row]);
          assertEquals(in.getDouble(2), b.weight(row));
          assertEquals(((Vector) in.get(0)).apply(2), b.features.get(row * 3 + 2));
        }
      }
      assertEquals(5000, ids.size());
      assertEquals(0L, ids.first());
      assertEquals(4999L, ids.last());
      // 5000 rows: more than one 4096-row block somewhere when on one partition
      if (parts == 1) assertEquals(2, ps.get(0).blocks.length);
    }
  }

  @Test
  void sparseInputTrainsTheSameModelAsDense() {
    List<Row> dense = new ArrayList<>(), sparse = new ArrayList<>();
    for (Row r : blobs(120, 6, 3, 5, false).collectAsList()) {
      double[] x = ((Vector) r.get(0)).toArray();
      for (int j = 3; j < 6; j++) x[j] = 0; // make it actually sparse
      dense.add(RowFactory.create(Vectors.dense(x), r.get(1), r.get(2)));
      sparse.add(RowFactory.create(Vectors.dense(x).toSparse(), r.get(1), r.get(2)));
    }
    SharpnessAwareClassifier est = new SharpnessAwareClassifier().setModelType("softmax").setPrecision("float64")
        .setBatchSize(16).setEpochs(2).setNumPartitions(2);
    double[] a = est.fit(spark.createDataFrame(dense, SCHEMA)).weights();
    double[] b = est.fit(spark.createDataFrame(sparse, SCHEMA)).weights();
    assertArrayEquals(a, b, 0.0);
  }
}
