package io.github.sparksam.train;

import java.io.Serializable;

/**
 * One epoch of training as the loop saw it: the mean loss and accuracy of the batches it trained
 * on (at the weights before each update), wall time, throughput, and the update rule's own metrics.
 * {@code evaluation} (#14) holds what was evaluated with the weights at the epoch's end: the
 * held-out rows ({@link #VALIDATION_LOSS}, {@link #VALIDATION_ACCURACY}) and, with label noise, the
 * flipped training rows ({@link #FLIPPED_NOISY_ACCURACY}, {@link #FLIPPED_CLEAN_ACCURACY},
 * {@link #FLIP_FRACTION}); empty when neither is configured.
 */
public record EpochMetrics(int epoch, long steps, double loss, double accuracy, double seconds, double stepsPerSecond,
                           java.util.Map<String, Double> ruleMetrics, java.util.Map<String, Double> evaluation)
    implements Serializable {
  /** Weighted mean loss on the validation rows (validationIndicatorCol true). */
  public static final String VALIDATION_LOSS = "validationLoss";
  public static final String VALIDATION_ACCURACY = "validationAccuracy";
  /** Accuracy on the flipped training rows against their noisy (trained-on) labels: memorization. */
  public static final String FLIPPED_NOISY_ACCURACY = "flippedNoisyLabelAccuracy";
  /** Accuracy on the flipped training rows against their clean labels. */
  public static final String FLIPPED_CLEAN_ACCURACY = "flippedCleanLabelAccuracy";
  /** Flipped training rows / training rows (the realised noise rate). */
  public static final String FLIP_FRACTION = "flipFraction";

  public EpochMetrics {
    ruleMetrics = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(ruleMetrics));
    evaluation = java.util.Collections.unmodifiableMap(evaluation == null ? new java.util.TreeMap<>()
        : new java.util.TreeMap<>(evaluation));   // null: read from a checkpoint written before #14
  }

  public EpochMetrics(int epoch, long steps, double loss, double accuracy, double seconds, double stepsPerSecond,
                      java.util.Map<String, Double> ruleMetrics) {
    this(epoch, steps, loss, accuracy, seconds, stepsPerSecond, ruleMetrics, java.util.Map.of());
  }

  /** The named evaluation metric, NaN when it was not computed. */
  public double evaluation(String name) { return evaluation.getOrDefault(name, Double.NaN); }

  /** Without rule metrics. */
  public EpochMetrics(int epoch, long steps, double loss, double accuracy, double seconds, double stepsPerSecond) {
    this(epoch, steps, loss, accuracy, seconds, stepsPerSecond, java.util.Map.of());
  }
}
