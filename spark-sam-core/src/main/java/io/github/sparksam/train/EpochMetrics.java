package io.github.sparksam.train;

import java.io.Serializable;

/**
 * One epoch of training as the loop saw it: the mean loss and accuracy of the batches it trained
 * on (at the weights before each update), wall time and throughput.
 */
public record EpochMetrics(int epoch, long steps, double loss, double accuracy, double seconds, double stepsPerSecond)
    implements Serializable {}
