package io.github.sparksam.data;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.Precision;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * Turns a DataFrame of (features, label[, weight]) into cached {@link BlockedPartition}s, once per
 * fit, validating every row on the way (the error names the column, the example and the problem).
 *
 * <p>Each row gets a stable example id: its index in the input's order ({@code zipWithIndex}),
 * assigned <em>before</em> any repartitioning, so the id, and with it batch membership, does not
 * depend on how the data is partitioned. Sparse vectors are densified into the blocks.
 */
public final class Blockifier {
  private Blockifier() {}

  /**
   * @param numPartitions target partitions (0: keep the input's partitioning)
   * @param numClasses    when known (label metadata), labels must be below it; else -1
   */
  public static JavaRDD<BlockedPartition> blockify(Dataset<Row> data, InputColumns cols, Precision precision,
                                                  int numPartitions, int numClasses) {
    return blockify(data, cols, precision, numPartitions, numClasses, false);
  }

  /**
   * @param forBarrierStage the blocks will feed a barrier stage ({@code aggregation=allReduce}). Spark
   *     refuses a barrier stage whose narrow lineage changes the partition count (an input after
   *     {@code coalesce}, {@code union}, {@code limit}), so such an input goes through one shuffle
   *     into as many partitions, rows sorted by example id in each (deterministic order).
   */
  public static JavaRDD<BlockedPartition> blockify(Dataset<Row> data, InputColumns cols, Precision precision,
                                                  int numPartitions, int numClasses, boolean forBarrierStage) {
    InputColumns.FeatureType ft = cols.validate(data.schema(), true);
    Dataset<Row> slim = select(data, cols);
    JavaPairRDD<Long, Row> withIds = slim.toJavaRDD().zipWithIndex().mapToPair(t -> new Tuple2<>(t._2(), t._1()));
    if (numPartitions > 0 && numPartitions != withIds.getNumPartitions()) {
      withIds = withIds.partitionBy(new HashPartitioner(numPartitions));
    } else if (forBarrierStage && !keepsPartitionCountWithinStage(withIds.rdd())) {
      withIds = withIds.repartitionAndSortWithinPartitions(new HashPartitioner(withIds.getNumPartitions()));
    }
    RowChecker checker = new RowChecker(cols, ft, numClasses);
    return withIds.mapPartitionsWithIndex((idx, it) -> {
      BlockedPartition p = build(idx, it, checker, precision);
      return Collections.singletonList(p).iterator();
    }, true);
  }

  /**
   * Whether every RDD that {@code rdd} reaches through narrow dependencies (what runs in its stage)
   * has its partition count and none prunes partitions: the condition of Spark's barrier-stage check
   * ({@code DAGScheduler.checkBarrierStageWithRDDChainPattern}).
   */
  static boolean keepsPartitionCountWithinStage(org.apache.spark.rdd.RDD<?> rdd) {
    int n = rdd.getNumPartitions();
    java.util.ArrayDeque<org.apache.spark.rdd.RDD<?>> todo = new java.util.ArrayDeque<>(List.of(rdd));
    java.util.Set<Integer> seen = new java.util.HashSet<>();
    while (!todo.isEmpty()) {
      org.apache.spark.rdd.RDD<?> r = todo.pop();
      if (!seen.add(r.id())) continue;
      if (r.getNumPartitions() != n || r instanceof org.apache.spark.rdd.PartitionPruningRDD) return false;
      for (org.apache.spark.Dependency<?> d : scala.collection.JavaConverters.seqAsJavaList(r.dependencies())) {
        if (!(d instanceof org.apache.spark.ShuffleDependency)) todo.push(d.rdd());
      }
    }
    return true;
  }

  /**
   * The columnar part of {@link #blockify}: (features, label as double, weight as double). Only
   * projections and casts, so with array features RAPIDS runs it, and everything before it, on the
   * GPU; the row-wise blocking after it is JVM code.
   */
  public static Dataset<Row> select(Dataset<Row> data, InputColumns cols) {
    cols.validate(data.schema(), true);
    Column weight = cols.hasWeight() ? col(cols.weight()).cast("double") : lit(1.0);
    return data.select(col(cols.features()), col(cols.label()).cast("double"), weight);
  }

