package io.github.sparksam.sam;

import java.io.Serializable;

/**
 * Everything that selects and configures a sharpness-aware rule (the estimator's rule params).
 *
 * @param rule             none | sam | asam | saf | mesa
 * @param rho              perturbation radius (SAM ~0.05; ASAM needs ~10x larger, 0.5-2)
 * @param perturbation     partition (m-SAM: each task perturbs on its own micro-batches; one Spark
 *                         job per step) | global (exact large-batch SAM: two jobs per step)
 * @param microBatchSize   m: examples per perturbation in partition mode (0: the task's whole slice)
 * @param adaptiveEta      ASAM's eta in T_w = |w| + eta
 * @param adaptiveScope    weights (T_w on weights, identity on biases; the official ASAM) | all
 * @param weightDecayMode  decoupled (the ascent uses the loss gradient only; decay at w; default) |
 *                         loss (L2 inside the loss: enters the ascent and is evaluated at w + eps)
 * @param safLambda        SAF's trajectory-loss coefficient
 * @param mesaLambda       MESA's trajectory-loss coefficient
 * @param temperature      tau of the trajectory loss's softmax (the term is scaled by tau^2)
 * @param safLag           E~: SAF compares with outputs recorded this many epochs earlier
 * @param klStartEpoch     the trajectory term is on for epochs e (0-based) with start < e < end;
 *                         -1: 30% of the epochs, at least safLag - 1
 * @param klEndEpoch       -1: never switched off
 * @param emaDecay         MESA's teacher decay per optimizer step
 * @param rhoSchedule      SAM/ASAM: constant | learningRate (rho_t = rho * lr_t / lr_0)
 * @param clipping         SAM/ASAM: which gradient maxGradNorm clips: descent (g2, the update; the
 *                         only one for the other rules) | ascent (g1, before eps) | both
 */
public record RuleSettings(String rule, double rho, String perturbation, int microBatchSize, double adaptiveEta,
                           String adaptiveScope, String weightDecayMode, double safLambda, double mesaLambda,
                           double temperature, int safLag, int klStartEpoch, int klEndEpoch, double emaDecay,
                           String rhoSchedule, String clipping)
    implements Serializable {

  public static final String[] RHO_SCHEDULES = {"constant", "learningRate"};
  public static final String[] CLIPPINGS = {"descent", "ascent", "both"};

  /** Constant rho, clipping (if any) of the descent gradient. */
  public RuleSettings(String rule, double rho, String perturbation, int microBatchSize, double adaptiveEta,
                      String adaptiveScope, String weightDecayMode, double safLambda, double mesaLambda,
                      double temperature, int safLag, int klStartEpoch, int klEndEpoch, double emaDecay) {
    this(rule, rho, perturbation, microBatchSize, adaptiveEta, adaptiveScope, weightDecayMode, safLambda, mesaLambda,
        temperature, safLag, klStartEpoch, klEndEpoch, emaDecay, "constant", "descent");
  }

  /** Whether maxGradNorm clips the descent gradient (the trainer's clipping). */
  public boolean clipsDescent() { return !"ascent".equalsIgnoreCase(clipping); }

  /** Whether maxGradNorm clips the ascent gradient (SAM/ASAM, before eps). */
  public boolean clipsAscent() { return "ascent".equalsIgnoreCase(clipping) || "both".equalsIgnoreCase(clipping); }

  /** These settings with another rho schedule and clipping position. */
  public RuleSettings withRhoScheduleAndClipping(String schedule, String clip) {
    return new RuleSettings(rule, rho, perturbation, microBatchSize, adaptiveEta, adaptiveScope, weightDecayMode,
        safLambda, mesaLambda, temperature, safLag, klStartEpoch, klEndEpoch, emaDecay, schedule, clip);
  }

  public static final String[] RULES = {"none", "sam", "asam", "saf", "mesa"};

  /** Plain training with the reference defaults for everything else. */
  public static RuleSettings none() {
    return new RuleSettings("none", 0.05, "partition", 0, 0.01, "weights", "decoupled", 0.3, 0.8, 5.0, 2, -1, -1, 0.999);
  }

  public RuleSettings withRule(String r) {
    return new RuleSettings(r, rho, perturbation, microBatchSize, adaptiveEta, adaptiveScope, weightDecayMode, safLambda,
        mesaLambda, temperature, safLag, klStartEpoch, klEndEpoch, emaDecay, rhoSchedule, clipping);
  }

  /** The first epoch (0-based, exclusive) after which the trajectory term is on, for a run of {@code epochs}. */
  public int effectiveKlStart(int epochs) {
    if (klStartEpoch >= 0) return klStartEpoch;
    return Math.max((int) Math.floor(0.3 * epochs), Math.max(0, safLag - 1));
  }

  /** The epoch (exclusive) at which the trajectory term switches off. */
  public int effectiveKlEnd() {
    return klEndEpoch < 0 ? Integer.MAX_VALUE : klEndEpoch;
  }
}
