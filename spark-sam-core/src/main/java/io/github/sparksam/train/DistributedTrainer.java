package io.github.sparksam.train;

import io.github.sparksam.backend.BlasInfo;
import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.ComputeBackends;
import io.github.sparksam.backend.GpuUnavailableException;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.backend.Precision;
import io.github.sparksam.collective.Rendezvous;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.DataSummary;
import io.github.sparksam.nn.Network;
import io.github.sparksam.optim.LearningRateSchedule;
import io.github.sparksam.optim.Optimizer;
import io.github.sparksam.optim.OptimizerState;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synchronous data-parallel training over cached {@link BlockedPartition}s.
 *
 * <p>One step: broadcast the weights; every task takes its rows of the step's global batch (chosen
 * by the seeded {@link BatchPermutation}, so independent of the partitioning), runs the rule's
 * {@link LocalRule} on them and returns a weighted sum; the driver adds the partitions' sums in
 * partition order (bit-identical across runs, unlike {@code treeAggregate}'s completion order),
 * applies the optimizer and destroys the broadcast. With {@code localSteps = K > 1} each task
 * instead takes K optimizer steps on its own slices and the driver averages the models (and
 * optimizer states), weighted by the example weight each partition saw.
 *
 * <p>With {@code aggregation = allReduce} an epoch runs as one barrier stage instead
 * ({@link AllReduceEpoch}): every task steps a replica and the partitions' sums are added by a
 * partition-order ring all-reduce, giving the same weights without a Spark job per step.
 *
 * <p>The loop knows neither the optimizer nor the rule: it calls {@link UpdateRule#step} and
 * {@link LocalRule#direction}. Progress: one log line per epoch and a Spark job description per
 * step (per epoch with allReduce).
 */
public final class DistributedTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(DistributedTrainer.class);

  private final JavaRDD<BlockedPartition> data;
  private final DataSummary dataSummary;
  private final Network net;
  private final TrainingConfig cfg;
  /** Replaced by the replicas' copy after each all-reduce epoch (its state advanced in the tasks). */
  private UpdateRule rule;
  private final OptimizerStep optimizerStep;
  private final LearningRateSchedule schedule;
  private final String runId = UUID.randomUUID().toString();
  private final int stepsPerEpoch;
  private final long totalSteps;
  double[] params;
  private OptimizerState state;
  private LossStats epochStats = new LossStats();
  private EpochListener listener;
  // recovery accounting (see TrainingSummary)
  private final java.util.Set<Integer> partitionsSeen = new java.util.HashSet<>();
  private long failedTaskAttempts;
  private long partitionStateRebuilds;
  private final List<String> recoveryEvents = new ArrayList<>();
  // checkpoints
  private String checkpointDir;
  private int checkpointInterval;
  private volatile boolean checkpointRequested;
  private final List<String> checkpointsWritten = new ArrayList<>();
  private final List<Broadcast<?>> ruleBroadcasts = new ArrayList<>();
  private List<EpochMetrics> epochs = new ArrayList<>();
  private String computeBackend = "auto";
  private Aggregation aggregation = Aggregation.TREE_AGGREGATE;
  private long allReduceTimeoutMillis = 10 * 60_000L;
  private Rendezvous rendezvous;

  /** How the partitions' results of a synchronous step are added up. */
  public enum Aggregation {
    /** One Spark job per pass; the driver adds the partitions' results (the default; works everywhere). */
    TREE_AGGREGATE("treeAggregate"),
    /**
     * One barrier stage per epoch; the tasks add their results with a ring all-reduce over their own
     * sockets and each applies the update to its replica ({@link AllReduceEpoch}). Same weights;
     * needs a task slot per partition and no dynamic allocation; {@code localSteps} must be 1.
     */
    ALL_REDUCE("allReduce"),
    /** {@code allReduce} when this fit and cluster allow it, else {@code treeAggregate} (the choice is logged). */
    AUTO("auto");

    private final String paramValue;

    Aggregation(String v) { this.paramValue = v; }

    public String paramValue() { return paramValue; }

    /** From the parameter value, case-insensitively. */
    public static Aggregation parse(String v) {
      for (Aggregation a : values()) if (a.paramValue.equalsIgnoreCase(v)) return a;
      throw new IllegalArgumentException("aggregation must be treeAggregate, allReduce or auto, got '" + v + "'");
    }
  }

  public DistributedTrainer(JavaRDD<BlockedPartition> data, DataSummary dataSummary, Network net, TrainingConfig cfg,
                            UpdateRule rule, Optimizer optimizer, LearningRateSchedule schedule) {
    this.data = data;
    this.dataSummary = dataSummary;
    this.net = net;
    this.cfg = cfg;
    this.rule = rule;
    this.optimizerStep = new OptimizerStep(optimizer, cfg.l2(), cfg.maxGradNorm(), net.layout());
    this.schedule = schedule;
    this.stepsPerEpoch = (int) Math.min(Integer.MAX_VALUE, (dataSummary.numRows() + cfg.batchSize() - 1) / cfg.batchSize());
    this.totalSteps = (long) stepsPerEpoch * cfg.epochs();
    if (cfg.localSteps() > 1 && !rule.supportsLocalSteps()) {
      throw new IllegalArgumentException("rule '" + rule.name() + "' cannot run with localSteps > 1: " + rule);
    }
  }

  /** Called after every epoch (null: none). */
  public DistributedTrainer setEpochListener(EpochListener l) {
    this.listener = l;
    return this;
  }

  /**
   * Writes a checkpoint every {@code intervalEpochs} epochs (0: only on {@link #requestCheckpoint})
   * into {@code dir} (any Hadoop file system; null: no checkpoints). See {@link Checkpoint}.
   */
  public DistributedTrainer checkpointTo(String dir, int intervalEpochs) {
    if (intervalEpochs < 0) throw new IllegalArgumentException("checkpointInterval must be >= 0, got " + intervalEpochs);
    if (intervalEpochs > 0 && (dir == null || dir.isBlank())) {
      throw new IllegalArgumentException("checkpointInterval is " + intervalEpochs + " but checkpointDir is not set");
    }
    this.checkpointDir = dir == null || dir.isBlank() ? null : dir;
    this.checkpointInterval = intervalEpochs;
    return this;
  }

  /**
   * Asks the running fit to write a checkpoint after its current step (from any thread; with
   * {@code aggregation = allReduce}, after the current epoch). Needs a checkpoint directory
   * ({@link #checkpointTo}); without one the request is logged and ignored.
   */
  public void requestCheckpoint() { checkpointRequested = true; }

  /** The checkpoint files written so far, in order. */
  public synchronized List<String> checkpointsWritten() { return List.copyOf(checkpointsWritten); }

  /** This run's identity: the key of its task-local state next to the cached data. */
  public String runId() { return runId; }

  Checkpoint.Fingerprint fingerprint() {
    return new Checkpoint.Fingerprint(net.numParams(), dataSummary.numRows(), cfg.batchSize(), cfg.seed(), stepsPerEpoch,
        cfg.localSteps(), rule.name(), optimizerStep.optimizer().toString(), net.toString());
  }

  /**
   * {@code auto} (default), {@code cpu} or {@code gpu}: how each task picks its
   * {@link ComputeBackend} (see {@link ComputeBackends}).
   */
  public DistributedTrainer setComputeBackend(String mode) {
    ComputeBackends.checkDriverSide(ComputeBackends.Mode.parse(mode));
    this.computeBackend = ComputeBackends.Mode.parse(mode).paramValue();
    return this;
  }

  /**
   * {@code treeAggregate} (default), {@code allReduce} or {@code auto} (see {@link Aggregation}); with
   * {@code allReduce}, a wait for another task longer than {@code timeoutMillis} fails the stage.
   */
  public DistributedTrainer setAggregation(String mode, long timeoutMillis) {
    Aggregation a = Aggregation.parse(mode);
    if (a == Aggregation.ALL_REDUCE && localStepsObstacle() != null) {   // fail early; auto falls back instead
      throw new IllegalArgumentException(localStepsObstacle());
    }
    if (timeoutMillis < 1) throw new IllegalArgumentException("allReduce timeout must be >= 1 ms, got " + timeoutMillis);
    this.aggregation = a;
    this.allReduceTimeoutMillis = timeoutMillis;
    return this;
  }

  /** The update rule with its state as of the end of the fit (a copy of the one given when aggregation=allReduce). */
  public UpdateRule rule() { return rule; }

  /** Trains from {@code initialParams} (not modified) and a fresh optimizer state. */
  public TrainingResult train(double[] initialParams) {
    return train(initialParams, null);
  }

  /**
   * Trains from {@code resume} when not null (its weights, optimizer and rule state and position;
   * {@code initialParams} is then ignored), else from {@code initialParams} and a fresh state.
   */
  public TrainingResult train(double[] initialParams, Checkpoint resume) {
    int startEpoch = 0, startStep = 0;
    long globalStep = 0;
    if (resume != null) {
      resume.checkCompatible(fingerprint());
      if (resume.epoch > cfg.epochs() || (resume.epoch == cfg.epochs() && resume.stepInEpoch > 0)) {
        throw new IllegalArgumentException("resumeFrom: checkpoint " + resume.path() + " is at epoch " + (resume.epoch + 1)
            + " but this fit has only " + cfg.epochs() + " epochs");
      }
      if (resume.epochs != cfg.epochs()) {
        LOG.warn("spark-sam: resuming a {}-epoch run with {} epochs: schedules that depend on the total steps differ",
            resume.epochs, cfg.epochs());
      }
      params = resume.params();
      state = resume.optimizerState();
      epochStats = new LossStats().merge(resume.epochStats);
      epochs = new ArrayList<>(resume.history);
      failedTaskAttempts = resume.failedTaskAttempts;
      partitionStateRebuilds = resume.partitionStateRebuilds;
      startEpoch = resume.epoch;
      startStep = resume.stepInEpoch;
      globalStep = resume.globalStep;
      rule.restoreState(resume.ruleState(), ruleStateAccess());
      LOG.info("spark-sam: resuming from {}", resume);
    } else {
      if (initialParams.length != net.numParams()) {
        throw new IllegalArgumentException("initial weights have " + initialParams.length + " entries, the model needs "
            + net.numParams());
      }
      params = initialParams.clone();
      state = optimizerStep.optimizer().init(params.length);
    }
    SparkContext sc = data.context();
    String oldDescription = sc.getLocalProperty("spark.job.description");
    long t0 = System.nanoTime();
    try {
      aggregation = resolve(aggregation, sc);
      if (aggregation == Aggregation.ALL_REDUCE) startRendezvous(sc);
      return loop(sc, t0, startEpoch, startStep, globalStep, resume);
    } finally {
      if (rendezvous != null) rendezvous.close();
      rendezvous = null;
      sc.setJobDescription(oldDescription);
      for (Broadcast<?> b : ruleBroadcasts) b.destroy();
      ruleBroadcasts.clear();
    }
  }

  private TrainingResult loop(SparkContext sc, long t0, int startEpoch, int startStep, long globalStep, Checkpoint resume) {
    String[] tasks = tasksBlasAndBackend();   // also fails here, before any step, when computeBackend=gpu has no GPU
    String blas = tasks[0];
    LOG.info("spark-sam: training {} on {} examples in {} partitions, {} steps/epoch, rule={}, optimizer={}, BLAS: {}, "
        + "compute backend: {}", net, dataSummary.numRows(), data.getNumPartitions(), stepsPerEpoch, rule.name(),
        optimizerStep.optimizer(), blas, tasks[1]);
    for (int epoch = startEpoch; epoch < cfg.epochs(); epoch++) {
      long e0 = System.nanoTime();
      int s = 0;
      if (epoch == startEpoch && resume != null) {
        s = startStep;
      } else {
        epochStats = new LossStats();
      }
      if (aggregation == Aggregation.ALL_REDUCE && s < stepsPerEpoch) {
        sc.setJobDescription(String.format(Locale.ROOT, "spark-sam %s: epoch %d/%d, steps %d-%d in one barrier stage "
            + "(allReduce)", rule.name(), epoch + 1, cfg.epochs(), s + 1, stepsPerEpoch));
        globalStep = allReduceEpoch(epoch, s, globalStep);
        s = stepsPerEpoch;
      }
      while (s < stepsPerEpoch) {
        int k = Math.min(cfg.localSteps(), stepsPerEpoch - s);
        sc.setJobDescription(String.format(Locale.ROOT, "spark-sam %s: epoch %d/%d, step %d/%d", rule.name(),
            epoch + 1, cfg.epochs(), s + 1, stepsPerEpoch));
        if (cfg.localSteps() == 1) {
          StepContext ctx = new StepContext(onDriver, epoch, s, globalStep, schedule.rate(globalStep, totalSteps));
          rule.step(ctx);
          if (!ctx.updated()) throw new IllegalStateException("rule " + rule.name() + " did not apply an update");
        } else {
          localRound(epoch, s, k, globalStep);
        }
        s += k;
        globalStep += k;
        if (checkpointRequested && s < stepsPerEpoch) {
          checkpointRequested = false;
          checkpoint(epoch, s, globalStep);
        }
      }
      double secs = (System.nanoTime() - e0) / 1e9;
      EpochMetrics m = new EpochMetrics(epoch + 1, stepsPerEpoch, epochStats.meanLoss() + optimizerStep.penalty(params),
          epochStats.accuracy(), secs, stepsPerEpoch / secs, rule.epochMetrics(epochStats));
      epochs.add(m);
      LOG.info(String.format(Locale.ROOT, "spark-sam: epoch %d/%d loss %.4f accuracy %.4f time %.2f s (%.1f steps/s)%s%s",
          m.epoch(), cfg.epochs(), m.loss(), m.accuracy(), m.seconds(), m.stepsPerSecond(),
          m.ruleMetrics().isEmpty() ? "" : " " + m.ruleMetrics(),
          failedTaskAttempts + partitionStateRebuilds == 0 ? "" : String.format(Locale.ROOT,
              " [recovery so far: %d failed task attempts, %d partition states rebuilt]", failedTaskAttempts,
              partitionStateRebuilds)));
      if (listener != null) listener.onEpochEnd(m, net, params);
      boolean periodic = checkpointInterval > 0 && (epoch + 1) % checkpointInterval == 0;
      if (periodic || checkpointRequested) {
        checkpointRequested = false;
        epochStats = new LossStats();
        checkpoint(epoch + 1, 0, globalStep);
      }
    }
    TrainingSummary summary = new TrainingSummary(epochs, (System.nanoTime() - t0) / 1e9, blas, dataSummary.numRows(),
        data.getNumPartitions(), stepsPerEpoch, rule.name(), optimizerStep.optimizer().toString(),
        new TrainingSummary.Recovery(failedTaskAttempts, partitionStateRebuilds, recoveryEvents,
            resume == null ? null : resume.path(), checkpointsWritten()));
    summary.setComputeBackend(tasks[1]);
    summary.setAggregation(aggregation.paramValue());
    return new TrainingResult(params, state, summary);
  }

  /** Writes a checkpoint at a step boundary: {@code step} of {@code epoch} is the next step to run. */
  private void checkpoint(int epoch, int step, long globalStep) {
    if (checkpointDir == null) {
      LOG.warn("spark-sam: a checkpoint was requested but no checkpoint directory is set; ignored");
      return;
    }
    Serializable ruleState = rule.checkpointState(ruleStateAccess());
    Checkpoint c = new Checkpoint(fingerprint(), epoch, step, globalStep, cfg.epochs(), params.clone(), state.copy(),
        failedTaskAttempts, partitionStateRebuilds, new LossStats().merge(epochStats), new ArrayList<>(epochs),
        ruleState);
    try {
      String path = c.write(checkpointDir, data.context().hadoopConfiguration());
      synchronized (this) {
        checkpointsWritten.add(path);
      }
      LOG.info("spark-sam: wrote checkpoint {} (epoch {}, step {})", path, epoch + (step == 0 ? 0 : 1), step);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot write a checkpoint to " + checkpointDir + ": " + e.getMessage(), e);
    }
  }

  private RuleStateAccess ruleStateAccess() {
    return new RuleStateAccess() {
      @Override public <T> List<T> collectFromPartitions(PartitionFunction<T> f) {
        Setup setup = setup();
        return data.map(p -> f.apply(setup.worker(p))).collect();
      }

      @Override public <T> Broadcast<T> broadcast(T value) {
        Broadcast<T> b = JavaSparkContext.fromSparkContext(data.context()).broadcast(value);
        ruleBroadcasts.add(b);
        return b;
      }
    };
  }

  /**
   * Recovery accounting from one pass's per-partition results: attempts that failed before the
   * successful one, and partitions whose task-local state had to be rebuilt after the partition's
   * first task (a recomputed or re-read cached block, e.g. after a lost executor or an eviction).
   */
  private void account(int partition, int attempt, boolean freshWorker, int epoch, int step) {
    if (attempt > 0) {
      failedTaskAttempts += attempt;
      note(String.format(Locale.ROOT, "epoch %d step %d: partition %d succeeded on attempt %d", epoch + 1, step + 1,
          partition, attempt + 1));
    }
    boolean seenBefore = !partitionsSeen.add(partition);   // (a failed first attempt may have taken the fresh flag)
    if (freshWorker && seenBefore) {
      partitionStateRebuilds++;
      note(String.format(Locale.ROOT, "epoch %d step %d: partition %d lost its task-local state (recomputed or "
          + "re-read cached block); rebuilt", epoch + 1, step + 1, partition));
    }
  }

  private void note(String event) {
    LOG.warn("spark-sam: {}", event);
    if (recoveryEvents.size() < 200) recoveryEvents.add(event);
  }

  /** Everything a task needs besides the step's payload; serialized with each task's closure. */
  record Setup(String runId, Network net, TrainingConfig cfg, long numExamples, int stepsPerEpoch,
                       String computeBackend) implements Serializable {
    PartitionWorker worker(BlockedPartition p) {
      // per executor: probed once and cached; a GPU backend follows the GPU Spark assigned each task
      ComputeBackend be = ComputeBackends.forTask(computeBackend, cfg.precision()).backend();
      return PartitionWorker.of(p, runId, net, be, cfg, numExamples, stepsPerEpoch);
    }
  }

  private Setup setup() {
    return new Setup(runId, net, cfg, dataSummary.numRows(), stepsPerEpoch, computeBackend);
  }

  /** One partition's contribution to a pass. */
  private record PassResult(PackedDoubles directionSum, LossStats stats, int attempt, boolean freshWorker)
      implements Serializable {}

  /** The broadcast of one pass: where to evaluate, and which rule. */
  private record PassPayload(double[] at, int epoch, int step, LocalRule rule) implements Serializable {}

  private StepContext.Pass pass(LocalRule localRule, double[] at, int epoch, int step) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(data.context());
    Broadcast<PassPayload> bc = jsc.broadcast(new PassPayload(at, epoch, step, localRule));
    Setup setup = setup();
    List<PassResult> parts;
    try {
      parts = onEveryPartition(data, p -> {
        PassPayload pl = bc.value();
        PartitionWorker w = setup.worker(p);
        boolean fresh = w.takeFresh();
        int attempt = attemptNumber();
        LocalBatch batch = w.batch(pl.epoch(), pl.step());
        LossStats stats = new LossStats();
        if (batch.isEmpty()) {
          FaultInjection.maybeFail(p, pl.epoch(), pl.step());
          return new PassResult(null, stats, attempt, fresh);
        }
        Buf params = w.scratch(0);
        params.setFrom(pl.at(), 0, 0, pl.at().length);
        Buf grad = w.scratch(1);
        grad.zero(0, grad.length());
        pl.rule().direction(w, params, batch, grad, stats);
        double[] sum = w.doubleScratch(0);
        grad.copyTo(sum, 0, 0, sum.length);
        FaultInjection.maybeFail(p, pl.epoch(), pl.step());
        return new PassResult(PackedDoubles.of(sum), stats, attempt, fresh);
      });
    } finally {
      bc.destroy();
    }
    double[] total = new double[at.length];
    LossStats stats = new LossStats();
    for (int i = 0; i < parts.size(); i++) account(i, parts.get(i).attempt(), parts.get(i).freshWorker(), epoch, step);
    for (PassResult r : parts) {           // partition order: deterministic sums
      if (r.directionSum() != null) r.directionSum().addTo(total);
      stats.merge(r.stats());
    }
    return new StepContext.Pass(total, stats);
  }

  /** Steps run on the driver: one Spark job per pass. */
  private final StepEngine onDriver = new StepEngine() {
    @Override public double[] params() { return params; }

    @Override public StepContext.Pass pass(LocalRule rule, double[] at, int epoch, int step) {
      return DistributedTrainer.this.pass(rule, at, epoch, step);
    }

    @Override public void applyUpdate(double[] meanDirection, LossStats stats, StepContext ctx) {
      DistributedTrainer.this.applyUpdate(meanDirection, stats, ctx);
    }
  };

  private void applyUpdate(double[] meanDirection, LossStats stats, StepContext ctx) {
    optimizerStep.applyChecked(params, meanDirection, stats, ctx, state);
    epochStats.merge(stats);
  }


  private String localStepsObstacle() {
    return cfg.localSteps() == 1 ? null : "aggregation=allReduce synchronizes every step; it cannot be combined with "
        + "localSteps=" + cfg.localSteps() + " (use one or the other)";
  }

  /** Why this fit cannot run with allReduce on this cluster now, or null if it can. */
  private String allReduceObstacle(SparkContext sc) {
    if (localStepsObstacle() != null) return localStepsObstacle();
    if (sc.conf().getBoolean("spark.dynamicAllocation.enabled", false)) {
      return "aggregation=allReduce runs each epoch as a barrier stage, which Spark does not run with dynamic "
          + "allocation (spark.dynamicAllocation.enabled=true); use aggregation=treeAggregate";
    }
    int slots = taskSlots(sc);
    int parts = data.getNumPartitions();
    if (parts > slots) {
      return "aggregation=allReduce runs all " + parts + " partitions at once (a barrier stage) but the cluster has "
          + slots + " task slots now; use at most " + slots + " partitions (numPartitions) or aggregation=treeAggregate";
    }
    return null;
  }

  /** How many tasks the cluster can run at once now (what a barrier stage needs per partition). */
  public static int taskSlots(SparkContext sc) {
    return sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile());
  }

  private Aggregation resolve(Aggregation requested, SparkContext sc) {
    if (requested == Aggregation.TREE_AGGREGATE) return requested;
    String obstacle = allReduceObstacle(sc);
    if (requested == Aggregation.ALL_REDUCE) {
      if (obstacle != null) throw new IllegalArgumentException(obstacle);
      return requested;
    }
    LOG.info("spark-sam: aggregation=auto: {}", obstacle == null ? "allReduce (one barrier stage per epoch)"
        : "treeAggregate, because " + obstacle.replace("aggregation=allReduce ", "allReduce "));
    return obstacle == null ? Aggregation.ALL_REDUCE : Aggregation.TREE_AGGREGATE;
  }

  private void startRendezvous(SparkContext sc) {
    try {
      rendezvous = Rendezvous.start(sc.conf(), runId);    // #15: a per-fit secret, Spark's host and ports
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("aggregation=allReduce: cannot open the rendezvous port on the driver: "
          + e.getMessage(), e);
    }
  }

  /**
   * Steps {@code firstStep..} of {@code epoch} as one barrier stage ({@link AllReduceEpoch}); takes
   * over the replicas' state at the end. Returns the global step after the epoch.
   */
  private long allReduceEpoch(int epoch, int firstStep, long globalStep) {
    int n = stepsPerEpoch - firstStep;
    double[] rates = new double[n];
    for (int i = 0; i < n; i++) rates[i] = schedule.rate(globalStep + i, totalSteps);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(data.context());
    Broadcast<AllReduceEpoch.Payload> bc = jsc.broadcast(new AllReduceEpoch.Payload(params, state, epochStats,
        JavaSerialization.bytes(rule), optimizerStep, epoch, firstStep, globalStep, rates, rendezvous.address(),
        allReduceTimeoutMillis));
    List<AllReduceEpoch.Result> parts;
    try {
      parts = AllReduceEpoch.run(data, setup(), bc);
    } finally {
      bc.destroy();
    }
    AllReduceEpoch.Result carrier = null;
    double collective = 0, busiest = 0;
    for (AllReduceEpoch.Result r : parts) {
      account(r.rank(), 0, r.freshWorker(), epoch, firstStep);
      if (r.diverged() != null) throw r.diverged();
      if (r.rank() == 0) carrier = r;
      collective = Math.max(collective, r.collectiveSeconds());
      busiest = Math.max(busiest, r.seconds());
    }
    int stageAttempt = parts.get(0).stageAttempt();
    if (stageAttempt > 0) {
      failedTaskAttempts += stageAttempt;
      note(String.format(Locale.ROOT, "epoch %d: a task failed; the barrier stage ran again from step %d (stage "
          + "attempt %d)", epoch + 1, firstStep + 1, stageAttempt + 1));
    }
    if (carrier == null) throw new IllegalStateException("no result from partition 0 of the all-reduce stage");
    params = carrier.params();
    state = carrier.state();
    epochStats = carrier.epochStats();
    rule = carrier.rule();
    LOG.info(String.format(Locale.ROOT, "spark-sam: all-reduce epoch %d: tasks busy up to %.3f s, of which %.3f s in "
        + "the collective (including waits for the slowest task)", epoch + 1, busiest, collective));
    return globalStep + n;
  }

  /** The broadcast of a round of local steps: start weights and optimizer state, the steps' learning rates. */
  private record LocalPayload(double[] params, OptimizerState state, int epoch, int firstStep, double[] rates,
                              LocalRule rule, OptimizerStep optimizerStep) implements Serializable {}

  /** One partition's models after its local steps, pre-multiplied by the example weight it saw. */
  private record LocalResult(double[] weightedParams, double[][] weightedSlots, double weight, LossStats stats,
                             String failure, int attempt, boolean freshWorker) implements Serializable {}

  private void localRound(int epoch, int firstStep, int k, long globalStep) {
    double[] rates = new double[k];
    for (int i = 0; i < k; i++) rates[i] = schedule.rate(globalStep + i, totalSteps);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(data.context());
    Broadcast<LocalPayload> bc = jsc.broadcast(new LocalPayload(params, state, epoch, firstStep, rates,
        rule.localRule(), optimizerStep));
    Setup setup = setup();
    List<LocalResult> parts;
    try {
      parts = onEveryPartition(data, p -> {
        PartitionWorker w = setup.worker(p);
        boolean fresh = w.takeFresh();
        LocalResult r = runLocalSteps(w, bc.value());
        FaultInjection.maybeFail(p, epoch, firstStep);
        return new LocalResult(r.weightedParams(), r.weightedSlots(), r.weight(), r.stats(), r.failure(), attemptNumber(),
            fresh);
      });
    } finally {
      bc.destroy();
    }
    for (int i = 0; i < parts.size(); i++) account(i, parts.get(i).attempt(), parts.get(i).freshWorker(), epoch, firstStep);
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
    double[] avg = new double[params.length];
    double[][] slots = new double[state.slots.length][params.length];
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
    params = avg;
    state.step += k;
    epochStats.merge(stats);
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
      double norm = pl.optimizerStep().apply(local, dir, pl.rates()[i], st);
      if (!Double.isFinite(norm)) return new LocalResult(null, null, 0, all, "the gradient norm is " + norm, 0, false);
      seen += stats.weightSum;
      all.merge(stats);
    }
    for (int i = 0; i < local.length; i++) local[i] *= seen;
    for (double[] slot : st.slots) for (int i = 0; i < slot.length; i++) slot[i] *= seen;
    return new LocalResult(local, st.slots, seen, all, null, 0, false);
  }

  /** A function of one cached partition, run in its task. */
  interface PartitionTask<T> extends Serializable {
    T run(BlockedPartition p);
  }

  /**
   * One job: {@code task} on every partition, results in partition order. Submitted with
   * {@code SparkContext.runJob} and a named function class: for a lambda (ours, or the one inside
   * {@code collect()}) Spark's closure cleaner reads and parses the declaring class file on every
   * job, milliseconds per training step on the driver.
   */
  @SuppressWarnings("unchecked")
  static <T> List<T> onEveryPartition(JavaRDD<BlockedPartition> data, PartitionTask<T> task) {
    List<Object> all = new ArrayList<>();
    for (int i = 0; i < data.getNumPartitions(); i++) all.add(i);
    @SuppressWarnings("rawtypes")
    scala.collection.Seq partitions = scala.collection.JavaConverters.asScalaBuffer(all);
    Object out = data.context().runJob(data.rdd(), new TaskFunction<>(task), partitions,
        scala.reflect.ClassTag$.MODULE$.AnyRef());
    return (List<T>) java.util.Arrays.asList((Object[]) out);
  }

  private static final class TaskFunction<T>
      extends scala.runtime.AbstractFunction2<org.apache.spark.TaskContext, scala.collection.Iterator<BlockedPartition>, Object>
      implements Serializable {
    private static final long serialVersionUID = 1L;
    private final PartitionTask<T> task;

    TaskFunction(PartitionTask<T> task) { this.task = task; }

    @Override public Object apply(org.apache.spark.TaskContext ctx, scala.collection.Iterator<BlockedPartition> it) {
      return task.run(it.next());
    }
  }

  private static int attemptNumber() {
    org.apache.spark.TaskContext tc = org.apache.spark.TaskContext.get();
    return tc == null ? 0 : tc.attemptNumber();
  }

  /**
   * Which BLAS and which compute backend the tasks use (one short job, before any step; with
   * {@code computeBackend=gpu} and no usable GPU it fails here with the reason).
   */
  private String[] tasksBlasAndBackend() {
    String mode = computeBackend;
    Precision prec = cfg.precision();
    List<String[]> seen;
    try {
      seen = data.map(p -> new String[] {BlasInfo.describe(), ComputeBackends.forTask(mode, prec).description()})
          .collect();
    } catch (Exception e) {          // SparkException is checked in Java's eyes but thrown by Scala code
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof GpuUnavailableException g) throw new GpuUnavailableException(g.getMessage());
      }
      throw e;
    }
    TreeSet<String> blas = new TreeSet<>(), backends = new TreeSet<>();
    for (String[] s : seen) {
      blas.add(s[0]);
      backends.add(s[1]);
    }
    return new String[] {String.join("; ", blas), String.join("; ", backends)};
  }
}
