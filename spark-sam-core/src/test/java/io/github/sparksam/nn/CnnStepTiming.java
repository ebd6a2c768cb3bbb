package io.github.sparksam.nn;

import io.github.sparksam.backend.BlasInfo;
import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.backend.Precision;
import io.github.sparksam.nn.layers.Layer;
import io.github.sparksam.nn.layers.Shape;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A developer's timing harness, not a test (issue #14): one task's training step of a CNN
 * ({@link Network#lossAndGradient} on a block of rows, one thread), timed as a whole and per layer
 * (forward and backward), in this thread's CPU time, so that kernel changes can be compared A/B on
 * the same machine. Run with
 * the test classpath, e.g.
 * <pre>
 *   java -cp spark-sam-core/target/classes:spark-sam-core/target/test-classes:$(cat spark-sam-examples/target/spark-classpath.txt) \
 *     io.github.sparksam.nn.CnnStepTiming [rows=64] [steps=60] [float32|float64] [layers...]
 * </pre>
 * after {@code source bin/openblas-env} (one BLAS thread, as Spark tasks run, and the OpenBLAS core
 * type bin/spark-sam uses). {@code -Dtrain=600} first trains 600 SGD steps on Fashion-MNIST, so that
 * the timed steps see real images, trained weights and the compiler's code after training.
 */
public final class CnnStepTiming {
  private CnnStepTiming() {}

  private static final java.lang.management.ThreadMXBean THREADS = java.lang.management.ManagementFactory.getThreadMXBean();

  /** This thread's CPU time (ns): steadier than wall time on a shared machine. */
  private static long cpu() { return THREADS.getCurrentThreadCpuTime(); }

  static final String DEFAULT_LAYERS = "conv 16 5x5 pad 2, maxpool 2, conv 32 5x5 pad 2, maxpool 2, dense 128";

  public static void main(String[] args) {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 64;
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : 60;
    Precision prec = args.length > 2 ? Precision.parse(args[2]) : Precision.FLOAT32;
    String spec = args.length > 3 ? args[3] : DEFAULT_LAYERS;
    Network net = Network.cnn(new Shape(1, 28, 28), spec, 10, Activation.RELU, Network.Head.MULTINOMIAL);
    ComputeBackend be = CpuBackend.of(prec);
    System.out.println(net + ", " + rows + " rows, " + prec.paramValue() + ", BLAS " + BlasInfo.describe());

    SplittableRandom rnd = new SplittableRandom(7);
    double[] w = net.initialParams(1);
    Buf params = be.allocate(w.length);
    params.setFrom(w, 0, 0, w.length);
    Buf grad = be.allocate(w.length);
    Buf x = be.allocate(rows * net.numFeatures());
    for (int i = 0; i < rows * net.numFeatures(); i++) x.set(i, rnd.nextDouble() < 0.5 ? 0 : rnd.nextDouble());
    double[] labels = new double[rows];
    for (int i = 0; i < rows; i++) labels[i] = rnd.nextInt(10);
    Network.Workspace ws = net.newWorkspace(be, rows);
    int train = Integer.getInteger("train", 0);
    if (train > 0) trainOnFashionMnist(net, be, params, grad, x, labels, rows, train, ws);

    // whole steps
    for (int i = 0; i < steps; i++) net.lossAndGradient(params, x, rows, labels, null, 0, 0.0, grad, ws, new LossStats());
    long t0 = cpu();
    for (int i = 0; i < steps; i++) net.lossAndGradient(params, x, rows, labels, null, 0, 0.0, grad, ws, new LossStats());
    double stepMs = (cpu() - t0) / 1e6 / steps;

    // per layer: the same calls lossAndGradient makes, timed one by one
    Layer[] layers = net.layers().toArray(new Layer[0]);
    long[] fwd = new long[layers.length], bwd = new long[layers.length];
    for (int it = 0; it < 2 * steps; it++) {
      boolean timed = it >= steps;
      ws.ensure(rows);
      Buf in = x;
      for (int i = 0; i < layers.length; i++) {
        Buf out = ws.output(i, in);
        long s = cpu();
        layers[i].forward(be, params, in, rows, out, ws.buffers[i]);
        if (timed) fwd[i] += cpu() - s;
        in = out;
      }
      int cur = 0;
      Buf delta = ws.delta[cur];
      be.softmaxCrossEntropy(in, 10, rows, labels, null, 0, 0.0, delta, new LossStats());
      for (int i = layers.length - 1; i >= 0; i--) {
        Buf lin = i == 0 ? x : ws.outputs[i - 1];
        Buf dx = i == 0 ? null : ws.inPlace(i) ? delta : ws.delta[1 - cur];
        long s = cpu();
        layers[i].backward(be, params, lin, ws.outputs[i], delta, rows, grad, dx, ws.buffers[i]);
        if (timed) bwd[i] += cpu() - s;
        if (dx != null && dx != delta) cur = 1 - cur;
        delta = dx;
      }
    }
    double sum = 0;
    for (int i = 0; i < layers.length; i++) sum += (fwd[i] + bwd[i]) / 1e6 / steps;
    System.out.printf(Locale.ROOT, "step %.2f ms (per-layer sum %.2f ms)%n", stepMs, sum);
    for (int i = 0; i < layers.length; i++) {
      double f = fwd[i] / 1e6 / steps, b = bwd[i] / 1e6 / steps;
      System.out.printf(Locale.ROOT, "  %-45s fwd %7.2f ms  bwd %7.2f ms  %5.1f%%%n", layers[i], f, b, 100 * (f + b) / sum);
    }
    for (int i = 0; i < layers.length; i++) {
      if (layers[i] instanceof io.github.sparksam.nn.layers.Conv2dLayer c) convolutionKernels(be, c, rows, steps);
    }
  }

  /**
   * {@code -Dtrain=S}: S plain SGD steps (lr 0.1) on Fashion-MNIST's first rows, leaving the
   * trained weights in {@code params} and the last batch in {@code x}/{@code labels}, so that the
   * timings see real inputs and the small gradients of a trained network.
   */
  private static void trainOnFashionMnist(Network net, ComputeBackend be, Buf params, Buf grad, Buf x, double[] labels,
                                          int rows, int steps, Network.Workspace ws) {
    String dir = System.getProperty("data", "/usr/share/datasets/fashion-mnist");
    byte[] img, lab;
    try (var a = new java.util.zip.GZIPInputStream(new java.io.FileInputStream(dir + "/train-images-idx3-ubyte.gz"));
         var b = new java.util.zip.GZIPInputStream(new java.io.FileInputStream(dir + "/train-labels-idx1-ubyte.gz"))) {
      img = a.readAllBytes();
      lab = b.readAllBytes();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    int d = net.numFeatures(), n = lab.length - 8;
    double[] w = new double[params.length()], g = new double[params.length()];
    params.copyTo(w, 0, 0, w.length);
    long t0 = System.nanoTime();
    for (int s = 0; s < steps; s++) {
      for (int j = 0; j < rows; j++) {
        int r = (int) (((long) s * rows + j) % n);
        for (int i = 0; i < d; i++) x.set(j * d + i, (img[16 + r * d + i] & 0xff) / 255.0);
        labels[j] = lab[8 + r];
      }
      grad.zero(0, grad.length());
      LossStats st = new LossStats();
      net.lossAndGradient(params, x, rows, labels, null, 0, 0.0, grad, ws, st);
      grad.copyTo(g, 0, 0, g.length);
      for (int i = 0; i < w.length; i++) w[i] -= 0.1 * g[i] / rows;
      params.setFrom(w, 0, 0, w.length);
      if (s % 200 == 199) {
        System.out.printf(Locale.ROOT, "  trained %d steps, loss %.4f, %.1f ms/step (wall)%n", s + 1, st.meanLoss(),
            (System.nanoTime() - t0) / 1e6 / 200);
        t0 = System.nanoTime();
      }
    }
  }

  /** The pieces of one convolution's step over {@code rows} rows in tiles, as the layer runs them. */
  private static void convolutionKernels(ComputeBackend be, io.github.sparksam.nn.layers.Conv2dLayer c, int rows, int steps) {
    io.github.sparksam.backend.Conv2dGeometry g = c.geometry();
    int filters = c.outputShape().channels(), patch = g.patch(), p = g.positions();
    int t = c.colsFor(rows) / c.colsPerRow();
    Buf x = be.allocate(rows * g.inputSize()), dx = be.allocate(rows * g.inputSize());
    Buf d = be.allocate(rows * p * filters), y = be.allocate(rows * p * filters);
    Buf k = be.allocate(filters * patch), gk = be.allocate(filters * patch);
    Buf cols = be.allocate(c.colsFor(rows));
    SplittableRandom rnd = new SplittableRandom(3);
    for (int i = 0; i < x.length(); i++) x.set(i, rnd.nextDouble());
    for (int i = 0; i < d.length(); i++) d.set(i, rnd.nextDouble() - 0.5);
    for (int i = 0; i < k.length(); i++) k.set(i, rnd.nextDouble() - 0.5);
    long[] ns = new long[7];
    for (int it = 0; it < 2 * steps; it++) {
      boolean timed = it >= steps;
      for (int r0 = 0; r0 < rows; r0 += t) {
        int m = Math.min(t, rows - r0);
        long t0 = cpu();
        be.im2col(x, r0, m, g, cols, 0);
        long t1 = cpu();
        be.gemm(false, false, filters, p * m, patch, 1.0, k, 0, filters, cols, 0, patch, 0.0, y, r0 * p * filters, filters);
        long t2 = cpu();
        be.gemm(false, true, filters, patch, p * m, 1.0, d, r0 * p * filters, filters, cols, 0, patch, 1.0, gk, 0, filters);
        long t3 = cpu();
        be.gemm(true, false, patch, p * m, filters, 1.0, k, 0, filters, d, r0 * p * filters, filters, 0.0, cols, 0, patch);
        long t4 = cpu();
        be.col2im(cols, m, g, dx, r0);
        long t5 = cpu();
        be.addBias(y, filters, p * m, k, 0);
        long t6 = cpu();
        be.addRowSums(d, filters, p * m, gk, 0);
        long t7 = cpu();
        if (timed) {
          ns[5] += t6 - t5;
          ns[6] += t7 - t6;
          ns[0] += t1 - t0; ns[1] += t2 - t1; ns[2] += t3 - t2; ns[3] += t4 - t3; ns[4] += t5 - t4;
        }
      }
    }
    System.out.printf(Locale.ROOT, "  %s, tile %d rows: im2col %.2f, gemm Y=K*cols %.2f, gemm dK=dY*cols' %.2f,"
        + " gemm cols=K'*dY %.2f, col2im %.2f, bias %.2f, bias gradient %.2f ms%n", c, t, ns[0] / 1e6 / steps,
        ns[1] / 1e6 / steps, ns[2] / 1e6 / steps, ns[3] / 1e6 / steps, ns[4] / 1e6 / steps, ns[5] / 1e6 / steps,
        ns[6] / 1e6 / steps);
  }
}
