package io.github.sparksam.train;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.DataBlock;
import io.github.sparksam.nn.Network;

/**
 * The task-side half of training for one cached partition: finds the partition's rows of a step,
 * gathers them in chunks and runs the network's forward/backward on them. Lives in the partition's
 * {@link BlockedPartition#local()} map for the whole fit, so buffers and the epoch plan are
 * allocated once, not per step. Update rules use it through {@link #gradient}, {@link #loss},
 * {@link #logits} and {@link #scratch}.
 */
public final class PartitionWorker {
  private final BlockedPartition part;
  private final Network net;
  private final ComputeBackend backend;
  private final TrainingConfig cfg;
  private final long numExamples;
  private final int stepsPerEpoch;
  private final Network.Workspace ws;
  private final Buf chunkX;
  private final double[] chunkLabels;
  private final double[] chunkWeights;
  private final String runId;
  private final Buf[] scratch = new Buf[4];
  private final double[][] doubleScratch = new double[2][];
  private final Buf logitsCopy;
  private EpochPlan plan;
  private boolean fresh = true;

  PartitionWorker(BlockedPartition part, String runId, Network net, ComputeBackend backend, TrainingConfig cfg,
                  long numExamples, int stepsPerEpoch) {
    this.part = part;
    this.runId = runId;
    this.net = net;
    this.backend = backend;
    this.cfg = cfg;
    this.numExamples = numExamples;
    this.stepsPerEpoch = stepsPerEpoch;
    int chunk = Math.max(1, Math.min(cfg.chunkRows(), Math.min(cfg.batchSize(), Math.max(1, part.numRows))));
    this.ws = net.newWorkspace(backend, chunk);
    this.chunkX = backend.allocate(chunk * net.numFeatures());
    this.chunkLabels = new double[chunk];
    this.chunkWeights = new double[chunk];
    this.logitsCopy = backend.allocate(chunk * net.numOutputs());
  }

  /** The worker of {@code runId} for this partition, created on first use (and after a recompute). */
  static PartitionWorker of(BlockedPartition part, String runId, Network net, ComputeBackend backend,
                            TrainingConfig cfg, long numExamples, int stepsPerEpoch) {
    synchronized (part) {
      String key = "worker:" + runId;
      PartitionWorker w = (PartitionWorker) part.local().get(key);
      if (w == null) {
        w = new PartitionWorker(part, runId, net, backend, cfg, numExamples, stepsPerEpoch);
        part.local().put(key, w);
      }
      return w;
    }
  }

  /**
   * True the first time it is called on a newly created worker: the task that created it tells the
   * driver, which counts a worker created again for a partition it has seen as lost task-local
   * state (a recomputed or re-read cached block).
   */
  boolean takeFresh() {
    boolean f = fresh;
    fresh = false;
    return f;
  }

  public Network network() { return net; }

  public ComputeBackend backend() { return backend; }

  public TrainingConfig config() { return cfg; }

  public BlockedPartition partition() { return part; }

  /** Identifies this fit; rules key their partition-local state ({@code partition().local()}) with it. */
  public String runId() { return runId; }

  /** A double[] of numParams entries reused across steps (slots 0 and 1), for rules' vector math. */
  public double[] doubleScratch(int slot) {
    if (doubleScratch[slot] == null) doubleScratch[slot] = new double[net.numParams()];
    return doubleScratch[slot];
  }

  /** This partition's rows of step {@code step} of {@code epoch}. */
  public LocalBatch batch(int epoch, int step) {
    if (plan == null || plan.epoch != epoch) {
      plan = new EpochPlan(part, numExamples, cfg.batchSize(), stepsPerEpoch, cfg.seed(), epoch);
    }
    return new LocalBatch(plan, plan.stepStart[step], plan.stepStart[step + 1]);
  }

  /**
   * A parameter-sized buffer of the backend's precision, reused across steps: slot 0 holds the
   * broadcast weights, slot 1 the gradient; rules may use slots 2 and 3 (perturbed weights, a
   * second gradient).
   */
  public Buf scratch(int slot) {
    if (scratch[slot] == null) scratch[slot] = backend.allocate(net.numParams());
    return scratch[slot];
  }

  /** Adds the gradient of the weighted loss sum of {@code batch} at {@code params} to {@code grad}. */
  public void gradient(Buf params, LocalBatch batch, Buf grad, LossStats stats) {
    gradient(params, batch, grad, stats, null);
  }

