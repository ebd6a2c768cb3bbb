package io.github.sparksam.train;

import io.github.sparksam.backend.Precision;
import java.io.Serializable;

/**
 * The loop's own settings (what the trainer needs besides the model, rule and optimizer).
 *
 * @param batchSize      global batch size: examples per synchronous step across all partitions
 * @param epochs         passes over the data
 * @param seed           drives the per-epoch shuffle (and, upstream, the initial weights)
 * @param localSteps     K: optimizer steps each partition takes on its own slices between
 *                       synchronizations, after which the partitions' models are averaged;
 *                       1 is plain synchronous data-parallel training
 * @param precision      element type of the blocks and the task arithmetic
 * @param labelSmoothing epsilon of the smoothed cross-entropy targets
 * @param l2             coupled L2 coefficient (0 for AdamW, which decays weights itself)
 * @param maxGradNorm    clip the gradient's global L2 norm to this (0 or infinity: off)
 * @param chunkRows      rows per forward/backward call inside a task (bounds task memory)
 */
public record TrainingConfig(int batchSize, int epochs, long seed, int localSteps, Precision precision,
                             double labelSmoothing, double l2, double maxGradNorm, int chunkRows)
    implements Serializable {

  public TrainingConfig {
    if (batchSize < 1) throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    if (epochs < 1) throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
    if (localSteps < 1) throw new IllegalArgumentException("localSteps must be >= 1, got " + localSteps);
    if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
      throw new IllegalArgumentException("labelSmoothing must be in [0, 1), got " + labelSmoothing);
    }
    if (!(l2 >= 0) || Double.isInfinite(l2)) throw new IllegalArgumentException("weight decay must be finite and >= 0, got " + l2);
    if (!(maxGradNorm >= 0)) throw new IllegalArgumentException("maxGradNorm must be >= 0, got " + maxGradNorm);
    if (chunkRows < 1) throw new IllegalArgumentException("chunkRows must be >= 1, got " + chunkRows);
  }
}