  private static BlockedPartition build(int index, Iterator<Tuple2<Long, Row>> rows, RowChecker checker,
                                        Precision precision) {
    List<DataBlock> blocks = new ArrayList<>();
    int d = -1;
    double maxLabel = -1, weightSum = 0;
    Buf feats = null;
    double[] labels = null, weights = null;
    long[] ids = null;
    int n = 0;
    boolean unitWeights = true;
    double[] tmp = null;
    while (rows.hasNext()) {
      Tuple2<Long, Row> t = rows.next();
      long id = t._1();
      Row r = t._2();
      if (d < 0) {
        d = checker.numFeatures(r, id);
        tmp = new double[d];
      }
      checker.features(r, id, d, tmp);
      double y = checker.label(r, id);
      double w = checker.weight(r, id);
      if (feats == null) {
        feats = Buf.allocate(precision, d * DataBlock.MAX_ROWS);
        labels = new double[DataBlock.MAX_ROWS];
        weights = new double[DataBlock.MAX_ROWS];
        ids = new long[DataBlock.MAX_ROWS];
        n = 0;
        unitWeights = true;
      }
      feats.setFrom(tmp, 0, n * d, d);
      labels[n] = y;
      weights[n] = w;
      ids[n] = id;
      unitWeights &= w == 1.0;
      maxLabel = Math.max(maxLabel, y);
      weightSum += w;
      if (++n == DataBlock.MAX_ROWS) {
        blocks.add(new DataBlock(n, d, feats, labels, unitWeights ? null : weights, ids));
        feats = null;
      }
    }
    if (feats != null && n > 0) {
      Buf exact = Buf.allocate(precision, n * d);
      for (int i = 0; i < n * d; i++) exact.set(i, feats.get(i));
      blocks.add(new DataBlock(n, d, exact, java.util.Arrays.copyOf(labels, n),
          unitWeights ? null : java.util.Arrays.copyOf(weights, n), java.util.Arrays.copyOf(ids, n)));
    }
    return new BlockedPartition(index, blocks.toArray(new DataBlock[0]), Math.max(d, 0), maxLabel, weightSum);
  }

  /** Per-row validation with messages that name the column, the example id and the value. */
  static final class RowChecker implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final InputColumns cols;
    private final InputColumns.FeatureType type;
    private final int numClasses;

    RowChecker(InputColumns cols, InputColumns.FeatureType type, int numClasses) {
      this.cols = cols;
      this.type = type;
      this.numClasses = numClasses;
    }

    int numFeatures(Row r, long id) {
      if (r.isNullAt(0)) throw bad("features", cols.features(), id, "is null");
      return type == InputColumns.FeatureType.VECTOR ? ((Vector) r.get(0)).size() : r.getList(0).size();
    }

    void features(Row r, long id, int d, double[] out) {
      if (r.isNullAt(0)) throw bad("features", cols.features(), id, "is null");
      if (type == InputColumns.FeatureType.VECTOR) {
        Vector v = (Vector) r.get(0);
        if (v.size() != d) throw sizeMismatch(id, v.size(), d);
        java.util.Arrays.fill(out, 0.0);
        v.foreachActive((i, x) -> {
          out[(Integer) i] = (Double) x;
          return scala.runtime.BoxedUnit.UNIT;
        });
      } else {
        List<Object> a = r.getList(0);
        if (a.size() != d) throw sizeMismatch(id, a.size(), d);
        for (int i = 0; i < d; i++) {
          Object x = a.get(i);
          if (x == null) throw bad("features", cols.features(), id, "has a null element at index " + i);
          out[i] = ((Number) x).doubleValue();
        }
      }
      for (int i = 0; i < d; i++) {
        if (!Double.isFinite(out[i])) {
          throw bad("features", cols.features(), id, "has a non-finite value (" + out[i] + ") at index " + i);
        }
      }
    }

    double label(Row r, long id) {
      if (r.isNullAt(1)) throw bad("label", cols.label(), id, "is null");
      double y = r.getDouble(1);
      if (!(y >= 0) || y != Math.rint(y) || Double.isInfinite(y)) {
        throw bad("label", cols.label(), id, "must be a class index 0, 1, 2, ... but was " + y);
      }
      if (numClasses > 0 && y >= numClasses) {
        throw bad("label", cols.label(), id, "is " + y + " but the label metadata declares " + numClasses + " classes");
      }
      return y;
    }

    double weight(Row r, long id) {
      String name = cols.hasWeight() ? cols.weight() : "weight";
      if (r.isNullAt(2)) throw bad("weight", name, id, "is null");
      double w = r.getDouble(2);
      if (!(w >= 0) || Double.isInfinite(w)) throw bad("weight", name, id, "must be finite and >= 0 but was " + w);
      return w;
    }

    private IllegalArgumentException sizeMismatch(long id, int got, int expected) {
      return bad("features", cols.features(), id, "has " + got + " features but earlier rows have " + expected
          + " (all rows must have the same feature size)");
    }

    private static IllegalArgumentException bad(String role, String column, long id, String problem) {
      return new IllegalArgumentException(role + " column '" + column + "' in example " + id
          + " (row " + id + " of the input) " + problem);
    }
  }
}
