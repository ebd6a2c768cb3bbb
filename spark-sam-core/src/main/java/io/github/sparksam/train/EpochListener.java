package io.github.sparksam.train;

import io.github.sparksam.nn.Network;
import java.io.Serializable;

/**
 * Called on the driver after each epoch with the epoch's metrics and the current weights, outside
 * the epoch's timing: for evaluation on held-out data during training (benchmarks' time-to-accuracy,
 * sharpness over training), never for changing the training itself.
 */
@FunctionalInterface
public interface EpochListener extends Serializable {
  /** {@code params} is the trainer's live array: read it or copy it, do not modify it. */
  void onEpochEnd(EpochMetrics metrics, Network network, double[] params);
}
