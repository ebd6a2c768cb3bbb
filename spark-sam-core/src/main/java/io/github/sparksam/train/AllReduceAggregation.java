package io.github.sparksam.train;

import io.github.sparksam.collective.Rendezvous;
import java.util.List;
import java.util.Locale;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code aggregation = allReduce}: the rest of an epoch as one barrier stage ({@link AllReduceEpoch});
 * the driver only opens the rendezvous, broadcasts the start state and takes over the replicas'
 * end state. Requested checkpoints wait for the end of the epoch.
 */
final class AllReduceAggregation implements AggregationEngine {
  private static final Logger LOG = LoggerFactory.getLogger(AllReduceAggregation.class);

  private final DistributedTrainer trainer;
  private final long timeoutMillis;
  private final Rendezvous rendezvous;

  AllReduceAggregation(DistributedTrainer trainer, long timeoutMillis) {
    this.trainer = trainer;
    this.timeoutMillis = timeoutMillis;
    SparkContext sc = trainer.data.context();
    try {
      this.rendezvous = Rendezvous.start(sc.conf(), trainer.runId());   // #15: a per-fit secret, Spark's host and ports
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("aggregation=allReduce: cannot open the rendezvous port on the driver: "
          + e.getMessage(), e);
    }
  }

  @Override public Aggregation kind() { return Aggregation.ALL_REDUCE; }

  @Override public String channelToken() { return trainer.runId(); }   // the in-JVM channels are keyed by the run id

  @Override public void close() { rendezvous.close(); }

  /** Why {@code localSteps} rules allReduce out, or null. */
  static String localStepsObstacle(int localSteps) {
    return localSteps == 1 ? null : "aggregation=allReduce synchronizes every step; it cannot be combined with "
        + "localSteps=" + localSteps + " (use one or the other)";
  }

  /** Why a fit with {@code partitions} partitions cannot run with allReduce on this cluster now, or null if it can. */
  static String obstacle(SparkContext sc, int partitions, int localSteps) {
    if (localStepsObstacle(localSteps) != null) return localStepsObstacle(localSteps);
    if (sc.conf().getBoolean("spark.dynamicAllocation.enabled", false)) {
      return "aggregation=allReduce runs each epoch as a barrier stage, which Spark does not run with dynamic "
          + "allocation (spark.dynamicAllocation.enabled=true); use aggregation=tree or collect";
    }
    int slots = DistributedTrainer.taskSlots(sc);
    if (partitions > slots) {
      return "aggregation=allReduce runs all " + partitions + " partitions at once (a barrier stage) but the cluster has "
          + slots + " task slots now; use at most " + slots + " partitions (numPartitions) or aggregation=tree or collect";
    }
    return null;
  }

  /** Steps {@code firstStep..} of {@code epoch} as one barrier stage; takes over the replicas' state at the end. */
  @Override public int runSteps(int epoch, int firstStep, long globalStep) {
    DistributedTrainer t = trainer;
    int n = t.stepsPerEpoch - firstStep;
    double[] rates = new double[n];
    for (int i = 0; i < n; i++) rates[i] = t.rate(globalStep + i);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(t.data.context());
    Broadcast<AllReduceEpoch.Payload> bc = jsc.broadcast(new AllReduceEpoch.Payload(t.params, t.state, t.epochStats,
        JavaSerialization.bytes(t.rule), t.optimizerStep, epoch, firstStep, globalStep, rates, rendezvous.address(),
        timeoutMillis));
    List<AllReduceEpoch.Result> parts;
    try {
      parts = AllReduceEpoch.run(t.data, t.setup(), bc);
    } finally {
      bc.destroy();
    }
    AllReduceEpoch.Result carrier = null;
    double collective = 0, busiest = 0, busiestCpu = Double.NaN;
    for (AllReduceEpoch.Result r : parts) {
      t.account(r.rank(), 0, r.freshWorker(), epoch, firstStep);
      if (r.diverged() != null) throw r.diverged();
      if (r.rank() == 0) carrier = r;
      collective = Math.max(collective, r.collectiveSeconds());
      if (r.seconds() >= busiest) busiestCpu = r.cpuSeconds();
      busiest = Math.max(busiest, r.seconds());
    }
    int stageAttempt = parts.get(0).stageAttempt();
    if (stageAttempt > 0) {
      t.failedTaskAttempts += stageAttempt;
      t.note(String.format(Locale.ROOT, "epoch %d: a task failed; the barrier stage ran again from step %d (stage "
          + "attempt %d)", epoch + 1, firstStep + 1, stageAttempt + 1));
    }
    if (carrier == null) throw new IllegalStateException("no result from partition 0 of the all-reduce stage");
    t.params = carrier.params();
    t.state = carrier.state();
    t.epochStats = carrier.epochStats();
    t.rule = carrier.rule();
    LOG.info(String.format(Locale.ROOT, "spark-sam: all-reduce epoch %d: tasks busy up to %.3f s (that task on a core "
        + "for %.3f s), of which %.3f s in the collective (including waits for the slowest task)", epoch + 1, busiest,
        busiestCpu, collective));
    return n;
  }
}
