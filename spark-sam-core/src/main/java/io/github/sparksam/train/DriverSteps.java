package io.github.sparksam.train;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.data.BlockedPartition;
import java.io.Serializable;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Synchronous steps driven from the driver, one Spark job per pass: broadcast where to evaluate,
 * every task computes its partition's weighted sum ({@link #partialSum}), the subclass brings the
 * sums together ({@link CollectAggregation}: all to the driver; {@link TreeAggregation}: through a
 * fixed tree), and the driver applies the optimizer to its weights.
 */
abstract class DriverSteps implements AggregationEngine, StepEngine {
  protected final DistributedTrainer trainer;

  DriverSteps(DistributedTrainer trainer) { this.trainer = trainer; }

  /** The broadcast of one pass: where to evaluate, and which rule. */
  record PassPayload(double[] at, int epoch, int step, LocalRule rule) implements Serializable {}

  /**
   * The sum over some partitions of one pass, and for each of them its task attempt and whether
   * its task-local state was new (recovery accounting, see {@link DistributedTrainer}).
   * {@code sum} is null when none of them had rows in the step.
   */
  record PartialSum(PackedDoubles sum, LossStats stats, int[] partitions, int[] attempts, boolean[] fresh)
      implements Serializable {

    /** The sum of {@code parts} added in the given order (the order decides the rounding). */
    static PartialSum add(List<PartialSum> parts, int numParams) {
      double[] total = null;
      LossStats stats = new LossStats();
      int n = 0;
      for (PartialSum p : parts) n += p.partitions().length;
      int[] partitions = new int[n], attempts = new int[n];
      boolean[] fresh = new boolean[n];
      int k = 0;
      for (PartialSum p : parts) {
        if (p.sum() != null) {
          if (total == null) total = new double[numParams];
          p.sum().addTo(total);
        }
        stats.merge(p.stats());
        System.arraycopy(p.partitions(), 0, partitions, k, p.partitions().length);
        System.arraycopy(p.attempts(), 0, attempts, k, p.attempts().length);
        System.arraycopy(p.fresh(), 0, fresh, k, p.fresh().length);
        k += p.partitions().length;
      }
      return new PartialSum(total == null ? null : PackedDoubles.of(total), stats, partitions, attempts, fresh);
    }
  }

  /** One partition's part of a pass: its rows of the step, the rule's direction summed over them. */
  static PartialSum partialSum(DistributedTrainer.Setup setup, BlockedPartition p, int index, PassPayload pl) {
    PartitionWorker w = setup.worker(p);
    boolean fresh = w.takeFresh();
    org.apache.spark.TaskContext tc = org.apache.spark.TaskContext.get();
    int[] attempt = {tc == null ? 0 : tc.attemptNumber()};
    LocalBatch batch = w.batch(pl.epoch(), pl.step());
    LossStats stats = new LossStats();
    PackedDoubles sum = null;
    if (!batch.isEmpty()) {
      Buf params = w.scratch(0);
      params.setFrom(pl.at(), 0, 0, pl.at().length);
      Buf grad = w.scratch(1);
      grad.zero(0, grad.length());
      pl.rule().direction(w, params, batch, grad, stats);
      sum = PackedDoubles.of(grad);
    }
    FaultInjection.maybeFail(p, pl.epoch(), pl.step());
    return new PartialSum(sum, stats, new int[] {index}, attempt, new boolean[] {fresh});
  }

  @Override public int runSteps(int epoch, int firstStep, long globalStep) {
    StepContext ctx = new StepContext(this, epoch, firstStep, globalStep, trainer.rate(globalStep));
    trainer.rule.step(ctx);
    if (!ctx.updated()) throw new IllegalStateException("rule " + trainer.rule.name() + " did not apply an update");
    return 1;
  }

  @Override public double[] params() { return trainer.params; }

  @Override public StepContext.Pass pass(LocalRule rule, double[] at, int epoch, int step) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(trainer.data.context());
    Broadcast<PassPayload> bc = jsc.broadcast(new PassPayload(at, epoch, step, rule));
    PartialSum total;
    try {
      total = sumOverPartitions(bc, trainer.setup());
    } finally {
      bc.destroy();
    }
    for (int i = 0; i < total.partitions().length; i++) {
      trainer.account(total.partitions()[i], total.attempts()[i], total.fresh()[i], epoch, step);
    }
    double[] sum = total.sum() == null ? new double[at.length] : total.sum().toArray();
    return new StepContext.Pass(sum, total.stats());
  }

  /**
   * Runs {@link #partialSum} on every partition in one job and returns the sum over all of them,
   * deterministically: its rounding depends on the partition indices only, never on which task ends first.
   */
  protected abstract PartialSum sumOverPartitions(Broadcast<PassPayload> bc, DistributedTrainer.Setup setup);

  @Override public void applyUpdate(double[] meanDirection, LossStats stats, StepContext ctx) {
    trainer.optimizerStep.applyChecked(trainer.params, meanDirection, stats, ctx, trainer.state);
    trainer.epochStats.merge(stats);
  }
}
