package io.github.sparksam.train;

import java.io.Serializable;

/**
 * One epoch of training as the loop saw it: the mean loss and accuracy of the batches it trained
 * on (at the weights before each update), wall time, throughput, and the update rule's own metrics.
 */
public record EpochMetrics(int epoch, long steps, double loss, double accuracy, double seconds, double stepsPerSecond,
                           java.util.Map<String, Double> ruleMetrics) implements Serializable {

  public EpochMetrics {
    ruleMetrics = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(ruleMetrics));
  }

  /** Without rule metrics. */
  public EpochMetrics(int epoch, long steps, double loss, double accuracy, double seconds, double stepsPerSecond) {
    this(epoch, steps, loss, accuracy, seconds, stepsPerSecond, java.util.Map.of());
  }
}
