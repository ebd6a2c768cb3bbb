package io.github.sparksam.train;

/** Plain (not sharpness-aware) training: the base optimizer on the ordinary gradient. */
public final class StandardTraining implements UpdateRule {
  private static final long serialVersionUID = 1L;

  @Override public LocalRule localRule() { return PlainGradient.INSTANCE; }

  @Override public String name() { return "standard"; }

  @Override public String toString() { return "StandardTraining"; }
}
