package io.github.sparksam.data;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;

/**
 * One cached partition of training data as blocks, plus a task-local scratch area.
 *
 * <p>The RDD of these is cached deserialized, so the executor hands the same object to every task
 * that runs on this partition: the {@link #local} map keeps per-partition state next to the data
 * between steps (the epoch's batch plan, reusable buffers, per-example records) without shipping
 * it anywhere. It is transient: after an eviction or a lost executor it is empty and whoever uses
 * it must rebuild or report the loss. Tasks of one partition never run concurrently, but several
 * trainings may share one session, so keys must be unique per use: a fit's keys end with
 * {@code ":" + runId}, and {@link #release} drops them when the fit ends.
 */
public final class BlockedPartition implements Serializable {
  private static final long serialVersionUID = 1L;

  public final int index;
  public final DataBlock[] blocks;
  public final int numRows;
  public final int numFeatures;
  public final double maxLabel;
  public final double weightSum;
  private transient Map<String, Object> local;

  public BlockedPartition(int index, DataBlock[] blocks, int numFeatures, double maxLabel, double weightSum) {
    this.index = index;
    this.blocks = blocks;
    int n = 0;
    for (DataBlock b : blocks) n += b.numRows;
    this.numRows = n;
    this.numFeatures = numFeatures;
    this.maxLabel = maxLabel;
    this.weightSum = weightSum;
  }

  /** Block of partition-local row {@code r}. */
  public DataBlock block(int r) { return blocks[r >>> DataBlock.ROW_BITS]; }

  /** Row of partition-local row {@code r} inside its block. */
  public static int rowInBlock(int r) { return r & (DataBlock.MAX_ROWS - 1); }

  public long id(int r) { return block(r).ids[rowInBlock(r)]; }

  /**
   * Drops the entries of fit {@code runId} (keys ending with {@code ":" + runId}), closing those that
   * are {@link AutoCloseable}; returns how many were dropped. Called when the fit ends.
   */
  public synchronized int release(String runId) {
    if (local == null || runId == null) return 0;
    String suffix = ":" + runId;
    int n = 0;
    for (var it = local.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      if (!e.getKey().endsWith(suffix)) continue;
      it.remove();
      n++;
      if (e.getValue() instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception ignored) {
          // releasing must not fail the fit's end; the entry is gone either way
        }
      }
    }
    return n;
  }

  /** Entries currently held (all fits). */
  public synchronized int localEntries() { return local == null ? 0 : local.size(); }

  /** The task-local scratch map (created on first use; empty after recomputation). */
  public synchronized Map<String, Object> local() {
    if (local == null) local = new HashMap<>();
    return local;
  }
}