  /**
   * Per-chunk hooks for rules that add a term on the outputs: {@link #beforeChunk} runs after the
   * chunk's rows are gathered (it may call {@link #forwardChunk} with other weights, e.g. a
   * teacher's), {@link #adjust} adds to the gradient with respect to the logits.
   */
  public interface ChunkHook {
    default void beforeChunk(LocalBatch chunk) {}

    /** {@code logits} and {@code delta} are numOutputs x chunk.size(); {@code delta} may be added to. */
    void adjust(LocalBatch chunk, Buf logits, Buf delta, LossStats stats);
  }

  /** {@link #gradient} with a {@link ChunkHook} (null: none). */
  public void gradient(Buf params, LocalBatch batch, Buf grad, LossStats stats, ChunkHook hook) {
    for (int from = 0; from < batch.size(); from += chunkLabels.length) {
      int n = gather(batch, from);
      LocalBatch chunk = batch.slice(from, from + n);
      Network.DeltaHook dh = null;
      if (hook != null) {
        hook.beforeChunk(chunk);
        dh = (logits, delta, rows, st) -> hook.adjust(chunk, logits, delta, st);
      }
      net.lossAndGradient(params, chunkX, n, chunkLabels, chunkWeights, 0, cfg.labelSmoothing(), grad, ws, stats, dh);
    }
  }

  /**
   * The logits (numOutputs x n) at {@code params} of the chunk currently gathered, copied out of
   * the workspace (valid until the next call). For use inside {@link ChunkHook#beforeChunk}.
   */
  public Buf forwardChunk(Buf params, LocalBatch chunk) {
    int n = chunk.size();
    Buf logits = net.forward(params, chunkX, n, ws);
    backend.copy(logits, 0, logitsCopy, 0, n * net.numOutputs());
    return logitsCopy;
  }

  /** Example weight of the batch's {@code i}-th example. */
  public double weight(LocalBatch batch, int i) {
    int r = batch.row(i);
    return part.block(r).weight(BlockedPartition.rowInBlock(r));
  }

  /** Loss statistics of {@code batch} at {@code params}, no gradient. */
  public void loss(Buf params, LocalBatch batch, LossStats stats) {
    for (int from = 0; from < batch.size(); from += chunkLabels.length) {
      int n = gather(batch, from);
      net.loss(params, chunkX, n, chunkLabels, chunkWeights, 0, cfg.labelSmoothing(), ws, stats);
    }
  }

  /** Calls {@code sink} with the logits of each chunk of {@code batch} (numOutputs x n) and its offset. */
  public void logits(Buf params, LocalBatch batch, LogitsSink sink) {
    for (int from = 0; from < batch.size(); from += chunkLabels.length) {
      int n = gather(batch, from);
      sink.accept(from, n, net.forward(params, chunkX, n, ws));
    }
  }

  /** Receives one chunk's logits. */
  public interface LogitsSink {
    void accept(int batchOffset, int n, Buf logits);
  }

  /**
   * #14: adds to {@code stats} the loss and accuracy at {@code params} of this partition's rows (with
   * {@code flippedOnly}, only those whose label was flipped by label noise), against the training
   * labels or, with {@code clean}, the clean ones; no label smoothing (an evaluation, not a step).
   */
  public void evaluate(Buf params, boolean flippedOnly, boolean clean, LossStats stats) {
    int d = net.numFeatures();
    int n = 0;
    for (DataBlock b : part.blocks) {
      for (int row = 0; row < b.numRows; row++) {
        if (flippedOnly && !b.flipped(row)) continue;
        backend.copy(b.features, row * d, chunkX, n * d, d);
        chunkLabels[n] = clean && b.cleanLabels != null ? b.cleanLabels[row] : b.labels[row];
        chunkWeights[n] = b.weight(row);
        if (++n == chunkLabels.length) {
          net.loss(params, chunkX, n, chunkLabels, chunkWeights, 0, 0.0, ws, stats);
          n = 0;
        }
      }
    }
    if (n > 0) net.loss(params, chunkX, n, chunkLabels, chunkWeights, 0, 0.0, ws, stats);
  }

  private int gather(LocalBatch batch, int from) {
    int n = Math.min(chunkLabels.length, batch.size() - from);
    int d = net.numFeatures();
    for (int j = 0; j < n; j++) {
      int r = batch.row(from + j);
      DataBlock b = part.block(r);
      int row = BlockedPartition.rowInBlock(r);
      backend.copy(b.features, row * d, chunkX, j * d, d);
      chunkLabels[j] = b.labels[row];
      chunkWeights[j] = b.weight(row);
    }
    return n;
  }
}
