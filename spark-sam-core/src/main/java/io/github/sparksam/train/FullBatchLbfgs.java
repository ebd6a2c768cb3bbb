package io.github.sparksam.train;

import io.github.sparksam.backend.BlasInfo;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.DataSummary;
import io.github.sparksam.nn.Network;
import io.github.sparksam.nn.WeightDecay;
import io.github.sparksam.optim.Lbfgs;
import io.github.sparksam.sharpness.DistributedObjective;
import io.github.sparksam.sharpness.RowSelection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Full-batch training with L-BFGS ({@link Lbfgs}, Breeze's implementation): minimises the weighted
 * mean cross-entropy over all cached rows plus the coupled L2 penalty {@code (l2/2) ||W||^2} on the
 * weights (not the biases), which is MLlib's {@code LogisticRegression} objective with
 * {@code regParam = l2}, {@code elasticNetParam = 0}, {@code standardization = false}.
 *
 * <p>Each objective evaluation is one distributed pass of {@link DistributedObjective}: the
 * weights are broadcast, every task sweeps its cached rows in double precision, and the driver adds
 * the partitions' sums in partition order; so a fit is deterministic for a given partitioning, and
 * partitionings differ only by the rounding of that sum. The line search may take more than one
 * pass per iteration; the summary's per-iteration {@code steps} counts them. The step-based
 * trainer's aggregation modes do not apply: a pass is one {@code collect} whatever the setting.
 *
 * <p>One {@link EpochMetrics} per L-BFGS iteration (so {@code epochs} is {@code maxIter}): the mean
 * data loss and accuracy at the accepted iterate, with the objective and gradient norm as metrics.
 */
public final class FullBatchLbfgs {
  private static final Logger LOG = LoggerFactory.getLogger(FullBatchLbfgs.class);

  private final JavaRDD<BlockedPartition> data;
  private final DataSummary summary;
  private final Network net;
  private final double l2;
  private final Lbfgs lbfgs;
  private EpochListener listener;

  /** @param l2 the L2 penalty on the weights (>= 0) */
  public FullBatchLbfgs(JavaRDD<BlockedPartition> data, DataSummary summary, Network net, double l2, Lbfgs lbfgs) {
    if (!(l2 >= 0) || Double.isInfinite(l2)) throw new IllegalArgumentException("l2 must be >= 0 and finite, got " + l2);
    this.data = data;
    this.summary = summary;
    this.net = net;
    this.l2 = l2;
    this.lbfgs = lbfgs;
  }

  /** Called after every iteration with that iteration's metrics and the current weights. */
  public FullBatchLbfgs setEpochListener(EpochListener l) {
    this.listener = l;
    return this;
  }

  /** Minimises from {@code init}; the result's optimizer state is null (L-BFGS keeps no resumable state). */
  public TrainingResult train(double[] init) {
    if (init.length != net.numParams()) {
      throw new IllegalArgumentException("initial weights have " + init.length + " entries, the model needs "
          + net.numParams());
    }
    DistributedObjective objective = new DistributedObjective(data, net, RowSelection.all());
    double[] mask = net.layout().weightMask();
    DistributedObjective.Result[] last = new DistributedObjective.Result[1];
    double[][] lastAt = new double[1][];
    Lbfgs.Objective f = (w, grad) -> {
      DistributedObjective.Result r = objective.evaluate(w, true, null);
      System.arraycopy(r.gradient(), 0, grad, 0, grad.length);
      last[0] = r;
      lastAt[0] = w.clone();
      return r.loss() + WeightDecay.addTo(w, grad, l2, mask);
    };
    List<EpochMetrics> epochs = new ArrayList<>();
    long t0 = System.nanoTime();
    long[] mark = {t0, 0};
    Lbfgs.Result res = lbfgs.minimize(f, init, (it, value, gradNorm, evals, w) -> {
      long now = System.nanoTime();
      // the line search's last evaluation is normally the accepted point; if not, its data terms are unknown
      boolean atW = java.util.Arrays.equals(w, lastAt[0]);
      double loss = atW ? last[0].loss() : Double.NaN;
      double acc = atW ? 1 - last[0].error() : Double.NaN;
      double secs = (now - mark[0]) / 1e9;
      EpochMetrics m = new EpochMetrics(it, evals - mark[1], loss, acc, secs, (evals - mark[1]) / secs,
          Map.of("objective", value, "gradientNorm", gradNorm));
      mark[0] = now;
      mark[1] = evals;
      epochs.add(m);
      LOG.info("spark-sam lbfgs: iteration {}: objective {} |grad| {} ({} passes so far)", it, value, gradNorm, evals);
      if (listener != null) listener.onEpochEnd(m, net, w);
    });
    LOG.info("spark-sam lbfgs: stopped after {} iterations and {} passes ({}): objective {} |grad| {}",
        res.iterations(), res.evaluations(), res.stopReason(), res.value(), res.gradientNorm());
    TrainingSummary s = new TrainingSummary(epochs, (System.nanoTime() - t0) / 1e9, BlasInfo.describe(),
        summary.numRows(), data.getNumPartitions(), 1, "none", "lbfgs");
    s.setComputeBackend("cpu (float64 full-batch passes)");
    s.setAggregation("collect (partition order)");
    return new TrainingResult(res.weights(), null, s);
  }
}
