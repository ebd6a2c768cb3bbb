package io.github.sparksam.train;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;

/**
 * What an {@link UpdateRule} may use to save and restore its state for a checkpoint: a job over
 * every partition's {@link PartitionWorker} of this run (to gather state kept next to the cached
 * data), and broadcasts that live until the end of the fit (to hand restored state to the tasks).
 */
public interface RuleStateAccess {

  /** A function of one partition's worker, run inside a task. */
  interface PartitionFunction<T> extends Serializable {
    T apply(PartitionWorker worker);
  }

  /** Runs {@code f} on every partition of the training data; results in partition order. */
  <T> List<T> collectFromPartitions(PartitionFunction<T> f);

  /** Broadcasts {@code value}; destroyed by the trainer when the fit ends. */
  <T> Broadcast<T> broadcast(T value);
}
