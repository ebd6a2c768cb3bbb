package io.github.sparksam.multiplicity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Blahut-Arimoto on the spec's channels (§4.7) and the sampled measures on hand-made matrices. */
class BlahutArimotoTest {

  static double log2(double x) { return Math.log(x) / Math.log(2); }

  @Test
  void identicalRowsHaveNoCapacity() {
    BlahutArimoto.Capacity c = BlahutArimoto.capacity(new double[][] {{0.3, 0.7}, {0.3, 0.7}, {0.3, 0.7}});
    assertEquals(0, c.bits(), 1e-12);
    assertEquals(1, c.rashomonCapacity(), 1e-12);
  }

  @Test
  void oneHotRowsReachLog2K() {
    BlahutArimoto.Capacity c = BlahutArimoto.capacity(new double[][] {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}});
    assertEquals(log2(3), c.bits(), 1e-9);
    assertEquals(3, c.rashomonCapacity(), 1e-8);
  }

  @Test
  void zChannel() {
    BlahutArimoto.Capacity c = BlahutArimoto.capacity(new double[][] {{1, 0}, {0.5, 0.5}});
    assertEquals(0.321928, c.bits(), 1e-6);
    assertEquals(log2(1.25), c.bits(), 1e-9);
    assertEquals(1.25, c.rashomonCapacity(), 1e-8);
    assertTrue(c.upperBits() - c.bits() <= 1e-10);
  }

  @Test
  void binarySymmetricChannel() {
    double p = 0.1;
    double h2 = -p * log2(p) - (1 - p) * log2(1 - p);
    BlahutArimoto.Capacity c = BlahutArimoto.capacity(new double[][] {{1 - p, p}, {p, 1 - p}});
    assertEquals(0.531004, c.bits(), 1e-6);
    assertEquals(1 - h2, c.bits(), 1e-9);
    assertEquals(1.444935, c.rashomonCapacity(), 1e-6);
    // a range [0.1, 0.9] of P(y=1) is the same channel
    assertEquals(1.444935, BlahutArimoto.binaryRange(0.1, 0.9), 1e-6);
    assertEquals(1.0, BlahutArimoto.binaryRange(0.4, 0.4), 0);
  }

  @Test
  void rejectsBadChannels() {
    assertThrows(IllegalArgumentException.class, () -> BlahutArimoto.capacity(new double[0][]));
    assertThrows(IllegalArgumentException.class, () -> BlahutArimoto.capacity(new double[][] {{0.5, 0.6}}));
    assertThrows(IllegalArgumentException.class, () -> BlahutArimoto.capacity(new double[][] {{-0.1, 1.1}}));
  }

  @Test
  void disagreementOfFourModels() {
    // decisions (1,1,0,0) on one point; baseline decides 1
    SampledMeasures.Row r = SampledMeasures.of(0.8, new double[] {0.9, 0.7, 0.2, 0.4}, 0.1, true);
    assertEquals(4.0 / 3, r.disagreement(), 1e-12);
    assertEquals(1.0, r.biasedDisagreement(), 1e-12);
    assertEquals(1.0 / 3, r.selfConsistency(), 1e-12);
    assertEquals(2 * (1 - r.selfConsistency()), r.disagreement(), 1e-12);
    assertTrue(r.flipped());
    assertTrue(r.ambiguous());
    assertEquals(0.2, r.min(), 0);
    assertEquals(0.9, r.max(), 0);
    double mean = (0.9 + 0.7 + 0.2 + 0.4) / 4;
    double var = (Math.pow(0.9 - mean, 2) + Math.pow(0.7 - mean, 2) + Math.pow(0.2 - mean, 2) + Math.pow(0.4 - mean, 2)) / 4;
    assertEquals(Math.sqrt(var), r.std(), 1e-12);
    assertTrue(r.rashomonCapacity() > 1 && r.rashomonCapacity() <= 2);
  }

  @Test
  void equalDecisionsGiveZero() {
    SampledMeasures.Row r = SampledMeasures.of(0.8, new double[] {0.81, 0.79, 0.8}, 0.05, true);
    assertEquals(0, r.disagreement(), 0);
    assertEquals(0, r.biasedDisagreement(), 0);
    assertEquals(1, r.selfConsistency(), 0);
    assertTrue(!r.flipped() && !r.ambiguous());
  }

  @Test
  void discrepancyBelowAmbiguityForSpreadFlips() {
    // 3 models x 3 points; model k flips point k only (identity flip matrix)
    double[] base = {0.9, 0.9, 0.9};
    double[][] scores = {{0.1, 0.9, 0.9}, {0.9, 0.1, 0.9}, {0.9, 0.9, 0.1}};   // [model][point]
    long[] flips = new long[3];
    int ambiguous = 0;
    for (int i = 0; i < 3; i++) {
      double[] s = {scores[0][i], scores[1][i], scores[2][i]};
      if (SampledMeasures.of(base[i], s, 0.5, false).flipped()) ambiguous++;
      for (int k = 0; k < 3; k++) if (SampledMeasures.decision(s[k]) != SampledMeasures.decision(base[i])) flips[k]++;
    }
    assertEquals(1.0, ambiguous / 3.0, 0);
    assertEquals(1.0 / 3, SampledMeasures.discrepancy(flips, 3), 1e-12);
  }
}
