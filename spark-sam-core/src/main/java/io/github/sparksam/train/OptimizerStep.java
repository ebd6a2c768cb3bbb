package io.github.sparksam.train;

import io.github.sparksam.nn.ParamLayout;
import io.github.sparksam.nn.WeightDecay;
import io.github.sparksam.optim.GradientClipping;
import io.github.sparksam.optim.Optimizer;
import io.github.sparksam.optim.OptimizerState;
import java.io.Serializable;

/**
 * From a mean update direction to new weights, identically on the driver (synchronous steps) and
 * in tasks (local steps): add the coupled L2 term, clip the global norm, check for non-finite
 * values, apply the base optimizer.
 */
final class OptimizerStep implements Serializable {
  private static final long serialVersionUID = 1L;

  private final Optimizer optimizer;
  private final double l2;
  private final double maxGradNorm;
  private final ParamLayout layout;
  private transient double[] mask;

  OptimizerStep(Optimizer optimizer, double l2, double maxGradNorm, ParamLayout layout) {
    this.optimizer = optimizer;
    this.l2 = l2;
    this.maxGradNorm = maxGradNorm;
    this.layout = layout;
  }

  Optimizer optimizer() { return optimizer; }

  /**
   * Updates {@code params} in place from {@code direction} (modified: L2 and clipping are applied
   * to it). Returns false, and changes nothing, when the direction has a NaN or infinite entry:
   * the caller must stop.
   */
  boolean apply(double[] params, double[] direction, double lr, OptimizerState state) {
    if (l2 > 0) {
      if (mask == null) mask = layout.weightMask();
      WeightDecay.addTo(params, direction, l2, mask);
    }
    boolean finite = maxGradNorm > 0 && Double.isFinite(maxGradNorm)
        ? Double.isFinite(GradientClipping.clipByGlobalNorm(direction, maxGradNorm))
        : GradientClipping.allFinite(direction);
    if (finite) optimizer.step(params, direction, lr, state);
    return finite;
  }

  /** What stops a step whose direction {@link #apply} refused. */
  static final String NON_FINITE_DIRECTION = "the gradient has a NaN or infinite entry";

  /**
   * Finishes a synchronous step (on the driver or in an all-reduce task): stops with a
   * {@link TrainingDivergedException} on a non-finite loss or gradient, else applies the update.
   */
  void applyChecked(double[] params, double[] meanDirection, io.github.sparksam.backend.LossStats stats,
                    StepContext ctx, OptimizerState state) {
    if (!Double.isFinite(stats.lossSum)) {
      throw new TrainingDivergedException(ctx.epoch(), ctx.step(), ctx.globalStep(), "the loss is " + stats.lossSum,
          TrainingDivergedException.learningRateHint(ctx.learningRate()));
    }
    if (!apply(params, meanDirection, ctx.learningRate(), state)) {
      throw new TrainingDivergedException(ctx.epoch(), ctx.step(), ctx.globalStep(), NON_FINITE_DIRECTION,
          TrainingDivergedException.learningRateHint(ctx.learningRate()));
    }
  }

  /** The L2 penalty at {@code params} (reported with the loss). */
  double penalty(double[] params) {
    if (l2 == 0) return 0;
    if (mask == null) mask = layout.weightMask();
    double s = 0;
    for (int i = 0; i < params.length; i++) s += mask[i] * params[i] * params[i];
    return 0.5 * l2 * s;
  }
}
