package io.github.sparksam.multiplicity;

/**
 * Spark reports an exception thrown in a task as a stage failure; this rethrows the task's
 * {@link IllegalArgumentException} as itself (with Spark's report as cause) so users see the
 * one-line reason.
 */
final class Errors {
  private Errors() {}

  static RuntimeException rethrow(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IllegalArgumentException iae) {
        if (t == e) throw iae;
        throw new IllegalArgumentException(iae.getMessage(), e);
      }
    }
    if (e instanceof RuntimeException re) throw re;
    throw new IllegalStateException(e.getMessage(), e);
  }
}
