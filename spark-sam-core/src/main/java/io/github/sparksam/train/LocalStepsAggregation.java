package io.github.sparksam.train;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.optim.OptimizerState;
import java.io.Serializable;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * {@code localSteps = K > 1}: each task takes K optimizer steps on its own slices of K consecutive
 * steps' batches, and the driver averages the models (and optimizer states) in partition order,
 * weighted by the example weight each partition saw: one Spark job per K steps (local SGD).
 */
final class LocalStepsAggregation implements AggregationEngine {
  private final DistributedTrainer trainer;

  LocalStepsAggregation(DistributedTrainer trainer) { this.trainer = trainer; }

  @Override public Aggregation kind() { return Aggregation.COLLECT; }

  /** The broadcast of a round of local steps: start weights and optimizer state, the steps' learning rates. */
  private record LocalPayload(double[] params, OptimizerState state, int epoch, int firstStep, double[] rates,
                              LocalRule rule, OptimizerStep optimizerStep) implements Serializable {}

  /** One partition's models after its local steps, pre-multiplied by the example weight it saw. */
  private record LocalResult(double[] weightedParams, double[][] weightedSlots, double weight, LossStats stats,
                             String failure, int attempt, boolean freshWorker) implements Serializable {}

  @Override public int runSteps(int epoch, int firstStep, long globalStep) {
    DistributedTrainer t = trainer;
    int k = Math.min(t.cfg.localSteps(), t.stepsPerEpoch - firstStep);
    double[] rates = new double[k];
    for (int i = 0; i < k; i++) rates[i] = t.rate(globalStep + i);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(t.data.context());
    Broadcast<LocalPayload> bc = jsc.broadcast(new LocalPayload(t.params, t.state, epoch, firstStep, rates,
        t.rule.localRule(), t.optimizerStep));
    DistributedTrainer.Setup setup = t.setup();
    List<LocalResult> parts;
    try {
      parts = CollectAggregation.onEveryPartition(t.data, (p, index) -> {
        PartitionWorker w = setup.worker(p);
        boolean fresh = w.takeFresh();
        LocalResult r = runLocalSteps(w, bc.value());
        FaultInjection.maybeFail(p, epoch, firstStep);
        org.apache.spark.TaskContext tc = org.apache.spark.TaskContext.get();
        return new LocalResult(r.weightedParams(), r.weightedSlots(), r.weight(), r.stats(), r.failure(),
            tc == null ? 0 : tc.attemptNumber(), fresh);
      });
    } finally {
      bc.destroy();
    }
    for (int i = 0; i < parts.size(); i++) t.account(i, parts.get(i).attempt(), parts.get(i).freshWorker(), epoch, firstStep);
    double total = 0;
    LossStats stats = new LossStats();
    for (LocalResult r : parts) {
      if (r.failure() != null) {
        throw new TrainingDivergedException(epoch, firstStep, globalStep, r.failure() + " in a local step of partition "
            + "work", TrainingDivergedException.learningRateHint(rates[0]));
      }
      total += r.weight();
      stats.merge(r.stats());
    }
    if (!(total > 0)) throw new IllegalStateException("no partition saw any example weight in steps " + firstStep + "+" + k);
    double[] avg = new double[t.params.length];
    OptimizerState state = t.state;
    double[][] slots = new double[state.slots.length][t.params.length];
    for (LocalResult r : parts) {
      if (r.weight() == 0) continue;
      for (int i = 0; i < avg.length; i++) avg[i] += r.weightedParams()[i];
      for (int s = 0; s < slots.length; s++) {
        for (int i = 0; i < avg.length; i++) slots[s][i] += r.weightedSlots()[s][i];
      }
    }
    for (int i = 0; i < avg.length; i++) avg[i] /= total;
    for (int s = 0; s < slots.length; s++) {
      for (int i = 0; i < avg.length; i++) state.slots[s][i] = slots[s][i] / total;
    }
    for (double v : avg) {
      if (!Double.isFinite(v)) {
        throw new TrainingDivergedException(epoch, firstStep, globalStep, "the averaged weights are not finite",
            TrainingDivergedException.learningRateHint(rates[0]));
      }
    }
    if (!Double.isFinite(stats.lossSum)) {
      throw new TrainingDivergedException(epoch, firstStep, globalStep, "the loss is " + stats.lossSum,
          TrainingDivergedException.learningRateHint(rates[0]));
    }
    t.params = avg;
    state.step += k;
    t.epochStats.merge(stats);
    return k;
  }

  private static LocalResult runLocalSteps(PartitionWorker w, LocalPayload pl) {
    double[] local = pl.params().clone();
    OptimizerState st = pl.state().copy();
    LossStats all = new LossStats();
    double seen = 0;
    Buf params = w.scratch(0);
    Buf grad = w.scratch(1);
    double[] dir = new double[local.length];
    for (int i = 0; i < pl.rates().length; i++) {
      LocalBatch batch = w.batch(pl.epoch(), pl.firstStep() + i);
      if (batch.isEmpty()) continue;
      LossStats stats = new LossStats();
      params.setFrom(local, 0, 0, local.length);
      grad.zero(0, grad.length());
      pl.rule().direction(w, params, batch, grad, stats);
      if (!(stats.weightSum > 0)) continue;
      if (!Double.isFinite(stats.lossSum)) return new LocalResult(null, null, 0, all, "the loss is " + stats.lossSum, 0, false);
      java.util.Arrays.fill(dir, 0.0);
      grad.addTo(dir, 0, 0, dir.length, 1.0 / stats.weightSum);
      if (!pl.optimizerStep().apply(local, dir, pl.rates()[i], st)) {
        return new LocalResult(null, null, 0, all, OptimizerStep.NON_FINITE_DIRECTION, 0, false);
      }
      seen += stats.weightSum;
      all.merge(stats);
    }
    for (int i = 0; i < local.length; i++) local[i] *= seen;
    for (double[] slot : st.slots) for (int i = 0; i < slot.length; i++) slot[i] *= seen;
    return new LocalResult(local, st.slots, seen, all, null, 0, false);
  }
}
