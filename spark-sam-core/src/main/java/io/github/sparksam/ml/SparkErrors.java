package io.github.sparksam.ml;

import io.github.sparksam.train.TrainingDivergedException;

/**
 * Spark wraps an exception thrown in a task into a {@code SparkException} whose message is a stage
 * failure report. Our input validation runs inside tasks; this rethrows its
 * {@link IllegalArgumentException} (or a {@link TrainingDivergedException}) as itself so users get
 * the one-line reason, with Spark's report kept as the cause.
 */
final class SparkErrors {
  private SparkErrors() {}

  /** Never returns normally: throws the user-facing exception for {@code e}. */
  static RuntimeException rethrow(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof TrainingDivergedException d) throw d;
      if (t instanceof IllegalArgumentException iae) {
        if (t == e) throw iae;
        throw new IllegalArgumentException(iae.getMessage(), e);
      }
    }
    throw SparkErrors.<RuntimeException>sneaky(e);
  }

  /**
   * One line for a load failure: the innermost message. Spark wraps file errors raised in a task
   * into a stage-failure report that embeds the task's whole stack trace; the full chain stays
   * available as the exception's cause.
   */
  static String oneLine(Throwable e) {
    String msg = null;
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) msg = t.getMessage();
    }
    if (msg == null) return e.getClass().getName();
    String first = msg.strip().lines().findFirst().orElse("");
    return first.length() > 300 ? first.substring(0, 300) + "..." : first;
  }

  @SuppressWarnings("unchecked")
  static <T extends Throwable> T sneaky(Throwable t) throws T { // #17: also ModelFormatWriter
    throw (T) t;
  }
}
