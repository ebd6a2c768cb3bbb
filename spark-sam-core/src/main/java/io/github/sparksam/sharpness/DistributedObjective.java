package io.github.sparksam.sharpness;

import io.github.sparksam.backend.LossStats;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.DataBlock;
import io.github.sparksam.nn.CurvatureWorkspace;
import io.github.sparksam.nn.Network;
import java.io.Serializable;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * The weighted mean cross-entropy of a network over the selected rows of cached
 * {@link BlockedPartition}s, with its gradient and exact Hessian-vector products (R-operator,
 * {@link CurvatureWorkspace}), each evaluation one distributed pass: broadcast the weights and the
 * directions, every task sweeps its rows once (in double precision, whatever the blocks' precision)
 * and returns sums, the driver adds the partitions' sums <em>in partition order</em> (deterministic
 * for a given partitioning) and divides by the weight sum. An HVP of a mean loss is a per-example
 * sum, so a block of b directions still costs one pass (PyHessian, Yao et al. 2020, does the same
 * per batch; spec section 2.1).
 */
public final class DistributedObjective implements Serializable {
  private static final long serialVersionUID = 1L;

  private final transient JavaRDD<BlockedPartition> data;
  private final Network net;
  private final RowSelection selection;
  private final int chunkRows;
  private transient long passes;

  public DistributedObjective(JavaRDD<BlockedPartition> data, Network net, RowSelection selection) {
    this(data, net, selection, 256);
  }

  public DistributedObjective(JavaRDD<BlockedPartition> data, Network net, RowSelection selection, int chunkRows) {
    this.data = data;
    this.net = net;
    this.selection = selection;
    this.chunkRows = chunkRows;
  }

  public Network network() { return net; }

  public RowSelection selection() { return selection; }

  /** Distributed passes run so far. */
  public long passes() { return passes; }

  /** What one pass computed: weighted mean loss and error, mean gradient and mean {@code H v_j} (when asked). */
  public record Result(double loss, double error, double weightSum, long rows, double[] gradient, double[][] hv) {}

  private record Payload(double[] w, boolean gradient, double[][] vs) implements Serializable {}

  private record Partial(LossStats stats, double[] grad, double[][] hv) implements Serializable {}

  /** One pass at {@code w}: loss, plus the gradient when {@code gradient}, plus {@code H v_j} for {@code vs} (may be null). */
  public Result evaluate(double[] w, boolean gradient, double[][] vs) {
    if (w.length != net.numParams()) {
      throw new IllegalArgumentException("weights have " + w.length + " entries, the model needs " + net.numParams());
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(data.context());
    Broadcast<Payload> bc = jsc.broadcast(new Payload(w, gradient, vs));
    Network n = net;
    RowSelection sel = selection;
    int chunk = chunkRows;
    List<Partial> parts;
    try {
      parts = data.map(p -> sweep(p, n, sel, chunk, bc.value())).collect();
    } finally {
      bc.destroy();
    }
    passes++;
    int dim = w.length;
    int nv = vs == null ? 0 : vs.length;
    LossStats stats = new LossStats();
    double[] g = gradient ? new double[dim] : null;
    double[][] hv = new double[nv][dim];
    for (Partial part : parts) {                  // partition order
      stats.merge(part.stats());
      if (part.stats().count == 0) continue;
      if (g != null) for (int i = 0; i < dim; i++) g[i] += part.grad()[i];
      for (int j = 0; j < nv; j++) for (int i = 0; i < dim; i++) hv[j][i] += part.hv()[j][i];
    }
    if (!(stats.weightSum > 0)) throw new IllegalArgumentException("no selected rows with positive weight (" + selection + ")");
    double inv = 1.0 / stats.weightSum;
    if (g != null) for (int i = 0; i < dim; i++) g[i] *= inv;
    for (double[] h : hv) for (int i = 0; i < dim; i++) h[i] *= inv;
    return new Result(stats.meanLoss(), 1 - stats.accuracy(), stats.weightSum, stats.count, g, hv);
  }

  private static Partial sweep(BlockedPartition p, Network net, RowSelection sel, int chunkRows, Payload pl) {
    int d = net.numFeatures();
    int dim = net.numParams();
    int nv = pl.vs() == null ? 0 : pl.vs().length;
    LossStats stats = new LossStats();
    double[] grad = pl.gradient() ? new double[dim] : null;
    double[][] hv = nv == 0 ? null : new double[nv][dim];
    CurvatureWorkspace ws = net.newCurvatureWorkspace(Math.min(chunkRows, Math.max(1, p.numRows)));
    double[] x = new double[chunkRows * d];
    double[] y = new double[chunkRows];
    double[] wt = new double[chunkRows];
    int n = 0;
    for (DataBlock b : p.blocks) {
      for (int row = 0; row < b.numRows; row++) {
        if (!sel.contains(b.ids[row])) continue;
        int off = n * d, src = row * d;
        for (int i = 0; i < d; i++) x[off + i] = b.features.get(src + i);
        y[n] = b.labels[row];
        wt[n] = b.weight(row);
        if (++n == chunkRows) {
          ws.accumulate(pl.w(), x, 0, n, y, wt, 0, grad, pl.vs(), hv, stats);
          n = 0;
        }
      }
    }
    if (n > 0) ws.accumulate(pl.w(), x, 0, n, y, wt, 0, grad, pl.vs(), hv, stats);
    return new Partial(stats, grad, hv);
  }

  /** The Hessian at {@code w} as an operator: each {@link HessianOperator#apply} is one pass. */
  public HessianOperator hessianAt(double[] w) {
    double[] at = w.clone();
    return new HessianOperator() {
      private long calls;

      @Override public int dim() { return at.length; }

      @Override public double[][] apply(double[][] vs) {
        calls++;
        return evaluate(at, false, vs).hv();
      }

      @Override public long passes() { return calls; }
    };
  }
}
