package io.github.sparksam.sam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.nn.ParamLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** SAM and ASAM perturbations against spec oracles 10.2, 10.3, 10.4, 10.15 and 10.18(a). */
class PerturbationTest {

  static double norm(double[] v) {
    double s = 0;
    for (double x : v) s += x * x;
    return Math.sqrt(s);
  }

  static double[] random(SplittableRandom r, int n, double scale) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) v[i] = scale * (2 * r.nextDouble() - 1);
    return v;
  }

  @Test
  void samTwoDimensionalQuadratic() {   // 10.2: g = A w = (1, 4), rho = 0.1
    double[] eps = new double[2];
    double n = new SamPerturbation(0.1).perturb(new double[] {1, 4}, new double[] {1, 1}, eps);
    assertArrayEquals(new double[] {0.0242535625, 0.0970142500}, eps, 1e-10);
    assertEquals(0.1, n, 1e-12);
  }

  @Test
  void zeroGradientGivesZeroPerturbationNotNaN() {   // 10.3
    double[] g = new double[3];
    double[] eps = {7, 7, 7};
    assertEquals(0.0, new SamPerturbation(0.05).perturb(g, new double[3], eps), 0.0);
    assertArrayEquals(new double[3], eps, 0.0);
    eps = new double[] {7, 7, 7};
    assertEquals(0.0, AsamPerturbation.allParameters(0.5, 0.01).perturb(g, new double[] {1, 2, 3}, eps), 0.0);
    assertArrayEquals(new double[3], eps, 0.0);
    // ASAM, eta = 0 and all-zero weights: T g = 0 although g != 0
    eps = new double[] {7, 7, 7};
    assertEquals(0.0, AsamPerturbation.allParameters(0.5, 0.0).perturb(new double[] {1, -2, 3}, new double[3], eps), 0.0);
    assertArrayEquals(new double[3], eps, 0.0);
    // a tiny gradient is still well defined
    double[] tiny = {1e-300, -1e-300};
    new SamPerturbation(0.05).perturb(tiny, new double[2], eps = new double[2]);
    for (double e : eps) assertTrue(Double.isFinite(e));
  }

  @Test
  void asamValuesAllParameters() {   // 10.4: A = diag(1, 4), w = (2, 0.5), g = (2, 2), rho = 0.5
    double[] w = {2, 0.5}, g = {2, 2};
    double[] eps = new double[2];
    AsamPerturbation.allParameters(0.5, 0.0).perturb(g, w, eps);
    assertArrayEquals(new double[] {0.9701425001, 0.0606339063}, eps, 1e-10);
    // g_adv = A (w + eps)
    assertArrayEquals(new double[] {2.9701425001, 2.2425356250}, new double[] {w[0] + eps[0], 4 * (w[1] + eps[1])}, 1e-10);
    AsamPerturbation.allParameters(0.5, 0.01).perturb(g, w, eps);
    assertArrayEquals(new double[] {0.9741319590, 0.0627142206}, eps, 1e-10);
    // ||T g|| = 4.1473847181: eps_0 = rho T_0^2 g_0 / ||T g||
    assertEquals(0.5 * 2.01 * 2.01 * 2 / 4.1473847181, eps[0], 1e-9);
  }

  @Test
  void asamIsEquivariantToDiagonalRescalingAndSamIsNot() {   // 10.4, w = D u, D = diag(3, -0.25)
    double[] a = {1, 4}, w = {2, 0.5}, d = {3, -0.25};
    double[] gw = {a[0] * w[0], a[1] * w[1]};
    double[] u = {w[0] / d[0], w[1] / d[1]};
    double[] gu = {d[0] * gw[0], d[1] * gw[1]};   // grad_u L(D u) = D A D u = D g_w
    double[] ew = new double[2], eu = new double[2];
    Perturbation asam = AsamPerturbation.allParameters(0.5, 0.0);
    asam.perturb(gw, w, ew);
    asam.perturb(gu, u, eu);
    assertArrayEquals(new double[] {0.9701425001, 0.0606339063}, new double[] {d[0] * eu[0], d[1] * eu[1]}, 1e-10);
    assertArrayEquals(ew, new double[] {d[0] * eu[0], d[1] * eu[1]}, 1e-14);
    Perturbation sam = new SamPerturbation(0.5);
    sam.perturb(gw, w, ew);
    sam.perturb(gu, u, eu);
    assertArrayEquals(new double[] {0.3535534, 0.3535534}, ew, 1e-7);
    assertArrayEquals(new double[] {1.4948186, 0.0103807}, new double[] {d[0] * eu[0], d[1] * eu[1]}, 1e-7);
  }

  @Test
  void asamWeightsScopeUsesIdentityOnBiases() {
    ParamLayout layout = new ParamLayout.Builder().add("W1", 1, 2, ParamLayout.Kind.WEIGHT)
        .add("b1", 1, 1, ParamLayout.Kind.BIAS).build();
    double[] w = {2, 0.5, 3}, g = {2, 2, 1};
    double[] eps = new double[3];
    new AsamPerturbation(0.5, 0.0, AsamPerturbation.Scope.WEIGHTS, layout).perturb(g, w, eps);
    double n = Math.sqrt(4 * 4 + 1 * 1 + 1 * 1);   // T g = (4, 1, 1)
    assertArrayEquals(new double[] {0.5 * 4 * 2 / n, 0.5 * 0.25 * 2 / n, 0.5 * 1 / n}, eps, 1e-12);
    double[] all = new double[3];
    AsamPerturbation.allParameters(0.5, 0.0).perturb(g, w, all);
    assertTrue(Math.abs(all[2] - eps[2]) > 0.1, "bias entry should differ: " + all[2] + " vs " + eps[2]);
    assertThrows(IllegalArgumentException.class, () -> new AsamPerturbation(0.5, 0, AsamPerturbation.Scope.WEIGHTS, null));
  }

  @Test
  void perturbationMayOverwriteTheWeights() {
    SplittableRandom r = new SplittableRandom(3);
    double[] g = random(r, 9, 1), w = random(r, 9, 2);
    double[] eps = new double[9];
    Perturbation p = AsamPerturbation.allParameters(0.7, 0.01);
    p.perturb(g, w, eps);
    double[] aliased = w.clone();
    p.perturb(g, aliased, aliased);
    assertArrayEquals(eps, aliased, 0.0);
  }

  @Test
  void perturbationIsInvariantToGradientScale() {   // 10.15: sum vs mean gradient
    SplittableRandom r = new SplittableRandom(4);
    double[] g = random(r, 20, 0.3), w = random(r, 20, 1);
    double[] sum = g.clone();
    for (int i = 0; i < sum.length; i++) sum[i] *= 37;
    for (Perturbation p : new Perturbation[] {new SamPerturbation(0.05), AsamPerturbation.allParameters(0.5, 0.01)}) {
      double[] e1 = new double[20], e2 = new double[20];
      p.perturb(g, w, e1);
      p.perturb(sum, w, e2);
      for (int i = 0; i < 20; i++) assertEquals(e1[i], e2[i], 1e-11 * Math.abs(e1[i]) + 1e-300, p + " entry " + i);
    }
  }

  @Test
  void perturbationNormIsRho() {   // 10.18(a)
    SplittableRandom r = new SplittableRandom(5);
    for (int trial = 0; trial < 20; trial++) {
      double rho = 0.01 + r.nextDouble();
      double[] g = random(r, 15, Math.pow(10, r.nextInt(-3, 3))), w = random(r, 15, 2);
      double[] eps = new double[15];
      double n = new SamPerturbation(rho).perturb(g, w, eps);
      assertEquals(rho, norm(eps), 1e-9 * rho);
      assertEquals(norm(eps), n, 1e-12 * rho);
      // ASAM: ||T^-1 eps|| = rho (eta > 0, so T > 0)
      AsamPerturbation asam = AsamPerturbation.allParameters(rho, 0.01);
      n = asam.perturb(g, w, eps);
      assertEquals(norm(eps), n, 1e-12 * Math.max(n, 1e-300));
      double[] scaled = new double[15];
      for (int i = 0; i < 15; i++) scaled[i] = eps[i] / (Math.abs(w[i]) + 0.01);
      assertEquals(rho, norm(scaled), 1e-9 * rho);
    }
  }

  @Test
  void rejectsBadSettings() {
    assertThrows(IllegalArgumentException.class, () -> new SamPerturbation(-0.1));
    assertThrows(IllegalArgumentException.class, () -> new SamPerturbation(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> AsamPerturbation.allParameters(0.5, -1));
    assertThrows(IllegalArgumentException.class, () -> AsamPerturbation.Scope.parse("biases"));
    assertTrue(new SamPerturbation(0.05).toString().contains("rho=0.05"));
    assertTrue(AsamPerturbation.allParameters(0.5, 0.01).toString().contains("scope=all"));
  }
}
