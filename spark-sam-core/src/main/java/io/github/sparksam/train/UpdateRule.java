package io.github.sparksam.train;

import java.io.Serializable;

/**
 * The driver-side half of an update rule: how one synchronous step uses the cluster. The default
 * is one distributed pass of {@link #localRule()} followed by the base optimizer; rules that need
 * several passes per step (exact large-batch SAM: ascent gradient, then the gradient at the
 * perturbed point) override {@link #step}. The training loop only calls these two methods, so it
 * does not know which rule it runs.
 */
public interface UpdateRule extends Serializable {

  /** What each task computes; also what local steps ({@code localSteps > 1}) run inside tasks. */
  LocalRule localRule();

  /** One synchronous step. */
  default void step(StepContext ctx) {
    StepContext.Pass pass = ctx.pass(localRule(), ctx.params());
    ctx.applyUpdate(pass.meanDirectionInPlace(), pass.stats());    // the sum is not needed afterwards
  }

  /** Whether the rule can run inside tasks between synchronizations (local steps). */
  default boolean supportsLocalSteps() { return true; }

  /**
   * The rule's own metrics for one epoch (e.g. mean perturbation norm, trajectory-loss value, SAF
   * record coverage), from the named sums its tasks added to the epoch's {@code LossStats}.
   */
  default java.util.Map<String, Double> epochMetrics(io.github.sparksam.backend.LossStats epochStats) {
    return java.util.Map.of();
  }

  /**
   * The rule's state for a checkpoint ({@link Checkpoint}): everything besides the weights and the
   * optimizer state that the rest of the run depends on (e.g. MESA's teacher, SAF's per-example
   * records). Called on the driver between steps; may run jobs through {@code access}. Java
   * serialization is used to store it. Default: stateless ({@code null}).
   */
  default Serializable checkpointState(RuleStateAccess access) { return null; }

  /**
   * Restores what {@link #checkpointState} returned, before the first step of a resumed run (on a
   * fresh rule object built from the same settings). The default accepts only {@code null}.
   */
  default void restoreState(Serializable state, RuleStateAccess access) {
    if (state != null) {
      throw new IllegalStateException("rule " + name() + " keeps no state but the checkpoint holds "
          + state.getClass().getName());
    }
  }

  /** Short name for logs and job descriptions. */
  String name();
}
