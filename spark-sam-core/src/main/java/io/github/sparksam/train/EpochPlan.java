package io.github.sparksam.train;

import io.github.sparksam.data.BlockedPartition;
import java.util.Arrays;

/**
 * Which of one partition's rows each step of an epoch uses, in a fixed order: the rows of step
 * {@code s} are {@code order[stepStart[s] .. stepStart[s+1])}, sorted by their position in the
 * epoch's {@link BatchPermutation}. Built on the executor from the seed alone; kept next to the
 * cached data for the epoch, rebuilt when lost.
 */
final class EpochPlan {
  final int epoch;
  final int[] order;
  final int[] stepStart;
  final int maxRowsPerStep;

  EpochPlan(BlockedPartition part, long numExamples, int batchSize, int stepsPerEpoch, long seed, int epoch) {
    this.epoch = epoch;
    int m = part.numRows;
    BatchPermutation perm = new BatchPermutation(numExamples, seed, epoch);
    long[] pos = new long[m];
    Integer[] boxed = null;
    order = new int[m];
    if (m < (1 << 24) && numExamples < (1L << 39)) {
      long[] keys = new long[m];
      for (int r = 0; r < m; r++) keys[r] = (perm.position(part.id(r)) << 24) | r;
      Arrays.sort(keys);
      for (int i = 0; i < m; i++) {
        order[i] = (int) (keys[i] & ((1 << 24) - 1));
        pos[i] = keys[i] >>> 24;
      }
    } else {
      long[] p = new long[m];
      for (int r = 0; r < m; r++) p[r] = perm.position(part.id(r));
      boxed = new Integer[m];
      for (int r = 0; r < m; r++) boxed[r] = r;
      Arrays.sort(boxed, (a, b) -> Long.compare(p[a], p[b]));
      for (int i = 0; i < m; i++) {
        order[i] = boxed[i];
        pos[i] = p[boxed[i]];
      }
    }
    stepStart = new int[stepsPerEpoch + 1];
    int i = 0, max = 0;
    for (int s = 0; s < stepsPerEpoch; s++) {
      stepStart[s] = i;
      long end = (long) (s + 1) * batchSize;
      while (i < m && pos[i] < end) i++;
      max = Math.max(max, i - stepStart[s]);
    }
    stepStart[stepsPerEpoch] = i;
    maxRowsPerStep = max;
  }

  int rowsInStep(int s) { return stepStart[s + 1] - stepStart[s]; }
}
