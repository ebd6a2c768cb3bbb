package io.github.sparksam.multiplicity;

import io.github.sparksam.data.BlockedPartition;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * The training objective of L2-regularised logistic regression,
 * {@code F(w) = sum_i v_i l(w; x_i, y_i) / sum_i v_i + (l2/2) ||coef||^2} (the bias is not
 * penalised, as in {@link io.github.sparksam.nn.WeightDecay}), evaluated with its gradient and
 * Hessian at <em>many</em> weight vectors per pass over cached float64 blocks.
 *
 * <p>One pass: the driver broadcasts a {@code p x B} matrix of weight vectors, every partition runs
 * {@link LogisticBatchKernel} (three GEMMs), the driver adds the partitions' sums in partition
 * order (so a result does not depend on task completion order) and destroys the broadcast. Points
 * beyond {@code maxBatch} go into further passes. {@link #passes()} counts the Spark jobs run.
 */
public final class LogisticObjective {
  private final JavaRDD<BlockedPartition> data;
  private final int p;
  private final double l2;
  private final int maxBatch;
  private long passes;
  private long evaluations;

  /** Loss, gradient and (when asked) Hessian of F at one point. */
  public record Value(double loss, double[] grad, double[][] hessian) {}

  /**
   * @param data     cached blocks in float64 with labels 0/1
   * @param numFeatures d (the parameter vector has d + 1 entries: coefficients then bias)
   * @param l2       the L2 penalty on the coefficients (>= 0)
   * @param maxBatch the most weight vectors one pass evaluates (bounds the p(p+1)/2 x B result); 0: as
   *                 many as keep each partition's Hessian sums within {@link #AUTO_BATCH_BYTES}
   */
  public LogisticObjective(JavaRDD<BlockedPartition> data, int numFeatures, double l2, int maxBatch) {
    if (!(l2 >= 0) || Double.isInfinite(l2)) throw new IllegalArgumentException("l2 must be finite and >= 0, got " + l2);
    if (maxBatch < 0) throw new IllegalArgumentException("maxBatch must be >= 0 (0: automatic), got " + maxBatch);
    this.data = data;
    this.p = numFeatures + 1;
    this.l2 = l2;
    this.maxBatch = maxBatch > 0 ? maxBatch
        : (int) Math.max(1, Math.min(4096, AUTO_BATCH_BYTES / (8L * LogisticBatchKernel.packedSize(p))));
  }

  /** Size of one partition's Hessian sums that an automatic batch size aims for. */
  public static final long AUTO_BATCH_BYTES = 32L << 20;

  public int numParams() { return p; }

  /** Weight vectors per pass. */
  public int maxBatch() { return maxBatch; }

  public double l2() { return l2; }

  /** Spark passes over the data so far. */
  public long passes() { return passes; }

  /** Points evaluated so far (over all passes). */
  public long evaluations() { return evaluations; }

  /** Evaluates F (and its derivatives) at every point, {@code ceil(points / maxBatch)} passes. */
  public List<Value> evaluate(List<double[]> points, boolean hessian) {
    List<Value> out = new ArrayList<>(points.size());
    for (int from = 0; from < points.size(); from += maxBatch) {
      out.addAll(pass(points.subList(from, Math.min(points.size(), from + maxBatch)), hessian));
    }
    return out;
  }

  private List<Value> pass(List<double[]> points, boolean hessian) {
    int b = points.size();
    double[] w = new double[p * b];
    for (int j = 0; j < b; j++) {
      double[] pt = points.get(j);
      if (pt.length != p) throw new IllegalArgumentException("a point has " + pt.length + " entries, expected " + p);
      System.arraycopy(pt, 0, w, j * p, p);
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(data.context());
    Broadcast<double[]> bc = jsc.broadcast(w);
    final int pp = p;
    List<LogisticBatchKernel.Sums> parts;
    try {
      parts = data.map(part -> LogisticBatchKernel.evaluate(part, bc.value(), pp, b, hessian)).collect();
    } catch (Exception e) {
      throw Errors.rethrow(e);
    } finally {
      bc.destroy();
    }
    passes++;
    evaluations += b;
    LogisticBatchKernel.Sums total = new LogisticBatchKernel.Sums(p, b, hessian);
    for (LogisticBatchKernel.Sums s : parts) total.merge(s);     // partition order
    if (!(total.weightSum > 0)) throw new IllegalArgumentException("the training data has no rows (or zero total weight)");
    double inv = 1.0 / total.weightSum;
    int np = LogisticBatchKernel.packedSize(p);
    List<Value> out = new ArrayList<>(b);
    for (int j = 0; j < b; j++) {
      double[] pt = points.get(j);
      double pen = 0;
      double[] g = new double[p];
      for (int i = 0; i < p; i++) g[i] = total.grad[j * p + i] * inv;
      for (int i = 0; i < p - 1; i++) {
        pen += pt[i] * pt[i];
        g[i] += l2 * pt[i];
      }
      double loss = total.loss[j] * inv + 0.5 * l2 * pen;
      double[][] h = null;
      if (hessian) {
        h = new double[p][p];
        for (int c = 0; c < p; c++) {
          for (int r = 0; r <= c; r++) {
            double v = total.hess[j * np + LogisticBatchKernel.packed(r, c)] * inv;
            h[r][c] = v;
            h[c][r] = v;
          }
        }
        for (int i = 0; i < p - 1; i++) h[i][i] += l2;
      }
      out.add(new Value(loss, g, h));
    }
    return out;
  }
}
