package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BatchPermutationTest {

  @Test
  void isAPermutationForAnySize() {
    for (long n : new long[] {1, 2, 3, 7, 64, 100, 1000, 4097, 60000}) {
      BatchPermutation p = new BatchPermutation(n, 42, 3);
      boolean[] seen = new boolean[(int) n];
      for (long id = 0; id < n; id++) {
        long pos = p.position(id);
        assertTrue(pos >= 0 && pos < n, "position " + pos + " outside [0," + n + ")");
        assertTrue(!seen[(int) pos], "position " + pos + " hit twice for n=" + n);
        seen[(int) pos] = true;
      }
    }
  }

  @Test
  void deterministicPerSeedAndEpochAndDifferentAcrossEpochs() {
    long n = 1000;
    long[] a = positions(new BatchPermutation(n, 7, 0), n);
    assertEquals(Arrays.toString(a), Arrays.toString(positions(new BatchPermutation(n, 7, 0), n)));
    assertNotEquals(Arrays.toString(a), Arrays.toString(positions(new BatchPermutation(n, 7, 1), n)));
    assertNotEquals(Arrays.toString(a), Arrays.toString(positions(new BatchPermutation(n, 8, 0), n)));
  }

  @Test
  void looksShuffled() {
    // the first batch of 100 should draw ids from all over [0, n), not a contiguous run
    long n = 10000;
    BatchPermutation p = new BatchPermutation(n, 1, 0);
    int lowHalf = 0, inFirstBatch = 0;
    for (long id = 0; id < n; id++) {
      if (p.position(id) < 100) {
        inFirstBatch++;
        if (id < n / 2) lowHalf++;
      }
    }
    assertEquals(100, inFirstBatch);
    assertTrue(lowHalf > 30 && lowHalf < 70, "first batch took " + lowHalf + "/100 ids from the lower half");
  }

  @Test
  void rejectsIdsOutsideTheRange() {
    BatchPermutation p = new BatchPermutation(10, 1, 0);
    assertThrows(IllegalArgumentException.class, () -> p.position(10));
    assertThrows(IllegalArgumentException.class, () -> new BatchPermutation(0, 1, 0));
  }

  private static long[] positions(BatchPermutation p, long n) {
    long[] out = new long[(int) n];
    for (int i = 0; i < n; i++) out[i] = p.position(i);
    return out;
  }
}
