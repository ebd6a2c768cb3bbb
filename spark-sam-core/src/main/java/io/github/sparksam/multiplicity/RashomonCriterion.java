package io.github.sparksam.multiplicity;

import java.util.Locale;

/**
 * Which loss defines the epsilon-level (Rashomon) set {@code S_eps = {h : L(h) <= L(h0) + eps}}; the
 * references differ (spec §0.11), so it is a choice:
 *
 * <ul>
 *   <li>{@link #LOG_LOSS}: the training objective (mean logistic loss, plus the model's L2 penalty),
 *       additive epsilon, as in Watson-Daniels, Parkes and Ustun (AAAI 2023). The only criterion of
 *       the exact method (the set is convex for logistic regression).
 *   <li>{@link #ZERO_ONE}: the training 0-1 error (a fraction; Marx, Calmon and Ustun, ICML 2020,
 *       use eps = 1% of n extra errors). Sampled only: exact computation needs a MIP solver.
 *   <li>{@link #HELDOUT_LOSS}: the mean log-loss on held-out data, as in Hsu and Calmon (NeurIPS
 *       2022) and Hsu et al. (ICLR 2024). Sampled only.
 * </ul>
 */
public enum RashomonCriterion {
  LOG_LOSS("log-loss"), ZERO_ONE("zero-one"), HELDOUT_LOSS("heldout-loss");

  private final String label;

  RashomonCriterion(String label) { this.label = label; }

  public String label() { return label; }

  public static RashomonCriterion parse(String s) {
    String v = s == null ? "" : s.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    for (RashomonCriterion c : values()) if (c.label.equals(v)) return c;
    throw new IllegalArgumentException("unknown Rashomon-set criterion '" + s + "'; use log-loss, zero-one or heldout-loss");
  }
}
