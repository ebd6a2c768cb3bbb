package io.github.sparksam.sharpness;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.nn.Network;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * The library entry point: all sharpness and curvature measures of one trained model on data,
 * returned as one {@link SharpnessReport}.
 *
 * <ul>
 *   <li><b>Adaptive/standard, worst/average-case m-sharpness</b> (Andriushchenko et al. 2023) on the
 *   fixed {@link EvaluationSample}. The sample is small, so the parallel axis is
 *   (definition x batch): one Spark job whose tasks each run {@link WorstCaseSharpness} or
 *   {@link AverageCaseSharpness} on one whole batch with the sample broadcast. No task depends on
 *   the data's partitioning, so the values are identical for any partitioning.</li>
 *   <li><b>Hessian measures</b> over the chosen rows of the cached data ({@link DistributedObjective}:
 *   each Hessian-vector product, or block of them, is one distributed pass): top eigenvalue by
 *   {@link Lanczos} and by {@link PowerIteration}, trace and Frobenius norm by {@link Hutchinson},
 *   eigenvalue density by {@link SpectralDensity} (SLQ), and {@link DirectionalSharpness} along the
 *   negative gradient.</li>
 * </ul>
 * Losses are the weighted mean cross-entropy (example weights if the data has them; no
 * regulariser, no label smoothing), computed in double precision.
 */
public final class SharpnessAnalysis {
  private SharpnessAnalysis() {}

  /**
   * Blockifies {@code data} (the model's features and label columns; {@code weightCol} may be null)
   * in float64, caches it for the run, measures, and releases the cache.
   */
  public static SharpnessReport run(SharpnessAwareClassificationModel model, Dataset<?> data, String weightCol,
                                    int numPartitions, SharpnessConfig cfg) {
    return run(model, data, new InputColumns(model.getFeaturesCol(), model.getLabelCol(), weightCol), numPartitions, cfg);
  }

  /** As above with explicit input columns; {@code numPartitions} 0 keeps the data's partitioning. */
  public static SharpnessReport run(SharpnessAwareClassificationModel model, Dataset<?> data, InputColumns cols,
                                    int numPartitions, SharpnessConfig cfg) {
    @SuppressWarnings("unchecked")
    Dataset<Row> df = (Dataset<Row>) data;
    JavaRDD<BlockedPartition> blocks = Blockifier.blockify(df, cols, Precision.FLOAT64, numPartitions,
        model.numClasses()).persist(StorageLevel.MEMORY_AND_DISK());
    blocks.setName("spark-sam sharpness blocks of " + model.uid());
    try {
      return run(blocks, model.network(), model.weights(), cfg);
    } finally {
      blocks.unpersist(false);
    }
  }

  /** Measures the network with weights {@code w} on cached blocks (any precision). */
  public static SharpnessReport run(JavaRDD<BlockedPartition> blocks, Network net, double[] w, SharpnessConfig cfg) {
    cfg.validate();
    if (w.length != net.numParams()) {
      throw new IllegalArgumentException("weights have " + w.length + " entries, " + net + " needs " + net.numParams());
    }
    long t0 = System.nanoTime();
    SharpnessReport rep = new SharpnessReport();
    rep.model = net.toString();
    rep.numParams = net.numParams();
    settings(rep, cfg);
    long passes = 0;
    if (!cfg.specs.isEmpty()) {
      passes++;
      EvaluationSample sample = EvaluationSample.collect(blocks, cfg.sampleSize, cfg.batchSize, cfg.sampleSeed);
      sharpness(blocks, net, w, cfg, sample, rep);
    }
    if (!cfg.hessianMeasures.isEmpty()) {
      RowSelection sel = RowSelection.all();
      if (cfg.hessianRows > 0) {
        passes++;
        sel = EvaluationSample.selection(blocks, cfg.hessianRows, cfg.sampleSeed);
      }
      DistributedObjective obj = new DistributedObjective(blocks, net, sel, cfg.chunkRows);
      hessian(obj, w, cfg, rep);
      passes += obj.passes();
    }
    rep.totalPasses = passes;
    rep.totalSeconds = (System.nanoTime() - t0) / 1e9;
    return rep;
  }

