package io.github.sparksam.train;

import io.github.sparksam.data.BlockedPartition;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.ContextCleaner;
import org.apache.spark.Partitioner;
import org.apache.spark.ShuffleDependency;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import scala.Tuple2;

/**
 * {@code aggregation = tree}: one Spark job per pass whose partition sums are added in a fixed
 * tree over the partition indices. Level 0 is the partitions' sums keyed by partition index; each
 * level sends key {@code k} to group {@code k / fanout} (a shuffle) and adds each group's sums in
 * key order; once at most {@code fanout} sums are left the driver collects and adds them in key
 * order. The order of every addition depends only on the indices, never on which task finishes
 * first, so reruns are bit-identical; the driver receives at most {@code fanout} sums (d values
 * each) per pass instead of one per partition. With {@code P <= fanout} there is no shuffle and
 * the result is {@code collect}'s bit for bit.
 *
 * <p>Each level's shuffle files are removed right after the pass (not left to the context
 * cleaner's garbage-collection-driven sweep, which would let a long fit fill the local disks).
 */
final class TreeAggregation extends DriverSteps {
  /** Sums added per tree node, and the most the driver receives per pass. */
  static final int FANOUT = 8;
  /** Above this many bytes of partition sums per pass to the driver, {@code auto} prefers the tree. */
  static final long DRIVER_BYTES_THRESHOLD = 8L << 20;

  private final int fanout;

  TreeAggregation(DistributedTrainer trainer, int fanout) {
    super(trainer);
    if (fanout < 2) throw new IllegalArgumentException("the tree's fan-in must be >= 2, got " + fanout);
    this.fanout = fanout;
  }

  @Override public Aggregation kind() { return Aggregation.TREE; }

  /**
   * Whether {@code auto} (where allReduce cannot run) should add through the tree rather than at the
   * driver: when there are more partitions than the tree's fan-in and collecting would bring
   * {@link #DRIVER_BYTES_THRESHOLD} or more to the driver per pass (P x d x 8 bytes). Below that a
   * shuffle stage per pass costs more than it saves.
   */
  static boolean preferredOver(int partitions, long numParams) {
    return partitions > FANOUT && partitions * numParams * 8 >= DRIVER_BYTES_THRESHOLD;
  }

  @Override protected PartialSum sumOverPartitions(Broadcast<PassPayload> bc, DistributedTrainer.Setup setup) {
    int d = trainer.net.numParams();
    JavaRDD<Tuple2<Integer, PartialSum>> leaves = trainer.data.mapPartitionsWithIndex(new Leaf(setup, bc), true);
    JavaPairRDD<Integer, PartialSum> level = JavaPairRDD.fromJavaRDD(leaves);
    List<Integer> shuffles = new ArrayList<>();
    int count = trainer.data.getNumPartitions();
    try {
      while (count > fanout) {
        int groups = (count + fanout - 1) / fanout;
        JavaPairRDD<Integer, PartialSum> shuffled = level.partitionBy(new IndexGroups(groups, fanout));
        shuffles.add(((ShuffleDependency<?, ?, ?>) shuffled.rdd().dependencies().head()).shuffleId());
        level = JavaPairRDD.fromJavaRDD(shuffled.mapPartitionsWithIndex(new AddGroup(d), true));
        count = groups;
      }
      return inKeyOrder(level.collect(), d);
    } finally {
      scala.Option<ContextCleaner> cleaner = trainer.data.context().cleaner();
      if (cleaner.isDefined()) for (int id : shuffles) cleaner.get().doCleanupShuffle(id, false);
    }
  }

  private static PartialSum inKeyOrder(List<Tuple2<Integer, PartialSum>> sums, int numParams) {
    List<Tuple2<Integer, PartialSum>> sorted = new ArrayList<>(sums);
    sorted.sort(Comparator.comparing(Tuple2::_1));
    List<PartialSum> values = new ArrayList<>(sorted.size());
    for (Tuple2<Integer, PartialSum> t : sorted) values.add(t._2());
    return PartialSum.add(values, numParams);
  }

  /** Level 0: the partition's sum, keyed by its index. */
  private record Leaf(DistributedTrainer.Setup setup, Broadcast<PassPayload> bc)
      implements Function2<Integer, Iterator<BlockedPartition>, Iterator<Tuple2<Integer, PartialSum>>> {
    @Override public Iterator<Tuple2<Integer, PartialSum>> call(Integer index, Iterator<BlockedPartition> it) {
      PartialSum s = partialSum(setup, it.next(), index, bc.value());
      return Collections.singletonList(new Tuple2<>(index, s)).iterator();
    }
  }

  /** One tree node: the group's sums added in key order, keyed by the group's index. */
  private record AddGroup(int numParams)
      implements Function2<Integer, Iterator<Tuple2<Integer, PartialSum>>, Iterator<Tuple2<Integer, PartialSum>>> {
    @Override public Iterator<Tuple2<Integer, PartialSum>> call(Integer group, Iterator<Tuple2<Integer, PartialSum>> it) {
      List<Tuple2<Integer, PartialSum>> all = new ArrayList<>();
      it.forEachRemaining(all::add);
      if (all.isEmpty()) throw new IllegalStateException("tree node " + group + " received no partial sums");
      return Collections.singletonList(new Tuple2<>(group, inKeyOrder(all, numParams))).iterator();
    }
  }

  /** Key {@code k} (an index at one tree level) to group {@code k / fanout}. */
  static final class IndexGroups extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int groups;
    private final int fanout;

    IndexGroups(int groups, int fanout) {
      this.groups = groups;
      this.fanout = fanout;
    }

    @Override public int numPartitions() { return groups; }

    @Override public int getPartition(Object key) { return (Integer) key / fanout; }

    @Override public boolean equals(Object o) {
      return o instanceof IndexGroups g && g.groups == groups && g.fanout == fanout;
    }

    @Override public int hashCode() { return 31 * groups + fanout; }
  }
}
