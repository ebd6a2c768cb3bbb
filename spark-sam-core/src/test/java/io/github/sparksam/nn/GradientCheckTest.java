package io.github.sparksam.nn;

import static io.github.sparksam.nn.NnFixtures.norm;
import static io.github.sparksam.nn.NnFixtures.objective;
import static io.github.sparksam.nn.NnFixtures.relDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.nn.Network.Head;
import io.github.sparksam.nn.NnFixtures.Problem;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Central finite-difference checks of {@link Network#lossAndGradient} (plus {@link WeightDecay})
 * on the float64 backend, and float32-vs-float64 agreement.
 */
class GradientCheckTest {
  static final int ROWS = 7;
  static final int FEATURES = 5;
  static final double H = 1e-5;
  static final double TOL = 1e-6;
  static final double LAMBDA = 0.03;

  static Stream<Arguments> models() {
    List<Object[]> nets = List.of(
        new Object[] {"softmax K=3", (Supplier<Network>) () -> Network.linear(FEATURES, 3, Head.MULTINOMIAL)},
        new Object[] {"softmax K=4", (Supplier<Network>) () -> Network.linear(FEATURES, 4, Head.MULTINOMIAL)},
        new Object[] {"logistic", (Supplier<Network>) () -> Network.linear(FEATURES, 2, Head.BINOMIAL)},
        new Object[] {"mlp[6] relu K=3",
            (Supplier<Network>) () -> Network.mlp(FEATURES, new int[] {6}, 3, Activation.RELU, Head.MULTINOMIAL)},
        new Object[] {"mlp[6,4] tanh K=4",
            (Supplier<Network>) () -> Network.mlp(FEATURES, new int[] {6, 4}, 4, Activation.TANH, Head.MULTINOMIAL)},
        new Object[] {"mlp[6] relu binomial",
            (Supplier<Network>) () -> Network.mlp(FEATURES, new int[] {6}, 2, Activation.RELU, Head.BINOMIAL)},
        new Object[] {"mlp[4,3] tanh binomial",
            (Supplier<Network>) () -> Network.mlp(FEATURES, new int[] {4, 3}, 2, Activation.TANH, Head.BINOMIAL)});
    List<Arguments> out = new ArrayList<>();
    for (Object[] n : nets) {
      for (double eps : new double[] {0.0, 0.1}) {
        for (double lambda : new double[] {0.0, LAMBDA}) {
          out.add(Arguments.of(n[0], n[1], eps, lambda));
        }
      }
    }
    return out.stream();
  }

  /**
   * A problem whose relu pre-activations all stay at least 1e-3 away from the kink (the finite
   * difference moves them by ~1e-5), searching seeds deterministically from 1.
   */
  static Problem kinkFreeProblem(Network net) {
    for (long seed = 1; seed < 200; seed++) {
      Problem p = NnFixtures.randomProblem(net, ROWS, seed, 0.5);
      if (net.hiddenLayers().length == 0 || net.activation() != Activation.RELU
          || NnFixtures.minHiddenPreActivation(net, p.params, p.x, p.n) > 1e-3) {
        return p;
      }
    }
    return fail("no kink-free seed found for " + net);
  }

  @ParameterizedTest(name = "{0}, eps={2}, lambda={3}")
  @MethodSource("models")
  void finiteDifferenceFloat64(String name, Supplier<Network> make, double eps, double lambda) {
    Network net = make.get();
    Problem p = kinkFreeProblem(net);
    // the weights really are non-uniform
    assertTrue(Arrays.stream(p.weights).max().getAsDouble() - Arrays.stream(p.weights).min().getAsDouble() > 0.5);

    double[] g = new double[net.numParams()];
    double f0 = objective(p, CpuBackend.FLOAT64, p.params, eps, lambda, g);
    // lossAndGradient and loss agree on the value
    assertEquals(objective(p, CpuBackend.FLOAT64, p.params, eps, lambda, null), f0, 1e-12 * Math.abs(f0));

    double[] fd = new double[g.length];
    for (int i = 0; i < g.length; i++) {
      double[] plus = p.params.clone(), minus = p.params.clone();
      plus[i] += H;
      minus[i] -= H;
      fd[i] = (objective(p, CpuBackend.FLOAT64, plus, eps, lambda, null)
          - objective(p, CpuBackend.FLOAT64, minus, eps, lambda, null)) / (2 * H);
    }
    assertTrue(norm(g) > 1e-2, "gradient is not trivially small: " + norm(g));
    double rel = relDiff(g, fd);
    assertTrue(rel < TOL, name + ": relative error " + rel + "\n g=" + Arrays.toString(g) + "\nfd=" + Arrays.toString(fd));

    // per-coordinate agreement on the 8 largest coordinates
    Integer[] idx = IntStream.range(0, g.length).boxed().toArray(Integer[]::new);
    Arrays.sort(idx, Comparator.comparingDouble((Integer i) -> -Math.abs(g[i])));
    for (int r = 0; r < Math.min(8, idx.length); r++) {
      int i = idx[r];
      double e = Math.abs(g[i] - fd[i]) / Math.max(Math.abs(g[i]), Math.abs(fd[i]));
      assertTrue(e < TOL, name + ": coordinate " + i + " g=" + g[i] + " fd=" + fd[i] + " rel=" + e);
    }
  }

  /** Weight decay touches weights only: gradient difference is lambda*w on weights, 0 on biases. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void weightDecayLeavesBiasesAlone(String name, Supplier<Network> make, double eps, double lambda) {
    Network net = make.get();
    Problem p = kinkFreeProblem(net);
    double[] gPlain = new double[net.numParams()];
    double[] gDecay = new double[net.numParams()];
    double fPlain = objective(p, CpuBackend.FLOAT64, p.params, eps, 0.0, gPlain);
    double fDecay = objective(p, CpuBackend.FLOAT64, p.params, eps, LAMBDA, gDecay);
    double expectedPenalty = 0;
    int biases = 0;
    for (ParamLayout.Tensor t : net.layout().tensors()) {
      for (int i = t.offset(); i < t.offset() + t.size(); i++) {
        if (t.kind() == ParamLayout.Kind.WEIGHT) {
          expectedPenalty += 0.5 * LAMBDA * p.params[i] * p.params[i];
          assertEquals(LAMBDA * p.params[i], gDecay[i] - gPlain[i], 1e-12, t.name() + "[" + (i - t.offset()) + "]");
        } else {
          biases++;
          assertEquals(gPlain[i], gDecay[i], 0.0, "bias " + t.name() + " must not be decayed");
        }
      }
    }
    assertTrue(biases > 0);
    assertEquals(expectedPenalty, fDecay - fPlain, 1e-12);
  }

  @Test
  void weightDecayWithZeroLambdaIsANoOp() {
    double[] w = {1, 2, 3};
    double[] g = {0.5, 0.5, 0.5};
    assertEquals(0.0, WeightDecay.addTo(w, g, 0.0, new double[] {1, 1, 0}));
    assertEquals(0.5, g[0]);
    // and by hand: lambda=0.5, mask (1,1,0): penalty 0.25*(1+4)=1.25, grad += (0.5, 1, 0)
    assertEquals(1.25, WeightDecay.addTo(w, g, 0.5, new double[] {1, 1, 0}), 1e-15);
    assertEquals(1.0, g[0], 1e-15);
    assertEquals(1.5, g[1], 1e-15);
    assertEquals(0.5, g[2], 1e-15);
  }

  /** float32 loss and gradient agree with float64 to ~1e-4 relative. */
  @ParameterizedTest(name = "{0}, eps={2}, lambda={3}")
  @MethodSource("models")
  void float32AgreesWithFloat64(String name, Supplier<Network> make, double eps, double lambda) {
    Network net = make.get();
    Problem p = kinkFreeProblem(net);
    double[] g64 = new double[net.numParams()];
    double[] g32 = new double[net.numParams()];
    double f64 = objective(p, CpuBackend.FLOAT64, p.params, eps, lambda, g64);
    double f32 = objective(p, CpuBackend.FLOAT32, p.params, eps, lambda, g32);
    assertTrue(Math.abs(f32 - f64) / Math.abs(f64) < 1e-4, "loss " + f32 + " vs " + f64);
    double rel = relDiff(g32, g64);
    assertTrue(rel < 1e-4, name + ": float32 gradient relative error " + rel);
  }

  /** lossAndGradient adds into grad; it never overwrites what is there. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void gradientIsAccumulated(String name, Supplier<Network> make, double eps, double lambda) {
    for (ComputeBackend be : new ComputeBackend[] {CpuBackend.FLOAT64, CpuBackend.FLOAT32}) {
      Network net = make.get();
      Problem p = kinkFreeProblem(net);
      Network.Workspace ws = net.newWorkspace(be, p.n);
      Buf params = NnFixtures.buf(be, p.params);
      Buf x = NnFixtures.buf(be, p.x);
      Buf g = be.allocate(net.numParams());
      net.lossAndGradient(params, x, p.n, p.labels, p.weights, 0, eps, g, ws, new LossStats());
      double[] once = NnFixtures.toArray(g, net.numParams());
      Buf g2 = be.allocate(net.numParams());
      for (int i = 0; i < net.numParams(); i++) g2.set(i, 1.0);
      net.lossAndGradient(params, x, p.n, p.labels, p.weights, 0, eps, g2, ws, new LossStats());
      net.lossAndGradient(params, x, p.n, p.labels, p.weights, 0, eps, g2, ws, new LossStats());
      double tol = be == CpuBackend.FLOAT64 ? 1e-12 : 1e-5;
      for (int i = 0; i < net.numParams(); i++) {
        assertEquals(1.0 + 2 * once[i], g2.get(i), tol * (1 + Math.abs(once[i])), be + " coordinate " + i);
      }
    }
  }

  /** weights == null means unit weights. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void nullWeightsMeanOnes(String name, Supplier<Network> make, double eps, double lambda) {
    Network net = make.get();
    Problem p = kinkFreeProblem(net);
    ComputeBackend be = CpuBackend.FLOAT64;
    Network.Workspace ws = net.newWorkspace(be, p.n);
    Buf params = NnFixtures.buf(be, p.params);
    Buf x = NnFixtures.buf(be, p.x);
    double[] ones = new double[p.n];
    Arrays.fill(ones, 1.0);
    Buf gNull = be.allocate(net.numParams());
    Buf gOnes = be.allocate(net.numParams());
    LossStats sNull = new LossStats(), sOnes = new LossStats();
    net.lossAndGradient(params, x, p.n, p.labels, null, 0, eps, gNull, ws, sNull);
    net.lossAndGradient(params, x, p.n, p.labels, ones, 0, eps, gOnes, ws, sOnes);
    assertEquals(sOnes.lossSum, sNull.lossSum, 0.0);
    assertEquals(p.n, sNull.weightSum, 0.0);
    assertEquals(sOnes.correctWeight, sNull.correctWeight, 0.0);
    for (int i = 0; i < net.numParams(); i++) assertEquals(gOnes.get(i), gNull.get(i), 0.0);
  }
}
