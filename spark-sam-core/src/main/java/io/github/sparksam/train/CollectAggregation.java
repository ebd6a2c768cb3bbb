package io.github.sparksam.train;

import io.github.sparksam.data.BlockedPartition;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;

/**
 * {@code aggregation = collect}: one Spark job per pass, every partition's sum goes to the driver,
 * which adds them in partition order (bit-identical across runs and equal to {@code allReduce},
 * unlike Spark's {@code treeAggregate}, which merges in completion order). The driver receives
 * P x d values per pass: fine for a few partitions, see {@link TreeAggregation} for many.
 */
final class CollectAggregation extends DriverSteps {

  CollectAggregation(DistributedTrainer trainer) { super(trainer); }

  @Override public Aggregation kind() { return Aggregation.COLLECT; }

  @Override protected PartialSum sumOverPartitions(Broadcast<PassPayload> bc, DistributedTrainer.Setup setup) {
    List<PartialSum> parts = onEveryPartition(trainer.data, (p, i) -> partialSum(setup, p, i, bc.value()));
    return PartialSum.add(parts, trainer.net.numParams());      // partition order
  }

  /** A function of one cached partition and its index, run in its task. */
  interface PartitionTask<T> extends Serializable {
    T run(BlockedPartition p, int index);
  }

  /**
   * One job: {@code task} on every partition, results in partition order. Submitted with
   * {@code SparkContext.runJob} and a named function class: for a lambda (ours, or the one inside
   * {@code collect()}) Spark's closure cleaner reads and parses the declaring class file on every
   * job, milliseconds per training step on the driver.
   */
  @SuppressWarnings("unchecked")
  static <T> List<T> onEveryPartition(JavaRDD<BlockedPartition> data, PartitionTask<T> task) {
    List<Object> all = new ArrayList<>();
    for (int i = 0; i < data.getNumPartitions(); i++) all.add(i);
    @SuppressWarnings("rawtypes")
    scala.collection.Seq partitions = scala.collection.JavaConverters.asScalaBuffer(all);
    Object out = data.context().runJob(data.rdd(), new TaskFunction<>(task), partitions,
        scala.reflect.ClassTag$.MODULE$.AnyRef());
    return (List<T>) java.util.Arrays.asList((Object[]) out);
  }

  private static final class TaskFunction<T>
      extends scala.runtime.AbstractFunction2<org.apache.spark.TaskContext, scala.collection.Iterator<BlockedPartition>, Object>
      implements Serializable {
    private static final long serialVersionUID = 1L;
    private final PartitionTask<T> task;

    TaskFunction(PartitionTask<T> task) { this.task = task; }

    @Override public Object apply(org.apache.spark.TaskContext ctx, scala.collection.Iterator<BlockedPartition> it) {
      return task.run(it.next(), ctx.partitionId());
    }
  }
}
