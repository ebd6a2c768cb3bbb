package io.github.sparksam.sharpness;

/**
 * A symmetric matrix known only through products {@code H v}: the Hessian of a mean loss at fixed
 * weights. {@link #apply} takes a block of vectors so that implementations can share one sweep over
 * the data between them (one distributed pass per call for {@link DistributedObjective}).
 */
public interface HessianOperator {
  /** Number of parameters. */
  int dim();

  /** {@code H v_j} for each {@code v_j} (new arrays). */
  double[][] apply(double[][] vs);

  /** Calls of {@link #apply} (data passes) so far. */
  long passes();
}
