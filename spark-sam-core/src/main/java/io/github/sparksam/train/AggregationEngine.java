package io.github.sparksam.train;

/**
 * Runs a fit's synchronous steps with one way of adding the partitions' results
 * ({@link Aggregation}): {@link CollectAggregation}, {@link TreeAggregation},
 * {@link AllReduceAggregation}, or {@link LocalStepsAggregation} for {@code localSteps > 1}.
 * {@link DistributedTrainer} keeps the loop (epochs, metrics, checkpoints) and calls
 * {@link #runSteps} until an epoch is done; the engine reads and advances the trainer's state.
 */
interface AggregationEngine extends AutoCloseable {

  /** What the summary reports. */
  Aggregation kind();

  /**
   * Runs steps from {@code firstStep} (0-based, {@code < stepsPerEpoch}) of {@code epoch} and
   * returns how many it ran. The loop may write a requested checkpoint between two calls, so an
   * engine that runs a Spark job per step runs one step; {@code allReduce} runs the rest of the epoch.
   */
  int runSteps(int epoch, int firstStep, long globalStep);

  /** The token of the fit's in-JVM all-reduce channels, or null when the engine opens none. */
  default String channelToken() { return null; }

  /** Releases what the engine opened for the fit (e.g. the all-reduce rendezvous). */
  @Override default void close() {}
}
