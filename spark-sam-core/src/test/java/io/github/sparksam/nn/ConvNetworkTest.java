package io.github.sparksam.nn;

import static io.github.sparksam.nn.NnFixtures.norm;
import static io.github.sparksam.nn.NnFixtures.objective;
import static io.github.sparksam.nn.NnFixtures.relDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.nn.Network.Head;
import io.github.sparksam.nn.NnFixtures.Problem;
import io.github.sparksam.nn.layers.Conv2dLayer;
import io.github.sparksam.nn.layers.Layer;
import io.github.sparksam.nn.layers.LayerBuffers;
import io.github.sparksam.nn.layers.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Convolutional networks (issue #14): finite-difference gradients (float64, relative error below
 * 1e-6) and R-operator Hessian-vector products against finite differences of gradients, for
 * convolution with stride 1 and 2, padding 0 and 2 and several channels, max / average / global
 * average pooling (on HWC maps and directly on the NCHW input); a direct convolution as the oracle of
 * the im2col forward; the output-size rule; and the {@code layers} parser's errors.
 */
class ConvNetworkTest {
  static final int ROWS = 5;
  static final double H = 1e-5;

  static Stream<Arguments> cnns() {
    return Stream.of(
        Arguments.of("conv 3x3 stride 1 pad 0, 2->3 channels", new Shape(2, 6, 6), "conv 3 3x3, dense 4", Activation.TANH, 3),
        Arguments.of("conv 5x5 pad 2", new Shape(2, 6, 6), "conv 3 5x5 pad 2", Activation.TANH, 3),
        Arguments.of("conv 3x3 stride 2 pad 2", new Shape(2, 7, 7), "conv 3 3x3 stride 2 pad 2, dense 5", Activation.TANH, 4),
        Arguments.of("conv 2x3 stride 2 pad 0, 3 channels", new Shape(3, 7, 6), "conv 2 2x3 stride 2", Activation.TANH, 3),
        Arguments.of("two convs and maxpool", new Shape(2, 6, 6), "conv 3 3x3 pad 1, maxpool 2, conv 4 2x2 stride 2",
            Activation.TANH, 3),
        Arguments.of("avgpool, flatten, dense", new Shape(3, 6, 6), "conv 2 3x3 pad 1, avgpool 2, flatten, dense 3",
            Activation.TANH, 3),
        Arguments.of("avgpool stride 1", new Shape(2, 5, 5), "conv 2 3x3 pad 1, avgpool 2 stride 1", Activation.TANH, 3),
        Arguments.of("global average pool", new Shape(2, 5, 5), "conv 4 3x3 pad 2, globalavgpool", Activation.TANH, 3),
        Arguments.of("pooling on the NCHW input", new Shape(2, 6, 6), "maxpool 2 stride 1, conv 2 2x2, avgpool 2",
            Activation.TANH, 3),
        Arguments.of("relu, maxpool, binomial", new Shape(1, 6, 6), "conv 3 3x3 pad 1, maxpool 2, dense 4", Activation.RELU, 2));
  }

