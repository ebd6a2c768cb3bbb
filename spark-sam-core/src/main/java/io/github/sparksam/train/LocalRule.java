package io.github.sparksam.train;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.LossStats;
import java.io.Serializable;

/**
 * The task-side half of an update rule: what a task computes from its slice of a step's batch.
 * Plain training returns the gradient at the broadcast weights; per-partition SAM returns the
 * gradient at its locally perturbed weights; SAF adds its trajectory term. The result is always a
 * weighted sum over the slice's examples, so the loop can add partitions up and divide once.
 */
public interface LocalRule extends Serializable {

  /**
   * Adds the rule's update direction, summed over {@code batch} with example weights, to
   * {@code grad} (zeroed by the caller), and the examples' loss statistics at {@code params} to
   * {@code stats}. {@code params} must be left unchanged.
   */
  void direction(PartitionWorker worker, Buf params, LocalBatch batch, Buf grad, LossStats stats);
}
