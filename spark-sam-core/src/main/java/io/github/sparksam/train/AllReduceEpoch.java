package io.github.sparksam.train;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.collective.Rendezvous;
import io.github.sparksam.collective.RingAllReduce;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.optim.OptimizerState;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * {@code aggregation = allReduce}: the steps of one epoch run inside <em>one</em> Spark barrier
 * stage instead of one job per step. Every task holds a replica of the weights, the optimizer state
 * and the update rule; per pass it computes its partition's sum, the tasks add their sums with a
 * {@link RingAllReduce} (in partition order, so the sum is bit for bit the driver's), and every
 * replica applies the same update. The math, and the weights, are those of
 * {@code aggregation = collect}; what goes away is a Spark job (scheduling, closure and
 * broadcast, result collection) per step.
 *
 * <p>The epoch's start is the recovery point: if any task fails, Spark kills the others and runs
 * the whole barrier stage again from the broadcast start state (the weights at the end of the
 * previous epoch, or of a resumed checkpoint). Divergence is detected identically by every replica
 * and returned, not thrown, so that Spark does not retry a deterministic failure.
 */
final class AllReduceEpoch {
  private AllReduceEpoch() {}

  /** What every task of the stage starts from: one broadcast per epoch. */
  record Payload(double[] params, OptimizerState state, LossStats epochStats, byte[] rule, OptimizerStep optimizerStep,
                 int epoch, int firstStep, long firstGlobalStep, double[] rates, Rendezvous.Address rendezvous,
                 long timeoutMillis) implements Serializable {}

  /**
   * One task's outcome. Rank 0 carries the replicas' end state (every rank has the same); every
   * rank its recovery accounting and where its time went.
   */
  record Result(int rank, int stageAttempt, boolean freshWorker, double[] params, OptimizerState state,
                LossStats epochStats, UpdateRule rule, TrainingDivergedException diverged, double seconds,
                double collectiveSeconds, double cpuSeconds) implements Serializable {}

  /** A serializable Scala function, for {@code RDDBarrier.mapPartitions}. */
  private interface PartitionFn<T, U>
      extends scala.Function1<scala.collection.Iterator<T>, scala.collection.Iterator<U>>, Serializable {}

  /**
   * Runs the stage; results in partition order. The barrier stage writes its results to a shuffle
   * read by a one-task stage: Spark retries a failed barrier <em>shuffle-map</em> stage as a whole,
   * while a failed barrier result stage would abort the job.
   */
  static List<Result> run(JavaRDD<BlockedPartition> data, DistributedTrainer.Setup setup, Broadcast<Payload> bc) {
    ClassTag<Result> tag = ClassTag$.MODULE$.apply(Result.class);
    PartitionFn<BlockedPartition, Result> f = it -> {
      Result r = runTask(setup, it.next(), bc.value());
      return scala.collection.JavaConverters.asScalaIterator(Collections.singletonList(r).iterator());
    };
    RDD<Result> stage = data.rdd().barrier().mapPartitions(f, false, tag);
    List<Result> out = new java.util.ArrayList<>(JavaRDD.fromRDD(stage, tag).repartition(1).collect());
    out.sort(java.util.Comparator.comparingInt(Result::rank));
    return out;
  }

  private static Result runTask(DistributedTrainer.Setup setup, BlockedPartition p, Payload pl) {
    BarrierTaskContext tc = BarrierTaskContext.get();
    int rank = tc.partitionId(), size = tc.getTaskInfos().length, attempt = tc.stageAttemptNumber();
    long t0 = System.nanoTime(), cpu0 = threadCpuNanos();
    PartitionWorker w = setup.worker(p);
    boolean fresh = w.takeFresh();
    UpdateRule rule;
    try {
      rule = (UpdateRule) JavaSerialization.object(pl.rule());    // a replica per task, also in local mode
    } catch (IOException | ClassNotFoundException e) {
      throw new IllegalStateException("cannot read the update rule in a task: " + e, e);
    }
    Replica replica = new Replica(w, p, pl);
    try (RingAllReduce ring = RingAllReduce.join(pl.rendezvous(), Rendezvous.stageKey(tc.stageId(), attempt), rank, size, pl.timeoutMillis(),
        () -> !tc.isInterrupted())) {
      replica.ring = ring;
      long globalStep = pl.firstGlobalStep();
      for (int s = pl.firstStep(); s < setup.stepsPerEpoch(); s++, globalStep++) {
        StepContext ctx = new StepContext(replica, pl.epoch(), s, globalStep, pl.rates()[s - pl.firstStep()]);
        try {
          rule.step(ctx);
        } catch (TrainingDivergedException e) {
          return new Result(rank, attempt, fresh, null, null, null, null, e, seconds(t0), replica.collectiveNanos / 1e9,
              cpuSeconds(cpu0));
        }
        if (!ctx.updated()) throw new IllegalStateException("rule " + rule.name() + " did not apply an update");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("all-reduce of partition " + rank + " failed in epoch " + (pl.epoch() + 1) + ": "
          + e.getMessage(), e);
    }
    boolean carries = rank == 0;
    return new Result(rank, attempt, fresh, carries ? replica.params : null, carries ? replica.state : null,
        carries ? replica.epochStats : null, carries ? rule : null, null, seconds(t0), replica.collectiveNanos / 1e9,
        cpuSeconds(cpu0));
  }

  private static double seconds(long t0) { return (System.nanoTime() - t0) / 1e9; }

  /**
   * This thread's CPU time, or -1 where the JVM does not measure it. Set against the wall-clock time
   * of a task, it tells time on a core from time waiting for one (other threads, other JVMs).
   */
  private static long threadCpuNanos() {
    java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
    return mx.isCurrentThreadCpuTimeSupported() ? mx.getCurrentThreadCpuTime() : -1;
  }

  private static double cpuSeconds(long cpu0) {
    long now = threadCpuNanos();
    return cpu0 < 0 || now < 0 ? Double.NaN : (now - cpu0) / 1e9;
  }

  /** One task's copy of the training state, and the step engine the rule drives. */
  private static final class Replica implements StepEngine {
    private final PartitionWorker worker;
    private final BlockedPartition part;
    private final OptimizerStep optimizerStep;
    private final double[] params;
    private final OptimizerState state;
    private final LossStats epochStats;
    private final double[] sum;
    private RingAllReduce ring;
    private long collectiveNanos;

    Replica(PartitionWorker worker, BlockedPartition part, Payload pl) {
      this.worker = worker;
      this.part = part;
      this.optimizerStep = pl.optimizerStep();
      this.params = pl.params().clone();
      this.state = pl.state().copy();
      this.epochStats = new LossStats().merge(pl.epochStats());
      this.sum = new double[params.length];
    }

    @Override public double[] params() { return params; }

    @Override public StepContext.Pass pass(LocalRule rule, double[] at, int epoch, int step) {
      LocalBatch batch = worker.batch(epoch, step);
      LossStats stats = new LossStats();
      Buf grad = worker.scratch(1);
      grad.zero(0, grad.length());
      if (!batch.isEmpty()) {
        Buf p = worker.scratch(0);
        p.setFrom(at, 0, 0, at.length);
        rule.direction(worker, p, batch, grad, stats);
      }
      FaultInjection.maybeFail(part, epoch, step);
      long c0 = System.nanoTime();
      byte[][] all;
      // sum is reused: a pass's sum is valid until the next pass (see StepContext.Pass)
      try {
        if (grad instanceof Buf.FloatBuf f) {
          all = ring.allReduce(f.a, sum.length, sum, stats.toBytes());    // float32 addends, summed in float64
        } else {
          grad.copyTo(sum, 0, 0, sum.length);      // as the driver's path adds it into a zeroed array
          all = ring.allReduce(sum, stats.toBytes());
        }
      } catch (IOException e) {
        throw new UncheckedIOException("all-reduce of partition " + ring.rank() + " failed at epoch " + (epoch + 1)
            + ", step " + (step + 1) + ": " + e.getMessage(), e);
      }
      collectiveNanos += System.nanoTime() - c0;
      LossStats total = new LossStats();
      for (byte[] b : all) total.merge(LossStats.fromBytes(b));   // partition order, as on the driver
      return new StepContext.Pass(sum, total);
    }

    @Override public void applyUpdate(double[] meanDirection, LossStats stats, StepContext ctx) {
      optimizerStep.applyChecked(params, meanDirection, stats, ctx, state);
      epochStats.merge(stats);
    }
  }
}
