package io.github.sparksam.sam;

import io.github.sparksam.nn.Network;
import io.github.sparksam.train.StandardTraining;
import io.github.sparksam.train.UpdateRule;

/** Builds the {@link UpdateRule} that {@link RuleSettings} select. */
public final class Rules {
  private Rules() {}

  /**
   * @param epochs    the run's epochs (SAF/MESA's trajectory-term window)
   * @param coupledL2 the coupled L2 coefficient the trainer applies at w (0 for AdamW); SAM's
   *                  {@code weightDecayMode=loss} also puts it into the ascent
   */
  public static UpdateRule create(RuleSettings s, Network net, int epochs, double coupledL2) {
    return create(s, net, epochs, coupledL2, Double.NaN, 0.0);
  }

  /**
   * As {@link #create(RuleSettings, Network, int, double)}, with what SAM/ASAM's rho schedule and
   * ascent clipping need.
   *
   * @param baseLearningRate lr_0 of {@code rhoSchedule=learningRate}
   * @param maxGradNorm      the clipping norm; SAM/ASAM clip the ascent gradient to it when
   *                         {@code clipping} is ascent or both (the descent gradient is the trainer's)
   */
  public static UpdateRule create(RuleSettings s, Network net, int epochs, double coupledL2, double baseLearningRate,
                                  double maxGradNorm) {
    boolean samFamily = s.rule().equals("sam") || s.rule().equals("asam");
    SharpnessAwareMinimization.RhoSchedule rs = SharpnessAwareMinimization.RhoSchedule.parse(s.rhoSchedule());
    if (!java.util.Arrays.asList(RuleSettings.CLIPPINGS).contains(s.clipping())) {
      throw new IllegalArgumentException("clipping must be one of " + String.join(", ", RuleSettings.CLIPPINGS)
          + ", got '" + s.clipping() + "'");
    }
    if (!samFamily && (rs != SharpnessAwareMinimization.RhoSchedule.CONSTANT || !s.clipping().equals("descent"))) {
      throw new IllegalArgumentException("rhoSchedule=" + s.rhoSchedule() + " and clipping=" + s.clipping()
          + " apply to rule sam or asam only (rule " + s.rule() + " has no ascent step); use rhoSchedule=constant and "
          + "clipping=descent");
    }
    if (s.clipsAscent() && !(maxGradNorm > 0 && Double.isFinite(maxGradNorm))) {
      throw new IllegalArgumentException("clipping=" + s.clipping() + " needs maxGradNorm > 0 (the norm to clip to), "
          + "got " + maxGradNorm);
    }
    double ascentClip = s.clipsAscent() ? maxGradNorm : 0.0;
    switch (s.rule()) {
      case "none":
        return new StandardTraining();
      case "sam":
        return sharpnessAware(new SamPerturbation(s.rho()), s, net, coupledL2, rs, baseLearningRate, ascentClip);
      case "asam":
        return sharpnessAware(new AsamPerturbation(s.rho(), s.adaptiveEta(), AsamPerturbation.Scope.parse(s.adaptiveScope()),
            net.layout()), s, net, coupledL2, rs, baseLearningRate, ascentClip);
      case "saf":
        return SharpnessAwareTrainingForFree.of(s, epochs);
      case "mesa":
        return MemoryEfficientSharpnessAware.of(s, epochs);
      default:
        throw new IllegalArgumentException("rule '" + s.rule() + "' is not available; valid rules: "
            + String.join(", ", RuleSettings.RULES));
    }
  }

  /** SAM or ASAM with the settings' scope, micro-batch size, weight-decay mode, rho schedule and ascent clipping. */
  private static UpdateRule sharpnessAware(Perturbation p, RuleSettings s, Network net, double coupledL2,
                                           SharpnessAwareMinimization.RhoSchedule rs, double baseLr, double ascentClip) {
    return new SharpnessAwareMinimization(p, SharpnessAwareMinimization.PerturbationScope.parse(s.perturbation()),
        s.microBatchSize(), SharpnessAwareMinimization.WeightDecayMode.parse(s.weightDecayMode()), coupledL2,
        net.layout(), rs, baseLr, ascentClip);
  }
}
