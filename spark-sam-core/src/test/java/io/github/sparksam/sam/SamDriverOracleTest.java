package io.github.sparksam.sam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.LossStats;
import io.github.sparksam.nn.Network;
import io.github.sparksam.nn.WeightDecay;
import io.github.sparksam.optim.Adam;
import io.github.sparksam.optim.Optimizer;
import io.github.sparksam.optim.OptimizerState;
import io.github.sparksam.optim.Sgd;
import io.github.sparksam.sam.SharpnessAwareMinimization.PerturbationScope;
import io.github.sparksam.sam.SharpnessAwareMinimization.WeightDecayMode;
import io.github.sparksam.train.PlainGradient;
import io.github.sparksam.train.StepContext;
import io.github.sparksam.train.UpdateRule;
import java.util.Arrays;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The driver logic of global SAM ({@link SharpnessAwareMinimization#globalStep}) on quadratics,
 * followed by what the trainer's {@code applyUpdate} does (coupled L2 at w, base optimizer): spec
 * oracles 10.1, 10.2, 10.6, 10.7 (two-pass path) and 10.10.
 */
class SamDriverOracleTest {

  /** A pass over a batch of unit weight whose mean gradient is {@code grad(at)}. */
  static StepContext.Pass pass(double[] gradient) {
    LossStats s = new LossStats();
    s.weightSum = 1;
    s.count = 1;
    return new StepContext.Pass(gradient, s);
  }

  static SharpnessAwareMinimization global(Perturbation p, WeightDecayMode mode, double l2) {
    return new SharpnessAwareMinimization(p, PerturbationScope.GLOBAL, 0, mode, l2, null);
  }

  /** {@code steps} SAM steps as the trainer runs them: rule direction, + l2 * w, optimizer. */
  static double[][] run(SharpnessAwareMinimization rule, Optimizer opt, double lr, double l2, double[] w0,
                        UnaryOperator<double[]> grad, int steps) {
    double[] w = w0.clone();
    OptimizerState st = opt.init(w.length);
    double[] ones = new double[w.length];
    Arrays.fill(ones, 1.0);
    double[][] out = new double[steps][];
    for (int t = 0; t < steps; t++) {
      double[] d = rule.globalStep(w, at -> pass(grad.apply(at))).direction();
      WeightDecay.addTo(w, d, l2, ones);
      opt.step(w, d, lr, st);
      out[t] = w.clone();
    }
    return out;
  }

  static final UnaryOperator<double[]> QUAD_1D = at -> new double[] {2 * at[0]};   // L = w^2

  @Test
  void oneDimensionalQuadraticWithSgd() {   // 10.1
    SharpnessAwareMinimization sam = global(new SamPerturbation(0.05), WeightDecayMode.DECOUPLED, 0);
    double[][] it = run(sam, new Sgd(), 0.1, 0, new double[] {1}, QUAD_1D, 500);
    assertEquals(0.79, it[0][0], 1e-12);
    // closed form w' = (1 - eta a) w - eta a rho sign(w): the 2-cycle +-eta a rho / (2 - eta a)
    assertEquals(-0.1 * 2 * 0.05 / (2 - 0.2), it[499][0], 1e-9);
    assertEquals(-0.00555556, it[499][0], 1e-8);
    assertEquals(0.00555556, it[498][0], 1e-8);
    // plain SGD goes to 0
    SharpnessAwareMinimization plain = global(new SamPerturbation(0), WeightDecayMode.DECOUPLED, 0);
    assertEquals(0.0, run(plain, new Sgd(), 0.1, 0, new double[] {1}, QUAD_1D, 500)[499][0], 1e-30);
  }

  @Test
  void oneDimensionalQuadraticWithMomentumAndCoupledDecay() {   // 10.1
    SharpnessAwareMinimization sam = global(new SamPerturbation(0.05), WeightDecayMode.DECOUPLED, 0);
    double[][] it = run(sam, new Sgd(0.9, false), 0.1, 0, new double[] {1}, QUAD_1D, 3);
    assertArrayEquals(new double[] {0.79, 0.433, 0.0151}, new double[] {it[0][0], it[1][0], it[2][0]}, 1e-12);
    SharpnessAwareMinimization wd = global(new SamPerturbation(0.05), WeightDecayMode.DECOUPLED, 0.1);
    it = run(wd, new Sgd(0.9, false), 0.1, 0.1, new double[] {1}, QUAD_1D, 3);
    assertArrayEquals(new double[] {0.78, 0.4082, -0.022142}, new double[] {it[0][0], it[1][0], it[2][0]}, 1e-12);
  }

  @Test
  void twoDimensionalQuadratic() {   // 10.2: A = diag(1, 4), w = (1, 1), rho = 0.1, eta = 0.1
    UnaryOperator<double[]> grad = at -> new double[] {at[0], 4 * at[1]};
    SharpnessAwareMinimization sam = global(new SamPerturbation(0.1), WeightDecayMode.DECOUPLED, 0);
    SharpnessAwareMinimization.GlobalStep s = sam.globalStep(new double[] {1, 1}, at -> pass(grad.apply(at)));
    assertArrayEquals(new double[] {1.0242535625, 4.3880570001}, s.direction(), 1e-10);
    assertEquals(0.1, s.perturbationNorm(), 1e-12);
    double[][] it = run(sam, new Sgd(), 0.1, 0, new double[] {1, 1}, grad, 1);
    assertArrayEquals(new double[] {0.8975746437, 0.5611943000}, it[0], 1e-10);
  }

  @Test
  void globalStepEvaluatesAtAFreshPerturbedPointAndKeepsW() {
    double[] w = {0.3, -0.7};
    double[] copy = w.clone();
    double[][] seen = new double[2][];
    int[] calls = {0};
    global(new SamPerturbation(0.2), WeightDecayMode.DECOUPLED, 0).globalStep(w, at -> {
      seen[calls[0]++] = at;
      return pass(new double[] {at[0], 4 * at[1]});
    });
    assertEquals(2, calls[0]);
    assertArrayEquals(copy, w, 0.0);
    assertSame(w, seen[0]);
    assertTrue(seen[1] != w);
    double[] g = {0.3, -2.8};
    double n = Math.hypot(g[0], g[1]);
    assertArrayEquals(new double[] {0.3 + 0.2 * g[0] / (n + 1e-12), -0.7 + 0.2 * g[1] / (n + 1e-12)}, seen[1], 0.0);
  }

  @Test
  void zeroGradientGivesTheZeroDirection() {   // 10.3: w = 0 in 10.1
    SharpnessAwareMinimization.GlobalStep s = global(new SamPerturbation(0.05), WeightDecayMode.DECOUPLED, 0)
        .globalStep(new double[] {0}, at -> pass(QUAD_1D.apply(at)));
    assertEquals(0.0, s.direction()[0], 0.0);
    assertEquals(0.0, s.perturbationNorm(), 0.0);
  }

  @Test
  void weightDecayStyles() {   // 10.6: a = 2, w = 1, rho = 0.05, lambda = 0.1
    double[] ones = {1};
    double[] a = global(new SamPerturbation(0.05), WeightDecayMode.DECOUPLED, 0.1)
        .globalStep(new double[] {1}, at -> pass(QUAD_1D.apply(at))).direction();
    WeightDecay.addTo(new double[] {1}, a, 0.1, ones);   // the trainer's coupled term at w
    assertEquals(2.2, a[0], 1e-12);
    double[] b = global(new SamPerturbation(0.05), WeightDecayMode.LOSS, 0.1)
        .globalStep(new double[] {1}, at -> pass(QUAD_1D.apply(at))).direction();
    WeightDecay.addTo(new double[] {1}, b, 0.1, ones);
    assertEquals(2.205, b[0], 1e-12);
  }

  @Test
  void lossModeDecaysWeightsOnlyThroughTheLayout() {
    Network net = Network.linear(1, 2, Network.Head.BINOMIAL);   // W1 (1x1), b1
    double[] w = {1, 1};
    UnaryOperator<double[]> grad = at -> new double[] {2 * at[0], 2 * at[1]};
    SharpnessAwareMinimization rule = new SharpnessAwareMinimization(new SamPerturbation(0.05),
        PerturbationScope.GLOBAL, 0, WeightDecayMode.LOSS, 0.1, net.layout());
    SharpnessAwareMinimization.GlobalStep s = rule.globalStep(w, at -> pass(grad.apply(at)));
    // ascent g = (2 + 0.1, 2): eps = 0.05 g / ||g||; descent = 2 (w + eps) + 0.1 eps on the weight only
    double n = Math.hypot(2.1, 2);
    double e0 = 0.05 * 2.1 / (n + 1e-12), e1 = 0.05 * 2 / (n + 1e-12);
    assertArrayEquals(new double[] {2 * (1 + e0) + 0.1 * e0, 2 * (1 + e1)}, s.direction(), 1e-14);
  }

  @Test
  void adamIterates() {   // 10.10
    Adam adam = new Adam(0.9, 0.999, 1e-8);
    double[][] plain = run(global(new SamPerturbation(0), WeightDecayMode.DECOUPLED, 0), adam, 0.1, 0,
        new double[] {1}, QUAD_1D, 3);
    assertArrayEquals(new double[] {0.9, 0.8004122, 0.7015863}, new double[] {plain[0][0], plain[1][0], plain[2][0]}, 1e-7);
    double[][] sam = run(global(new SamPerturbation(0.05), WeightDecayMode.DECOUPLED, 0), adam, 0.1, 0,
        new double[] {1}, QUAD_1D, 3);
    assertArrayEquals(new double[] {0.9, 0.8003851, 0.7014778}, new double[] {sam[0][0], sam[1][0], sam[2][0]}, 1e-7);
  }

  @Test
  void twoPassPathWithRhoZeroIsTheBaseOptimizer() {   // 10.7
    UnaryOperator<double[]> grad = at -> new double[] {at[0] - 0.5 * at[1], 4 * at[1] + 0.1};
    double[][] a = run(global(new SamPerturbation(0), WeightDecayMode.DECOUPLED, 0), new Sgd(0.9, true), 0.05, 0,
        new double[] {1, -1}, grad, 50);
    double[] w = {1, -1};
    Sgd opt = new Sgd(0.9, true);
    OptimizerState st = opt.init(2);
    for (int t = 0; t < 50; t++) opt.step(w, grad.apply(w), 0.05, st);
    assertArrayEquals(w, a[49], 0.0);
  }

  @Test
  void rhoZeroAndScopesChooseThePass() {
    Network net = Network.linear(3, 4, Network.Head.MULTINOMIAL);
    SharpnessAwareMinimization zero = new SharpnessAwareMinimization(new SamPerturbation(0), PerturbationScope.PARTITION,
        4, WeightDecayMode.DECOUPLED, 0, net.layout());
    assertSame(PlainGradient.INSTANCE, zero.localRule());
    SharpnessAwareMinimization part = new SharpnessAwareMinimization(new SamPerturbation(0.05),
        PerturbationScope.PARTITION, 4, WeightDecayMode.DECOUPLED, 0, net.layout());
    assertInstanceOf(MicroBatchSam.class, part.localRule());
    assertTrue(part.supportsLocalSteps());
    SharpnessAwareMinimization glob = new SharpnessAwareMinimization(new SamPerturbation(0.05), PerturbationScope.GLOBAL,
        0, WeightDecayMode.DECOUPLED, 0, net.layout());
    assertTrue(!glob.supportsLocalSteps());
    assertTrue(glob.toString().contains("perturbation=global"), glob.toString());
    assertEquals("sam", glob.name());
  }

  @Test
  void epochMetricsAreMeansOverPerturbations() {
    SharpnessAwareMinimization sam = global(new SamPerturbation(0.05), WeightDecayMode.DECOUPLED, 0);
    LossStats epoch = new LossStats();
    assertEquals(Map.of(), sam.epochMetrics(epoch));
    epoch.count = 30;
    epoch.add(MicroBatchSam.NORM_SUM, 0.15);
    epoch.add(MicroBatchSam.COUNT, 3);
    Map<String, Double> m = sam.epochMetrics(epoch);
    assertEquals(0.05, m.get("perturbationNorm"), 1e-15);
    assertEquals(10.0, m.get("examplesPerPerturbation"), 0.0);
  }

  @Test
  void rulesFactory() {
    Network net = Network.mlp(3, new int[] {4}, 3, io.github.sparksam.nn.Activation.RELU, Network.Head.MULTINOMIAL);
    RuleSettings d = RuleSettings.none();
    UpdateRule sam = Rules.create(d.withRule("sam"), net, 5, 1e-4);
    assertInstanceOf(SharpnessAwareMinimization.class, sam);
    SharpnessAwareMinimization s = (SharpnessAwareMinimization) sam;
    assertInstanceOf(SamPerturbation.class, s.perturbation());
    assertEquals(PerturbationScope.PARTITION, s.scope());
    assertEquals(WeightDecayMode.DECOUPLED, s.weightDecayMode());
    SharpnessAwareMinimization a = (SharpnessAwareMinimization) Rules.create(d.withRule("asam"), net, 5, 0);
    assertInstanceOf(AsamPerturbation.class, a.perturbation());
    assertEquals(AsamPerturbation.Scope.WEIGHTS, ((AsamPerturbation) a.perturbation()).scope());
    assertEquals(0.01, ((AsamPerturbation) a.perturbation()).eta(), 0.0);
    assertEquals("asam", a.name());
    RuleSettings global = new RuleSettings("sam", 0.1, "global", 0, 0.01, "all", "loss", 0.3, 0.8, 5, 2, -1, -1, 0.999);
    SharpnessAwareMinimization g = (SharpnessAwareMinimization) Rules.create(global, net, 5, 1e-4);
    assertEquals(PerturbationScope.GLOBAL, g.scope());
    assertEquals(WeightDecayMode.LOSS, g.weightDecayMode());
    assertEquals(0.1, g.perturbation().rho(), 0.0);
    RuleSettings bad = new RuleSettings("sam", 0.1, "everywhere", 0, 0.01, "all", "loss", 0.3, 0.8, 5, 2, -1, -1, 0.999);
    assertThrows(IllegalArgumentException.class, () -> Rules.create(bad, net, 5, 0));
  }
}
