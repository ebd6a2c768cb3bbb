package io.github.sparksam.collective;

/**
 * The in-JVM ring links of {@link RingAllReduce} (tasks of one executor hand chunks over through
 * queues kept in a static map): what the end of a fit uses to drop its channels, including those
 * of failed stage attempts that no later attempt cleared.
 */
public final class InProcessChannels {
  private InProcessChannels() {}

  /** Drops every in-JVM channel of the fit with rendezvous token {@code token}; returns how many. */
  public static int release(String token) {
    return token == null ? 0 : MemoryLink.release(token);
  }

  /** Channels currently open in this JVM, all fits together. */
  public static int open() { return MemoryLink.open(); }
}
