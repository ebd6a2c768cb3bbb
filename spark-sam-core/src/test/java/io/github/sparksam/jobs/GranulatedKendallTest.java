package io.github.sparksam.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The granulated Kendall coefficient (Jiang et al. 2020; spec 1.6) on a hand-made 2 x 3 grid, with a tie, worked
 * out by hand:
 *
 * <pre>
 *   (A, B)    measure  target
 *   (a1, b1)     1       1
 *   (a1, b2)     2       3
 *   (a1, b3)     3       2
 *   (a2, b1)     4       5
 *   (a2, b2)     5       4
 *   (a2, b3)     5       3
 * </pre>
 * Axis A (groups fixed B, 2 models each): b1 (1,1)(4,5) concordant, b2 (2,3)(5,4) concordant, b3 (3,2)(5,3)
 * concordant: psi_A = 1. Axis B (groups fixed A, 3 models each): a1 has 2 concordant, 1 discordant pair: tau = 1/3;
 * a2 has 2 discordant pairs and 1 pair tied in the measure: tau-b = -2 / sqrt((3 - 1)(3 - 0)) = -0.816497; psi_B =
 * (1/3 - 0.816497)/2 = -0.241582. Psi = (1 - 0.241582)/2 = 0.379209.
 */
class GranulatedKendallTest {

  static List<Map<String, String>> grid() {
    List<Map<String, String>> h = new ArrayList<>();
    for (String a : List.of("a1", "a2")) {
      for (String b : List.of("b1", "b2", "b3")) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("A", a);
        m.put("B", b);
        h.add(m);
      }
    }
    return h;
  }

  static final double[] MEASURE = {1, 2, 3, 4, 5, 5};
  static final double[] TARGET = {1, 3, 2, 5, 4, 3};

  @Test
  void handMadeGrid() {
    GranulatedKendall.Result r = GranulatedKendall.compute(grid(), MEASURE, TARGET, List.of("A", "B"));
    assertEquals(1.0, r.axis("A").psi(), 1e-12);
    assertEquals(3, r.axis("A").groups());
    assertEquals(-0.241582, r.axis("B").psi(), 1e-6);
    assertEquals(2, r.axis("B").groups());
    assertEquals(1.0 / 3, r.axis("B").groupTaus().get(0), 1e-12);
    assertEquals(-2 / Math.sqrt(6), r.axis("B").groupTaus().get(1), 1e-12);
    assertEquals(0.379209, r.psi(), 1e-6);
  }

  @Test
  void overallTauOfTheSameGridForComparison() {
    // all 15 pairs: the plain tau-b mixes the axes; equals the brute-force definition
    assertEquals(KendallTauTest.bruteTauB(MEASURE, TARGET), KendallTau.tauB(MEASURE, TARGET), 1e-12);
  }

  @Test
  void missingValuesAndSingletonGroupsAreSkipped() {
    double[] m = MEASURE.clone();
    m[3] = Double.NaN;   // (a2, b1) left out: group b1 of axis A has one model
    GranulatedKendall.Result r = GranulatedKendall.compute(grid(), m, TARGET, List.of("A", "B"));
    assertEquals(2, r.axis("A").groups());
    assertEquals(1, r.axis("A").skippedGroups());
    assertEquals(1.0, r.axis("A").psi(), 1e-12);
    // a2 now has (5,4)(5,3): tied measure -> tau-b undefined -> skipped
    assertEquals(1, r.axis("B").groups());
    assertEquals(1.0 / 3, r.axis("B").psi(), 1e-12);
  }

  @Test
  void compositeAxisAndDefaultAxes() {
    List<Map<String, String>> h = new ArrayList<>();
    double[] m = new double[6];
    double[] t = new double[6];
    int i = 0;
    for (String lr : List.of("0.1", "0.2")) {
      for (String[] rr : new String[][] {{"none", "0.0"}, {"sam", "0.05"}, {"sam", "0.2"}}) {
        Map<String, String> x = new LinkedHashMap<>();
        x.put("rule", rr[0]);
        x.put("learningRate", lr);
        x.put("rho", rr[1]);
        x.put("seed", "1");
        h.add(x);
        m[i] = i;
        t[i] = i % 3 + (i >= 3 ? 0.5 : 0);   // increasing with rule+rho inside each lr, and with lr
        i++;
      }
    }
    assertEquals(List.of("rule+rho", "learningRate"), GranulatedKendall.defaultAxes(h));
    GranulatedKendall.Result r = GranulatedKendall.compute(h, m, t, List.of("rule+rho", "learningRate"));
    assertEquals(1.0, r.axis("rule+rho").psi(), 1e-12);
    assertEquals(2, r.axis("rule+rho").groups());
    assertEquals(3, r.axis("learningRate").groups());
    assertThrows(IllegalArgumentException.class, () -> GranulatedKendall.compute(h, m, t, List.of("momentum")));
    assertTrue(Double.isFinite(r.psi()));
  }
}
