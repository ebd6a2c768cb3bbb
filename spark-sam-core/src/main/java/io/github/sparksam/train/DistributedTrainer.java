package io.github.sparksam.train;

import io.github.sparksam.backend.BlasInfo;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.ComputeBackends;
import io.github.sparksam.backend.GpuUnavailableException;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.backend.Precision;
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
 * {@link LocalRule} on them and returns a weighted sum; the sums are added in an order fixed by the
 * partition indices (bit-identical across runs, unlike Spark's {@code treeAggregate}, which merges
 * in completion order) and the optimizer is applied. How the sums meet is the {@link Aggregation},
 * each an {@link AggregationEngine}: {@link CollectAggregation} (the driver adds them),
 * {@link TreeAggregation} (a fixed tree of shuffles), {@link AllReduceAggregation} (an epoch per
 * barrier stage, the tasks add them with a ring all-reduce) and, for {@code localSteps = K > 1},
 * {@link LocalStepsAggregation} (model averaging every K steps).
 *
 * <p>This class keeps the loop: epochs, metrics, checkpoints, recovery accounting. It knows neither
 * the optimizer nor the rule: engines call {@link UpdateRule#step} and {@link LocalRule#direction}.
 * Progress: one log line per epoch and a Spark job description per step (per epoch with allReduce).
 */
public final class DistributedTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(DistributedTrainer.class);

  // the fit's setting and state, read and advanced by the AggregationEngine
  final JavaRDD<BlockedPartition> data;
  private final DataSummary dataSummary;
  final Network net;
  final TrainingConfig cfg;
  /** Replaced by the replicas' copy after each all-reduce epoch (its state advanced in the tasks). */
  UpdateRule rule;
  final OptimizerStep optimizerStep;
  private final LearningRateSchedule schedule;
  private final String runId = UUID.randomUUID().toString();
  final int stepsPerEpoch;
  private final long totalSteps;
  double[] params;
  OptimizerState state;
  LossStats epochStats = new LossStats();
  private EpochListener listener;
  // recovery accounting (see TrainingSummary)
  private final java.util.Set<Integer> partitionsSeen = new java.util.HashSet<>();
  long failedTaskAttempts;
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
  private Aggregation aggregation = Aggregation.COLLECT;
  private long allReduceTimeoutMillis = 10 * 60_000L;
  private int treeFanout = TreeAggregation.FANOUT;

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
   * {@code collect} (this class's default; the estimator's is {@code auto}), {@code tree},
   * {@code allReduce} or {@code auto} (see {@link Aggregation}; {@code treeAggregate} is the old name
   * of {@code collect}); with {@code allReduce}, a wait for another task longer than
   * {@code timeoutMillis} fails the stage.
   */
  public DistributedTrainer setAggregation(String mode, long timeoutMillis) {
    Aggregation a = Aggregation.parse(mode);
    String localSteps = AllReduceAggregation.localStepsObstacle(cfg.localSteps());
    if (a == Aggregation.ALL_REDUCE && localSteps != null) {   // fail early; auto falls back instead
      throw new IllegalArgumentException(localSteps);
    }
    if (timeoutMillis < 1) throw new IllegalArgumentException("allReduce timeout must be >= 1 ms, got " + timeoutMillis);
    this.aggregation = a;
    this.allReduceTimeoutMillis = timeoutMillis;
    return this;
  }

  /**
   * How many partial sums {@code aggregation = tree} adds per tree node (default
   * {@value TreeAggregation#FANOUT}): the driver receives at most this many per pass.
   */
  public DistributedTrainer setTreeFanout(int fanout) {
    if (fanout < 2) throw new IllegalArgumentException("treeFanout must be >= 2, got " + fanout);
    this.treeFanout = fanout;
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
    String channelToken = null;
    try (AggregationEngine engine = engine(aggregation, sc)) {
      channelToken = engine.channelToken();
      return loop(engine, sc, t0, startEpoch, startStep, globalStep, resume);
    } finally {
      FitRelease.release(data, runId, channelToken);   // #16: partition-local state, channels, GPU state
      sc.setJobDescription(oldDescription);
      for (Broadcast<?> b : ruleBroadcasts) b.destroy();
      ruleBroadcasts.clear();
    }
  }

  private TrainingResult loop(AggregationEngine engine, SparkContext sc, long t0, int startEpoch, int startStep, long globalStep, Checkpoint resume) {
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
      while (s < stepsPerEpoch) {
        sc.setJobDescription(engine.kind() == Aggregation.ALL_REDUCE
            ? String.format(Locale.ROOT, "spark-sam %s: epoch %d/%d, steps %d-%d in one barrier stage (allReduce)",
                rule.name(), epoch + 1, cfg.epochs(), s + 1, stepsPerEpoch)
            : String.format(Locale.ROOT, "spark-sam %s: epoch %d/%d, step %d/%d (%s)", rule.name(), epoch + 1,
                cfg.epochs(), s + 1, stepsPerEpoch, engine.kind().paramValue()));
        int k = engine.runSteps(epoch, s, globalStep);
        s += k;
        globalStep += k;
        if (checkpointRequested && s < stepsPerEpoch) {
          checkpointRequested = false;
          checkpoint(epoch, s, globalStep);
        }
      }
      double secs = (System.nanoTime() - e0) / 1e9;
      EpochMetrics m = new EpochMetrics(epoch + 1, stepsPerEpoch, epochStats.meanLoss() + optimizerStep.penalty(params),
          epochStats.accuracy(), secs, stepsPerEpoch / secs, rule.epochMetrics(epochStats), evaluateEpoch()); // #14
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
    summary.setAggregation(engine.kind().paramValue());
    return new TrainingResult(params, state, summary);
  }

  // #14 ---------------------------------------------- per-epoch evaluation: held-out rows, label-noise memorization
  private JavaRDD<BlockedPartition> validation;
  private final java.util.Map<String, JavaRDD<BlockedPartition>> evaluationSets = new java.util.LinkedHashMap<>();
  private boolean reportLabelNoise;

  /**
   * Held-out rows (MLlib's validationIndicatorCol) evaluated with the weights at the end of every
   * epoch; null: none. Their metrics go to {@link EpochMetrics#evaluation}.
   */
  public DistributedTrainer setValidation(JavaRDD<BlockedPartition> heldOut) {
    this.validation = heldOut;
    return this;
  }

  /**
   * Further labelled rows evaluated like the held-out ones at the end of every epoch (e.g. a test
   * set, to see peak and final accuracy in one run), under {@code name + "Loss"} and {@code name +
   * "Accuracy"} in {@link EpochMetrics#evaluation}. Nothing of them reaches training.
   */
  public DistributedTrainer addEvaluationSet(String name, JavaRDD<BlockedPartition> blocks) {
    evaluationSets.put(checkEvaluationSetName(name), blocks);
    return this;
  }

  /** {@code name} if it can name an evaluation set: lowerCamelCase, not one the trainer's own metrics use. */
  public static String checkEvaluationSetName(String name) {
    if (name == null || !name.matches("[a-z][A-Za-z0-9]{0,63}") || name.equals("validation") || name.equals("flipped")) {
      throw new IllegalArgumentException("an epoch evaluation set needs a lowerCamelCase name (letters and digits) "
          + "other than 'validation' and 'flipped', got '" + name + "'");
    }
    return name;
  }

  /**
   * Whether the training blocks carry label noise ({@link io.github.sparksam.data.LabelNoise}): then
   * every epoch ends with one pass over the flipped rows for memorization (accuracy against the noisy
   * and the clean labels) and the realised flip fraction.
   */
  public DistributedTrainer setReportLabelNoise(boolean on) {
    this.reportLabelNoise = on;
    return this;
  }

  /**
   * One job per configured evaluation, with the current weights, here in the loop rather than in an
   * engine so that every aggregation engine gets it; per-partition sums are merged in partition order.
   */
  private java.util.Map<String, Double> evaluateEpoch() {
    java.util.Map<String, Double> out = new java.util.TreeMap<>();
    if (validation == null && evaluationSets.isEmpty() && !reportLabelNoise) return out;
    Setup setup = setup();
    Broadcast<double[]> w = JavaSparkContext.fromSparkContext(data.context()).broadcast(params.clone());
    try {
      if (validation != null) {
        LossStats v = evaluateAll(validation, setup, w);
        out.put(EpochMetrics.VALIDATION_LOSS, v.meanLoss());
        out.put(EpochMetrics.VALIDATION_ACCURACY, v.accuracy());
      }
      for (java.util.Map.Entry<String, JavaRDD<BlockedPartition>> e : evaluationSets.entrySet()) {
        LossStats v = evaluateAll(e.getValue(), setup, w);
        out.put(e.getKey() + "Loss", v.meanLoss());
        out.put(e.getKey() + "Accuracy", v.accuracy());
      }
      if (reportLabelNoise) {
        LossStats noisy = new LossStats(), clean = new LossStats();
        for (LossStats[] s : data.map(p -> evaluatePartition(setup, p, w.value(), true)).collect()) {
          noisy.merge(s[0]);
          clean.merge(s[1]);
        }
        out.put(EpochMetrics.FLIP_FRACTION, noisy.count / (double) dataSummary.numRows());
        out.put(EpochMetrics.FLIPPED_NOISY_ACCURACY, noisy.accuracy());
        out.put(EpochMetrics.FLIPPED_CLEAN_ACCURACY, clean.accuracy());
      }
    } finally {
      w.destroy();
    }
    return out;
  }

  /** Every row of {@code blocks} at the broadcast weights, merged in partition order. */
  private static LossStats evaluateAll(JavaRDD<BlockedPartition> blocks, Setup setup, Broadcast<double[]> w) {
    LossStats total = new LossStats();
    for (LossStats s : blocks.map(p -> evaluatePartition(setup, p, w.value(), false)[0]).collect()) total.merge(s);
    return total;
  }

  /** All rows against their labels, or (flipped) the flipped rows against their noisy and their clean labels. */
  private static LossStats[] evaluatePartition(Setup setup, BlockedPartition p, double[] weights, boolean flipped) {
    ComputeBackend be = ComputeBackends.forTask(setup.computeBackend(), setup.cfg().precision()).backend();
    PartitionWorker w = new PartitionWorker(p, setup.runId(), setup.net(), be, setup.cfg(), setup.numExamples(),
        setup.stepsPerEpoch());   // not kept in the partition's local map: nothing to release
    io.github.sparksam.backend.Buf at = w.scratch(0);
    at.setFrom(weights, 0, 0, weights.length);
    LossStats a = new LossStats();
    w.evaluate(at, flipped, false, a);
    if (!flipped) return new LossStats[] {a};
    LossStats b = new LossStats();
    w.evaluate(at, true, true, b);
    return new LossStats[] {a, b};
  }
  // #14 end

  /** The learning rate of global step {@code globalStep}. */
  double rate(long globalStep) { return schedule.rate(globalStep, totalSteps); }

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
  void account(int partition, int attempt, boolean freshWorker, int epoch, int step) {
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

  void note(String event) {
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

  Setup setup() {
    return new Setup(runId, net, cfg, dataSummary.numRows(), stepsPerEpoch, computeBackend);
  }

  /** How many tasks the cluster can run at once now (what a barrier stage needs per partition). */
  public static int taskSlots(SparkContext sc) {
    return sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile());
  }

  /** The engine for {@code requested} on this cluster now; {@code auto} logs what it picked and why. */
  private AggregationEngine engine(Aggregation requested, SparkContext sc) {
    int parts = data.getNumPartitions();
    if (cfg.localSteps() > 1) {
      if (requested != Aggregation.COLLECT && requested != Aggregation.AUTO) {
        if (requested == Aggregation.ALL_REDUCE) {
          throw new IllegalArgumentException(AllReduceAggregation.localStepsObstacle(cfg.localSteps()));
        }
        throw new IllegalArgumentException("aggregation=tree adds gradients; localSteps=" + cfg.localSteps()
            + " averages models, which only aggregation=collect (or auto) does");
      }
      return new LocalStepsAggregation(this);
    }
    switch (requested) {
      case COLLECT: return new CollectAggregation(this);
      case TREE: return new TreeAggregation(this, treeFanout);
      case ALL_REDUCE: {
        String obstacle = AllReduceAggregation.obstacle(sc, parts, cfg.localSteps());
        if (obstacle != null) throw new IllegalArgumentException(obstacle);
        return new AllReduceAggregation(this, allReduceTimeoutMillis);
      }
      default: break;
    }
    String obstacle = AllReduceAggregation.obstacle(sc, parts, cfg.localSteps());
    if (obstacle == null) {
      LOG.info("spark-sam: aggregation=auto: allReduce (one barrier stage per epoch)");
      return new AllReduceAggregation(this, allReduceTimeoutMillis);
    }
    String why = obstacle.replace("aggregation=allReduce ", "allReduce ").replace("; use aggregation=tree or collect", "")
        .replaceAll("; use at most .*", "");
    boolean tree = TreeAggregation.preferredOver(parts, net.numParams());
    LOG.info(String.format(Locale.ROOT, "spark-sam: aggregation=auto: %s, because %s; %d partitions x %d weights x 8 "
        + "bytes = %.1f MiB per pass would reach the driver by collecting (the tree is used from %d MiB and more than "
        + "%d partitions)", tree ? "tree" : "collect", why, parts, net.numParams(),
        parts * (double) net.numParams() * 8 / (1 << 20), TreeAggregation.DRIVER_BYTES_THRESHOLD >> 20,
        TreeAggregation.FANOUT));
    return tree ? new TreeAggregation(this, treeFanout) : new CollectAggregation(this);
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
      seen = data.map(p -> new String[] {BlasInfo.describe() + ", float32 conversions: "
          + io.github.sparksam.backend.Float32Conversions.implementation() + ", float32 kernels: "
          + io.github.sparksam.backend.Float32Kernels.implementation(), ComputeBackends.forTask(mode, prec).description()})
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
