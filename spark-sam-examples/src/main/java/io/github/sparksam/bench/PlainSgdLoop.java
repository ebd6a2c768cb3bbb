package io.github.sparksam.bench;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.nn.Network;
import io.github.sparksam.optim.Optimizer;
import io.github.sparksam.optim.OptimizerState;
import io.github.sparksam.optim.Sgd;
import io.github.sparksam.train.BatchPermutation;
import java.util.Arrays;

/**
 * The limit the distributed trainer is measured against: the same minibatch SGD on the same
 * network, BLAS, float32 kernels and batches (the same {@link BatchPermutation} order), in one
 * thread of one process, with no Spark at all.
 */
public final class PlainSgdLoop {
  private PlainSgdLoop() {}

  /** Per-epoch wall time (training only) and test accuracy after each epoch. */
  public record Result(double[] epochSeconds, double[] testAccuracy, double finalTrainLoss) {}

  public static Result run(Network net, LocalData train, LocalData test, int epochs, int batchSize, double lr, long seed) {
    return run(net, train, test, epochs, batchSize, new io.github.sparksam.optim.ConstantRate(lr), seed);
  }

  /** The same with a learning-rate schedule over {@code epochs * steps} updates. */
  public static Result run(Network net, LocalData train, LocalData test, int epochs, int batchSize,
                           io.github.sparksam.optim.LearningRateSchedule schedule, long seed) {
    CpuBackend be = CpuBackend.FLOAT32;
    int d = train.features(), n = train.rows();
    double[] params = net.initialParams(seed);
    Optimizer opt = new Sgd();
    OptimizerState state = opt.init(params.length);
    Buf p = be.allocate(params.length);
    Buf g = be.allocate(params.length);
    Buf x = be.allocate(batchSize * d);
    double[] labels = new double[batchSize];
    double[] grad = new double[params.length];
    Network.Workspace ws = net.newWorkspace(be, batchSize);
    int steps = (n + batchSize - 1) / batchSize;
    double[] secs = new double[epochs];
    double[] acc = new double[epochs];
    double lastLoss = Double.NaN;
    for (int e = 0; e < epochs; e++) {
      int[] order = order(n, seed, e);
      LossStats stats = new LossStats();
      long t0 = System.nanoTime();
      for (int s = 0; s < steps; s++) {
        int from = s * batchSize, m = Math.min(batchSize, n - from);
        for (int j = 0; j < m; j++) {
          int r = order[from + j];
          System.arraycopy(train.x(), r * d, ((Buf.FloatBuf) x).a, j * d, d);
          labels[j] = train.y()[r];
        }
        p.setFrom(params, 0, 0, params.length);
        g.zero(0, params.length);
        net.lossAndGradient(p, x, m, labels, null, 0, 0.0, g, ws, stats);
        Arrays.fill(grad, 0.0);
        g.addTo(grad, 0, 0, params.length, 1.0 / m);
        opt.step(params, grad, schedule.rate((long) e * steps + s, (long) epochs * steps), state);
      }
      secs[e] = (System.nanoTime() - t0) / 1e9;
      lastLoss = stats.meanLoss();
      acc[e] = accuracy(net, params, test);
    }
    return new Result(secs, acc, lastLoss);
  }

  /** Rows in the epoch's order: row r goes to position {@code permutation(r)}. */
  static int[] order(int n, long seed, int epoch) {
    BatchPermutation perm = new BatchPermutation(n, seed, epoch);
    int[] order = new int[n];
    for (int r = 0; r < n; r++) order[(int) perm.position(r)] = r;
    return order;
  }

  /** Test accuracy of {@code params} (float32 forward in chunks of 1000 rows). */
  public static double accuracy(Network net, double[] params, LocalData test) {
    CpuBackend be = CpuBackend.FLOAT32;
    int d = test.features(), chunk = 1000, k = net.numOutputs();
    Buf p = be.allocate(params.length);
    p.setFrom(params, 0, 0, params.length);
    Network.Workspace ws = net.newWorkspace(be, chunk);
    Buf x = be.allocate(chunk * d);
    long correct = 0;
    for (int from = 0; from < test.rows(); from += chunk) {
      int m = Math.min(chunk, test.rows() - from);
      System.arraycopy(test.x(), from * d, ((Buf.FloatBuf) x).a, 0, m * d);
      Buf logits = net.forward(p, x, m, ws);
      for (int j = 0; j < m; j++) {
        int arg = 0;
        if (k == 1) {
          arg = logits.get(j) > 0 ? 1 : 0;
        } else {
          for (int c = 1; c < k; c++) if (logits.get(j * k + c) > logits.get(j * k + arg)) arg = c;
        }
        if (arg == (int) test.y()[from + j]) correct++;
      }
    }
    return correct / (double) test.rows();
  }

}
