package io.github.sparksam.optim;

import java.io.Serializable;

/**
 * A first-order update rule on one flat parameter vector (the "base optimizer").
 *
 * <p>Implementations are small, stateless apart from their hyper-parameters, and keep all per-run
 * state in an {@link OptimizerState}, so that the state can be checkpointed, broadcast to tasks
 * (local steps) and averaged. The learning rate comes from a {@link LearningRateSchedule} per step.
 * Sharpness-aware rules (SAM, ASAM, SAF, MESA) wrap any implementation; they never subclass it.
 */
public interface Optimizer extends Serializable {

  /** Fresh, zeroed state for a parameter vector of {@code numParams} entries. */
  OptimizerState init(int numParams);

  /**
   * Applies one update in place: {@code params <- update(params, grad, lr)} and advances
   * {@code state.step}. {@code grad} is the gradient of the objective (data loss plus any coupled
   * L2 penalty) and is not modified.
   */
  void step(double[] params, double[] grad, double learningRate, OptimizerState state);
}
