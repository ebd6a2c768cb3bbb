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
    switch (s.rule()) {
      case "none":
        return new StandardTraining();
      case "sam":
        return sharpnessAware(new SamPerturbation(s.rho()), s, net, coupledL2);
      case "asam":
        return sharpnessAware(new AsamPerturbation(s.rho(), s.adaptiveEta(), AsamPerturbation.Scope.parse(s.adaptiveScope()),
            net.layout()), s, net, coupledL2);
      case "saf":
        return SharpnessAwareTrainingForFree.of(s, epochs);
      case "mesa":
        return MemoryEfficientSharpnessAware.of(s, epochs);
      default:
        throw new IllegalArgumentException("rule '" + s.rule() + "' is not available; valid rules: "
            + String.join(", ", RuleSettings.RULES));
    }
  }

  /** SAM or ASAM with the settings' scope, micro-batch size and weight-decay mode. */
  private static UpdateRule sharpnessAware(Perturbation p, RuleSettings s, Network net, double coupledL2) {
    return new SharpnessAwareMinimization(p, SharpnessAwareMinimization.PerturbationScope.parse(s.perturbation()),
        s.microBatchSize(), SharpnessAwareMinimization.WeightDecayMode.parse(s.weightDecayMode()), coupledL2,
        net.layout());
  }
}
