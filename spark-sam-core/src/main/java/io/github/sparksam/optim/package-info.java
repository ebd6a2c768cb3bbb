/**
 * Base optimizers, learning-rate schedules and gradient clipping for the trainer, on flat {@code
 * double[]} parameter vectors.
 *
 * <p>An {@link io.github.sparksam.optim.Optimizer} is a stateless update rule ({@link
 * io.github.sparksam.optim.Sgd} with optional heavy-ball or Nesterov momentum, {@link
 * io.github.sparksam.optim.Adam}, {@link io.github.sparksam.optim.AdamW}); everything that changes
 * during training lives in an {@link io.github.sparksam.optim.OptimizerState} (step count and named
 * per-parameter slots), allocated once by {@code init}, so it can be checkpointed, broadcast and
 * averaged. Updates follow PyTorch's conventions so hyper-parameters from the SAM, ASAM, SAF and
 * MESA papers transfer unchanged. Sharpness-aware rules wrap these optimizers rather than extend
 * them.
 *
 * <p>Weight decay: coupled L2 is added to the gradient by the trainer for {@code Sgd} and {@code
 * Adam}; {@code AdamW} applies decoupled decay itself at the un-perturbed weights, with a mask that
 * excludes biases.
 *
 * <p>{@link io.github.sparksam.optim.LearningRateSchedule} implementations ({@link
 * io.github.sparksam.optim.ConstantRate}, {@link io.github.sparksam.optim.StepDecay}, {@link
 * io.github.sparksam.optim.CosineDecay}, {@link io.github.sparksam.optim.LinearWarmup}) map the
 * 0-based update index to a rate. {@link io.github.sparksam.optim.GradientClipping} clips by
 * global norm. {@link io.github.sparksam.optim.Optimizers} builds all of these from names.
 *
 * <p>{@link io.github.sparksam.optim.Lbfgs} is the exception to the step-rule shape: full-batch
 * L-BFGS through Breeze, which owns its iteration and line search and calls back for the objective
 * (the estimator's {@code optimizer=lbfgs}, driven by {@code train.FullBatchLbfgs}).
 */
package io.github.sparksam.optim;
