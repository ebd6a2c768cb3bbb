package io.github.sparksam.train;

import io.github.sparksam.data.BlockedPartition;
import org.apache.spark.TaskContext;

/**
 * Test-only hook: fails the <em>first attempt</em> of chosen training tasks, so that tests can check
 * that Spark's retry gives the same result. Off unless the Spark local property {@link #PROPERTY}
 * is set on the thread that calls {@code fit} (local properties are per thread and travel with
 * each job to its tasks, so concurrent fits are not affected by each other's setting).
 *
 * <p>Value: comma-separated entries {@code MODE:PARTITION@EPOCH.STEP}, where {@code EPOCH} and
 * {@code STEP} are 0-based and may be {@code *}. Modes:
 * <ul>
 *   <li>{@code fail}: the task throws {@link InjectedTaskFailure} after computing its result
 *       (state it changed next to the cached data stays, like a failure late in a task);</li>
 *   <li>{@code crash}: the task also drops the partition's task-local state
 *       ({@link BlockedPartition#local()}) before throwing, as a lost executor would, so the retry
 *       runs on a partition that has to rebuild (and SAF loses its records of that partition).</li>
 * </ul>
 * Only attempt 0 of stage attempt 0 fails ({@code TaskContext.attemptNumber()},
 * {@code stageAttemptNumber()}: a barrier stage, {@code aggregation = allReduce}, is retried as a
 * whole), so the run needs {@code spark.task.maxFailures >= 2} ({@code local[2,4]} as master, or
 * the conf on a cluster).
 */
public final class FaultInjection {
  /** The Spark local property read by training tasks. */
  public static final String PROPERTY = "spark-sam.test.failTasks";

  private FaultInjection() {}

  /** Thrown by an injected failure. */
  public static final class InjectedTaskFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InjectedTaskFailure(String msg) { super(msg); }
  }

  /** Called by a training task after it computed its result; may throw. */
  static void maybeFail(BlockedPartition part, int epoch, int step) {
    TaskContext tc = TaskContext.get();
    if (tc == null || tc.attemptNumber() != 0 || tc.stageAttemptNumber() != 0) return;
    String spec = tc.getLocalProperty(PROPERTY);
    if (spec == null || spec.isBlank()) return;
    for (String entry : spec.split(",")) {
      String e = entry.trim();
      if (e.isEmpty()) continue;
      int colon = e.indexOf(':'), at = e.indexOf('@'), dot = e.indexOf('.', Math.max(at, 0));
      if (colon < 0 || at < colon || dot < at) {
        throw new IllegalArgumentException(PROPERTY + ": bad entry '" + e + "', expected MODE:PARTITION@EPOCH.STEP");
      }
      String mode = e.substring(0, colon);
      if (!matches(e.substring(colon + 1, at), part.index) || !matches(e.substring(at + 1, dot), epoch)
          || !matches(e.substring(dot + 1), step)) {
        continue;
      }
      if (mode.equals("crash")) {
        synchronized (part) {
          part.local().clear();
        }
      } else if (!mode.equals("fail")) {
        throw new IllegalArgumentException(PROPERTY + ": unknown mode '" + mode + "' (fail or crash)");
      }
      throw new InjectedTaskFailure("injected " + mode + " of partition " + part.index + " in epoch " + epoch
          + ", step " + step + " (attempt 0 of task " + tc.taskAttemptId() + ")");
    }
  }

  private static boolean matches(String pattern, int value) {
    return pattern.equals("*") || Integer.parseInt(pattern.trim()) == value;
  }
}