  private static Network net(Shape in, String spec, Activation a, int classes) {
    return Network.cnn(in, spec, classes, a, classes == 2 ? Head.BINOMIAL : Head.MULTINOMIAL);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cnns")
  void finiteDifferenceGradientFloat64(String name, Shape in, String spec, Activation a, int classes) {
    Network net = net(in, spec, a, classes);
    Problem p = NnFixtures.randomProblem(net, ROWS, 3, 0.5);
    double[] g = new double[net.numParams()];
    objective(p, CpuBackend.FLOAT64, p.params, 0.0, 0.0, g);
    double[] fd = new double[g.length];
    for (int i = 0; i < g.length; i++) {
      double[] plus = p.params.clone(), minus = p.params.clone();
      plus[i] += H;
      minus[i] -= H;
      fd[i] = (objective(p, CpuBackend.FLOAT64, plus, 0.0, 0.0, null)
          - objective(p, CpuBackend.FLOAT64, minus, 0.0, 0.0, null)) / (2 * H);
    }
    assertTrue(norm(g) > 1e-2, "gradient is not trivially small: " + norm(g));
    double rel = relDiff(g, fd);
    assertTrue(rel < 1e-6, name + ": relative error " + rel);
    // the curvature workspace's gradient is the same gradient
    double[] cg = new double[g.length];
    net.newCurvatureWorkspace(ROWS).accumulate(p.params, p.x, 0, ROWS, p.labels, p.weights, 0, cg, null, null,
        new LossStats());
    assertTrue(relDiff(g, cg) < 1e-12, name + ": curvature gradient differs " + relDiff(g, cg));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cnns")
  void rOperatorMatchesFiniteDifferencesOfGradients(String name, Shape in, String spec, Activation a, int classes) {
    Network net = net(in, spec, a, classes);
    Problem p = NnFixtures.randomProblem(net, ROWS, 5, 0.5);
    double[] v = NnFixtures.randomProblem(net, 1, 77, 1.0).params;
    double[] hv = new double[net.numParams()];
    CurvatureWorkspace ws = net.newCurvatureWorkspace(ROWS);
    ws.accumulate(p.params, p.x, 0, ROWS, p.labels, p.weights, 0, null, new double[][] {v}, new double[][] {hv},
        new LossStats());
    double[] wp = p.params.clone(), wm = p.params.clone();
    for (int i = 0; i < wp.length; i++) { wp[i] += H * v[i]; wm[i] -= H * v[i]; }
    double[] gp = new double[wp.length], gm = new double[wp.length];
    objective(p, CpuBackend.FLOAT64, wp, 0.0, 0.0, gp);
    objective(p, CpuBackend.FLOAT64, wm, 0.0, 0.0, gm);
    double[] fd = new double[hv.length];
    for (int i = 0; i < fd.length; i++) fd[i] = (gp[i] - gm[i]) / (2 * H);
    assertTrue(norm(hv) > 1e-3, name + ": |Hv| " + norm(hv));
    double rel = relDiff(hv, fd);
    assertTrue(rel < 1e-6, name + ": Hv vs finite differences of gradients, relative error " + rel);
  }

  @Test
  void im2colForwardEqualsADirectConvolution() {
    Shape in = new Shape(3, 7, 6);
    int filters = 4, k = 3, stride = 2, pad = 2;
    Conv2dLayer conv = new Conv2dLayer(in, false, filters, k, k, stride, pad);
    ParamLayout.Builder b = new ParamLayout.Builder();
    conv.declareTensors(b, 1);
    ParamLayout layout = b.build();
    int oh = (7 + 2 * pad - k) / stride + 1, ow = (6 + 2 * pad - k) / stride + 1;
    assertEquals(new Shape(filters, oh, ow), conv.outputShape());
    assertEquals(new Shape(4, 5, 4), conv.outputShape());     // floor((H + 2 pad - k) / stride) + 1
    double[] w = NnFixtures.randomProblem(Network.linear(layout.size(), 2, Head.BINOMIAL), 1, 9, 1.0).x;
    double[] x = NnFixtures.randomProblem(Network.linear(in.size() * 2, 2, Head.BINOMIAL), 1, 10, 1.0).x;
    Buf y = CpuBackend.FLOAT64.allocate(conv.outputShape().size() * 2);
    conv.forward(CpuBackend.FLOAT64, new Buf.DoubleBuf(w), new Buf.DoubleBuf(x), 2, y,
        new LayerBuffers(CpuBackend.FLOAT64.allocate(conv.colsPerRow() * 2), null));
    ParamLayout.Tensor kt = layout.tensor("K1"), bt = layout.tensor("b1");
    for (int j = 0; j < 2; j++) {
      for (int f = 0; f < filters; f++) {
        for (int oy = 0; oy < oh; oy++) {
          for (int ox = 0; ox < ow; ox++) {
            double s = w[bt.offset() + f];
            for (int c = 0; c < 3; c++) {
              for (int ky = 0; ky < k; ky++) {
                for (int kx = 0; kx < k; kx++) {
                  int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                  if (iy < 0 || iy >= 7 || ix < 0 || ix >= 6) continue;
                  double kv = w[kt.offset() + f + filters * ((c * k + ky) * k + kx)];   // K is filters x (c,ky,kx)
                  s += kv * x[j * in.size() + (c * 7 + iy) * 6 + ix];                   // input NCHW
                }
              }
            }
            double got = y.get(j * conv.outputShape().size() + (oy * ow + ox) * filters + f);  // output HWC
            assertEquals(s, got, 1e-12, "row " + j + " filter " + f + " at " + oy + "," + ox);
          }
        }
      }
    }
  }

  /**
   * A convolution on HWC input (what follows a convolution or pooling layer), whose im2col runs in
   * (ky, kx, c) order with the kernel permuted: forward, kernel gradient and input gradient against
   * direct loops over the parameter layout, on blocks split into tiles of 1, 2 and all rows.
   */
  @ParameterizedTest(name = "tile of {0} rows")
  @org.junit.jupiter.params.provider.ValueSource(ints = {1, 2, 5})
  void hwcConvolutionAndItsGradientsEqualDirectLoops(int tileRows) {
    int c = 3, h = 6, wd = 5, filters = 4, kh = 3, kw = 2, stride = 2, pad = 1, n = 5;
    Shape in = new Shape(c, h, wd);
    Conv2dLayer conv = new Conv2dLayer(in, true, filters, kh, kw, stride, pad);
    ParamLayout.Builder b = new ParamLayout.Builder();
    conv.declareTensors(b, 1);
    ParamLayout layout = b.build();
    int oh = conv.outputShape().height(), ow = conv.outputShape().width(), outSize = conv.outputShape().size();
    java.util.SplittableRandom r = new java.util.SplittableRandom(21);
    double[] w = new double[layout.size()], x = new double[in.size() * n], dy = new double[outSize * n];
    for (int i = 0; i < w.length; i++) w[i] = NnFixtures.gaussian(r);
    for (int i = 0; i < x.length; i++) x[i] = NnFixtures.gaussian(r);
    for (int i = 0; i < dy.length; i++) dy[i] = NnFixtures.gaussian(r);
    LayerBuffers s = new LayerBuffers(CpuBackend.FLOAT64.allocate(conv.colsPerRow() * tileRows), null);
    Buf y = CpuBackend.FLOAT64.allocate(outSize * n), dx = CpuBackend.FLOAT64.allocate(in.size() * n);
    double[] grad = new double[w.length];
    conv.forward(CpuBackend.FLOAT64, new Buf.DoubleBuf(w), new Buf.DoubleBuf(x), n, y, s);
    conv.backward(CpuBackend.FLOAT64, new Buf.DoubleBuf(w), new Buf.DoubleBuf(x), y, new Buf.DoubleBuf(dy), n,
        new Buf.DoubleBuf(grad), dx, s);
    int kOff = layout.tensor("K1").offset(), bOff = layout.tensor("b1").offset();
    double[] wantGrad = new double[w.length], wantDx = new double[x.length];
    for (int j = 0; j < n; j++) {
      for (int oy = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
          for (int f = 0; f < filters; f++) {
            int out = j * outSize + (oy * ow + ox) * filters + f;     // output HWC
            double sum = w[bOff + f];
            wantGrad[bOff + f] += dy[out];
            for (int ch = 0; ch < c; ch++) {
              for (int ky = 0; ky < kh; ky++) {
                for (int kx = 0; kx < kw; kx++) {
                  int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                  int k = kOff + f + filters * ((ch * kh + ky) * kw + kx);   // K is filters x (c,ky,kx)
                  int xi = j * in.size() + (iy * wd + ix) * c + ch;          // input HWC
                  sum += w[k] * x[xi];
                  wantGrad[k] += dy[out] * x[xi];
                  wantDx[xi] += w[k] * dy[out];
                }
              }
            }
            assertEquals(sum, y.get(out), 1e-12, "output " + out);
          }
        }
      }
    }
    for (int i = 0; i < w.length; i++) assertEquals(wantGrad[i], grad[i], 1e-12, "gradient " + i);
    for (int i = 0; i < x.length; i++) assertEquals(wantDx[i], dx.get(i), 1e-12, "input gradient " + i);
  }

  /**
   * A block larger than one im2col tile (both convolutions here run in several tiles of rows) gives
   * the gradient and Hessian-vector product of the sum of its rows taken one at a time.
   */
  @Test
  void tilesOfRowsGiveTheSameGradientAndHessianVectorProducts() {
    Network net = net(new Shape(1, 28, 28), "conv 2 3x3 pad 1, conv 3 5x5 pad 2, maxpool 4, dense 4", Activation.TANH, 3);
    int n = 40;
    assertTrue(net.layers().get(2).colsFor(n) < n * net.layers().get(2).colsPerRow(), "the block needs several tiles");
    Problem p = NnFixtures.randomProblem(net, n, 31, 0.3);
    double[] v = NnFixtures.randomProblem(net, 1, 32, 1.0).params;
    double[] block = gradientAndHv(p, v, 0, n);
    double[] rows = new double[block.length];
    for (int j = 0; j < n; j++) {
      double[] one = gradientAndHv(p, v, j, 1);
      for (int i = 0; i < rows.length; i++) rows[i] += one[i];
    }
    assertTrue(norm(block) > 1e-3);
    assertTrue(relDiff(block, rows) < 1e-12, "a block in tiles vs row by row: " + relDiff(block, rows));
  }

  /** The gradient (training workspace, float64) and Hv (curvature workspace) of rows {@code [from, from + n)}. */
  private static double[] gradientAndHv(Problem p, double[] v, int from, int n) {
    Network net = p.net;
    int d = net.numFeatures();
    double[] x = Arrays.copyOfRange(p.x, from * d, (from + n) * d);
    double[] g = new double[net.numParams()], hv = new double[net.numParams()];
    net.lossAndGradient(new Buf.DoubleBuf(p.params), new Buf.DoubleBuf(x), n, p.labels, p.weights, from, 0.0,
        new Buf.DoubleBuf(g), net.newWorkspace(CpuBackend.FLOAT64, n), new LossStats());
    net.newCurvatureWorkspace(n).accumulate(p.params, x, 0, n, p.labels, p.weights, from, null, new double[][] {v},
        new double[][] {hv}, new LossStats());
    return concat(g, hv);
  }

  private static double[] concat(double[] a, double[] b) {
    double[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void fashionMnistArchitectureShapesAndLayout() {
    Network net = Network.cnn(new Shape(1, 28, 28), "conv 16 5x5 pad 2, maxpool 2, conv 32 5x5 pad 2, maxpool 2, dense 128",
        10, Activation.RELU, Head.MULTINOMIAL);
    List<Layer> ls = net.layers();
    assertEquals(new Shape(16, 28, 28), ls.get(0).outputShape());
    assertEquals(new Shape(32, 7, 7), ls.get(5).outputShape());
    assertEquals(10, net.numOutputs());
    assertEquals(784, net.numFeatures());
    // kernels are weights (decayed, ASAM-scaled), biases are biases
    assertEquals(ParamLayout.Kind.WEIGHT, net.layout().tensor("K1").kind());
    assertEquals(ParamLayout.Kind.WEIGHT, net.layout().tensor("K2").kind());
    assertEquals(ParamLayout.Kind.BIAS, net.layout().tensor("b2").kind());
    assertEquals(16 * 25 + 16 + 32 * 16 * 25 + 32 + 128 * 32 * 49 + 128 + 10 * 128 + 10, net.numParams());
    assertArrayEquals(new int[] {128}, net.hiddenLayers());
    assertEquals("conv 16 5x5 pad 2, maxpool 2, conv 32 5x5 pad 2, maxpool 2, dense 128", net.architecture());
    double[] w = net.initialParams(4);
    assertTrue(Arrays.stream(w).anyMatch(d -> d != 0));
    assertEquals(0.0, w[net.layout().tensor("b1").offset()]);
    assertEquals(w[5], net.initialParams(4)[5]);
  }

  private static void assertArrayEquals(int[] a, int[] b) { org.junit.jupiter.api.Assertions.assertArrayEquals(a, b); }

  @Test
  void parserNormalisesAndNamesTheBadToken() {
    Network n = Network.cnn(new Shape(1, 8, 8), " CONV 4 3 Stride 1 PAD 1 , MaxPool 2 stride 2, gap ", 3, Activation.RELU,
        Head.MULTINOMIAL);
    assertEquals("conv 4 3x3 pad 1, maxpool 2, globalavgpool", n.architecture());
    assertEquals(n.architecture(), Network.cnn(new Shape(1, 8, 8), n.architecture(), 3, Activation.RELU,
        Head.MULTINOMIAL).architecture());
    String[][] bad = {
        {"conv 4 3y3", "'3y3'"}, {"conv four 3x3", "'four'"}, {"conv 4 3x3 strid 2", "'strid'"},
        {"dense 10, conv 4 3x3", "'conv'"}, {"pool 2", "'pool'"}, {"conv 4 3x3 pad -1", "'-1'"},
        {"maxpool 2 3", "'3'"}, {"conv 4 9x9", "does not fit"}, {"conv 4", "missing the kernel"}, {"", "empty"},
        {"dense 0", "'0'"}};
    for (String[] c : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> Network.cnn(new Shape(1, 8, 8), c[0], 3, Activation.RELU, Head.MULTINOMIAL), c[0]);
      assertTrue(e.getMessage().contains(c[1]), c[0] + " -> " + e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> Shape.parse("1,28"));
    assertThrows(IllegalArgumentException.class, () -> Shape.parse("1,x,28"));
    assertEquals(new Shape(3, 32, 32), Shape.parse("3, 32, 32"));
  }

  @Test
  void float32AgreesWithFloat64() {
    Network net = net(new Shape(2, 6, 6), "conv 3 3x3 pad 1, maxpool 2, dense 4", Activation.TANH, 3);
    Problem p = NnFixtures.randomProblem(net, ROWS, 8, 0.5);
    double[] g64 = new double[net.numParams()], g32 = new double[net.numParams()];
    double f64 = objective(p, CpuBackend.FLOAT64, p.params, 0.1, 0.0, g64);
    double f32 = objective(p, CpuBackend.FLOAT32, p.params, 0.1, 0.0, g32);
    assertEquals(f64, f32, 1e-4 * Math.abs(f64));
    assertTrue(relDiff(g64, g32) < 1e-4, "float32 gradient differs by " + relDiff(g64, g32));
  }

  @Test
  void float32WithADirectFirstConvolutionAgreesWithFloat64() {
    // 16 and 32 filters on NCHW input: the float32 backend convolves directly (with the vector
    // kernels), float64 through im2col + GEMM; the R-operator's forward and backward go the same way
    for (String spec : new String[] {"conv 16 3x3 pad 1, maxpool 2, dense 4", "conv 32 3x3 stride 2 pad 2, dense 3"}) {
      Network net = net(new Shape(2, 6, 6), spec, Activation.RELU, 3);
      Problem p = NnFixtures.randomProblem(net, ROWS, 8, 0.5);
      double[] g64 = new double[net.numParams()], g32 = new double[net.numParams()];
      double f64 = objective(p, CpuBackend.FLOAT64, p.params, 0.1, 0.0, g64);
      double f32 = objective(p, CpuBackend.FLOAT32, p.params, 0.1, 0.0, g32);
      assertEquals(f64, f32, 1e-4 * Math.abs(f64), spec);
      assertTrue(relDiff(g64, g32) < 1e-4, spec + ": float32 gradient differs by " + relDiff(g64, g32));
    }
  }
}
