package io.github.sparksam.optim;

import java.io.Serializable;

/** The learning rate as a function of the 0-based update index and the total number of updates. */
public interface LearningRateSchedule extends Serializable {
  double rate(long step, long totalSteps);
}