  private static void settings(SharpnessReport rep, SharpnessConfig c) {
    var s = rep.settings;
    s.put("sampleSize", c.sampleSize);
    s.put("batchSize", c.batchSize);
    s.put("sampleSeed", c.sampleSeed);
    s.put("sampleOrder", c.sampleSeed < 0 ? "first rows by example id (reference protocol)" : "seeded hash of the example id");
    s.put("worstCaseIters", c.worstCaseIters);
    s.put("stepSizeMult", c.stepSizeMult);
    s.put("restartOnHalving", c.referenceRestart ? "reference (keep delta, gradient at best point)" : "canonical APGD (reset to best)");
    s.put("averageCaseDraws", c.averageCaseDraws);
    s.put("antithetic", c.antithetic);
    s.put("hessianRows", c.hessianRows == 0 ? "all" : (Object) c.hessianRows);
    s.put("lanczosMaxIter", c.lanczosMaxIter);
    s.put("lanczosTol", c.lanczosTol);
    s.put("powerMaxIter", c.powerMaxIter);
    s.put("powerTol", c.powerTol);
    s.put("hutchinsonProbes", c.hutchinsonProbes);
    s.put("probesPerPass", c.probesPerPass);
    s.put("densityRuns", c.densityRuns);
    s.put("densityIters", c.densityIters);
    s.put("seed", c.seed);
  }

  /** One (definition, batch) task. */
  private record Task(int spec, int batch) implements Serializable {}

  private record TaskResult(int spec, int batch, double init, double value, double initErr, double valueErr,
                            long sweeps, double seconds) implements Serializable {}

  private record Shared(Network net, double[] w, List<SharpnessSpec> specs, List<SampleBatch> batches, int iters,
                        double stepMult, boolean referenceRestart, int draws, boolean antithetic, long seed)
      implements Serializable {}

  private static void sharpness(JavaRDD<BlockedPartition> blocks, Network net, double[] w, SharpnessConfig cfg,
                                EvaluationSample sample, SharpnessReport rep) {
    long t0 = System.nanoTime();
    List<SampleBatch> batches = sample.batches();
    List<Task> tasks = new ArrayList<>();
    for (int s = 0; s < cfg.specs.size(); s++) for (int b = 0; b < batches.size(); b++) tasks.add(new Task(s, b));
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(blocks.context());
    Broadcast<Shared> bc = jsc.broadcast(new Shared(net, w, List.copyOf(cfg.specs), batches, cfg.worstCaseIters,
        cfg.stepSizeMult, cfg.referenceRestart, cfg.averageCaseDraws, cfg.antithetic, cfg.seed));
    List<TaskResult> results;
    String old = jsc.getLocalProperty("spark.job.description");
    try {
      jsc.setJobDescription("spark-sam sharpness: " + cfg.specs.size() + " definitions x " + batches.size() + " batches");
      results = jsc.parallelize(tasks, tasks.size()).map(t -> runTask(bc.value(), t)).collect();
    } finally {
      jsc.setJobDescription(old);
      bc.destroy();
    }
    int nb = batches.size();
    double lossSum = 0, errSum = 0, wsum = 0;
    for (SampleBatch b : batches) wsum += b.numRows();
    for (int s = 0; s < cfg.specs.size(); s++) {
      double[] per = new double[nb], perErr = new double[nb];
      long sweeps = 0;
      double secs = 0;
      for (TaskResult r : results) {
        if (r.spec() != s) continue;
        per[r.batch()] = r.value() - r.init();
        perErr[r.batch()] = r.valueErr() - r.initErr();
        sweeps = Math.max(sweeps, r.sweeps());
        secs += r.seconds();
        if (s == 0) {
          lossSum += r.init() * batches.get(r.batch()).numRows();
          errSum += r.initErr() * batches.get(r.batch()).numRows();
        }
      }
      double[] ms = nb > 1 ? Hutchinson.meanAndSe(per) : new double[] {per[0], Double.NaN};
      double meanErr = 0;
      for (double e : perErr) meanErr += e / nb;
      rep.sharpness.add(new SharpnessReport.Sharpness(cfg.specs.get(s), ms[0], meanErr, ms[1], per, perErr, sweeps, secs));
    }
    rep.sampleRows = sample.numRows();
    rep.numBatches = nb;
    rep.sampleLoss = lossSum / wsum;
    rep.sampleError = errSum / wsum;
    rep.sharpnessSeconds = (System.nanoTime() - t0) / 1e9;
  }

