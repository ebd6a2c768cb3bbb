package io.github.sparksam.train;

import io.github.sparksam.optim.OptimizerState;

/** The trained weights, the optimizer's final state and the summary. */
public record TrainingResult(double[] params, OptimizerState optimizerState, TrainingSummary summary) {}
