package io.github.sparksam.sam;

import java.io.Serializable;

/**
 * The ascent step of a sharpness-aware rule: from the mean ascent gradient {@code g} at the
 * weights {@code w}, the perturbation {@code eps} at which the descent gradient is evaluated
 * ({@code w + eps}). Implementations work in double precision, are immutable and thread-safe (one
 * instance is shared by the tasks of an executor), and never produce NaN for a zero gradient: they
 * return {@code eps = 0} exactly.
 */
public interface Perturbation extends Serializable {

  /** The constant added to a norm before dividing by it (spec: xi = 1e-12, as davda54/Keras/GSAM). */
  double XI = 1e-12;

  /**
   * Writes the perturbation for gradient {@code g} at weights {@code w} into {@code eps} and
   * returns its Euclidean norm (for metrics). {@code eps} may be the same array as {@code w} (each
   * entry of {@code w} is read before the same entry of {@code eps} is written), but not {@code g}.
   */
  double perturb(double[] g, double[] w, double[] eps);

  /** The radius rho. */
  double rho();

  /** The same perturbation with radius {@code rho} (for a rho schedule, {@link SharpnessAwareMinimization.RhoSchedule}). */
  Perturbation withRho(double rho);

  /** Short name: {@code sam} or {@code asam}. */
  String name();
}
