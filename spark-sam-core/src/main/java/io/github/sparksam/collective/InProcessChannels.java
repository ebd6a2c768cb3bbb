package io.github.sparksam.collective;

/**
 * The in-JVM state of {@link RingAllReduce}, kept in static maps: the ring links between tasks of
 * one executor (chunks handed over through queues) and the groups of stages whose tasks all run in
 * this JVM ({@link SharedMemoryGroup}). What the end of a fit uses to drop them, including those of
 * failed stage attempts that no later attempt cleared.
 */
public final class InProcessChannels {
  private InProcessChannels() {}

  /** Drops every in-JVM channel and group of the fit with rendezvous token {@code token}; returns how many. */
  public static int release(String token) {
    return token == null ? 0 : MemoryLink.release(token) + SharedMemoryGroup.release(token);
  }

  /** Channels and groups currently open in this JVM, all fits together. */
  public static int open() { return MemoryLink.open() + SharedMemoryGroup.open(); }
}