  private static TaskResult runTask(Shared sh, Task t) {
    long t0 = System.nanoTime();
    SharpnessSpec spec = sh.specs().get(t.spec());
    SampleBatch b = sh.batches().get(t.batch());
    SampleBatch.Objective f = b.objective(sh.net());
    Ball ball = new Ball(spec.norm(), spec.adaptive(), spec.rho(), sh.w());
    if (spec.worstCase()) {
      WorstCaseSharpness.BatchResult r = WorstCaseSharpness.run(f, t.batch(), sh.w(), ball, sh.iters(), sh.stepMult(),
          sh.referenceRestart());
      return new TaskResult(t.spec(), t.batch(), r.initLoss(), r.worstLoss(), r.initError(), r.worstError(), r.sweeps(),
          (System.nanoTime() - t0) / 1e9);
    }
    long seed = sh.seed() * 31 + t.spec();
    AverageCaseSharpness.BatchResult r = AverageCaseSharpness.run(f, t.batch(), sh.w(), ball, sh.draws(), sh.antithetic(), seed);
    return new TaskResult(t.spec(), t.batch(), r.initLoss(), r.meanLoss(), r.initError(), r.meanError(), r.sweeps(),
        (System.nanoTime() - t0) / 1e9);
  }

  private static <T> SharpnessReport.Timed<T> timed(Supplier<T> f) {
    long t0 = System.nanoTime();
    T r = f.get();
    return new SharpnessReport.Timed<>(r, (System.nanoTime() - t0) / 1e9);
  }

  private static void hessian(DistributedObjective obj, double[] w, SharpnessConfig cfg, SharpnessReport rep) {
    HessianOperator h = obj.hessianAt(w);
    var ms = cfg.hessianMeasures;
    if (ms.contains(SharpnessConfig.DIRECTIONAL_SHARPNESS)) {
      rep.directional = timed(() -> DirectionalSharpness.alongNegativeGradient(obj, w));
    }
    if (ms.contains(SharpnessConfig.TOP_EIGENVALUE)) {
      rep.topEigenvalue = timed(() -> Lanczos.topEigenvalue(h, cfg.lanczosMaxIter, cfg.lanczosTol, cfg.seed));
    }
    if (ms.contains(SharpnessConfig.TOP_EIGENVALUE_POWER)) {
      rep.topEigenvaluePower = timed(() -> PowerIteration.topEigenvalue(h, cfg.powerMaxIter, cfg.powerTol, cfg.seed));
    }
    if (ms.contains(SharpnessConfig.HESSIAN_TRACE)) {
      rep.trace = timed(() -> Hutchinson.estimate(h, cfg.hutchinsonProbes, cfg.probesPerPass, cfg.seed + 1));
    }
    if (ms.contains(SharpnessConfig.SPECTRAL_DENSITY)) {
      rep.density = timed(() -> SpectralDensity.estimate(h, cfg.densityRuns, cfg.densityIters, cfg.seed + 2));
    }
    DistributedObjective.Result base = obj.evaluate(w, true, null);
    rep.hessianRows = base.rows();
    rep.hessianLoss = base.loss();
    rep.hessianError = base.error();
    rep.gradientNorm = Vec.norm(base.gradient());
  }
}
