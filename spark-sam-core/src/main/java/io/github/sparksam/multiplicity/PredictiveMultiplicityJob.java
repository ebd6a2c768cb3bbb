package io.github.sparksam.multiplicity;

import static org.apache.spark.sql.functions.col;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.DataSummary;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The predictive-multiplicity job: how much do near-optimal models disagree on each example?
 *
 * <p>Input: a DataFrame of {@code (id, features, label)} with a binary label (see
 * {@link io.github.sparksam.data.TabularEncoder}); optional target rows (default: the training
 * rows) and held-out rows. For each epsilon the job defines the epsilon-level (Rashomon) set by a
 * {@link RashomonCriterion} and computes, per target row, the baseline probability, the range
 * {@code [min, max]} of P(y=1) over the set, its width, whether some model in the set flips the
 * baseline's decision ({@code flippable}; Marx, Calmon and Ustun, ICML 2020) and whether some
 * model moves the probability by at least {@code delta} ({@code ambiguous}; Watson-Daniels, Parkes
 * and Ustun, AAAI 2023), and the Rashomon capacity (Hsu and Calmon, NeurIPS 2022).
 *
 * <ul>
 *   <li>{@code method = "exact"} (logistic regression with an L2 penalty, criterion log-loss): the
 *       exact viable prediction ranges by {@link ExactLogisticRange}; ambiguity and Rashomon
 *       capacity are then exact (for a binary score range {@code [lo, hi]} the capacity is that of
 *       the two-row channel of its endpoints); the discrepancy is a lower bound: the largest share
 *       of flipped decisions among the endpoint models found (each is in the set).
 *   <li>{@code method = "sampled"} (any model, MLPs included): a {@link ModelSample} of re-trained
 *       models filtered to the set; every measure is then a lower bound of the set's value.
 * </ul>
 *
 * <p>Output: {@link Report#ranges()}, one row per (epsilon, target), and one summary per epsilon
 * ({@code ambiguity}, {@code discrepancy}, capacity and width statistics, the data passes and
 * passes per target row of the exact method).
 */
public final class PredictiveMultiplicityJob {
  private static final Logger LOG = LoggerFactory.getLogger(PredictiveMultiplicityJob.class);

  private String method = "exact";
  private String model = "logistic";
  private RashomonCriterion criterion = RashomonCriterion.LOG_LOSS;
  private double[] epsilons = {0.01};
  private double l2 = 1e-3;
  private double tolerance = 1e-6;
  private int maxBatch = 0;
  private int maxEvaluations = 100;
  private double delta = 0.1;
  private int numPartitions = 0;
  private int maxTargets = 0;
  private String featuresCol = "features";
  private String labelCol = "label";
  private String idCol = "id";
  private Dataset<Row> targets;
  private Dataset<Row> heldOut;
  private SharpnessAwareClassifier estimator;
  private String sampling = "seeds";
  private int numModels = 10;
  private List<String> rules = List.of("none", "sam:0.05", "asam:0.5");

  /** The job's output. */
  public record Report(Dataset<Row> ranges, List<Map<String, Object>> summaries, Map<String, Object> info) {}

  public PredictiveMultiplicityJob setMethod(String v) { method = v.toLowerCase(Locale.ROOT); return this; }
  /** {@code logistic} (L2-regularised logistic regression) or {@code mlp} (the estimator's MLP; sampled only). */
  public PredictiveMultiplicityJob setModel(String v) { model = v.toLowerCase(Locale.ROOT); return this; }
  public PredictiveMultiplicityJob setCriterion(RashomonCriterion v) { criterion = v; return this; }
  public PredictiveMultiplicityJob setEpsilons(double... v) { epsilons = v.clone(); return this; }
  /** L2 penalty of the logistic model ({@code (l2/2)||coef||^2}, bias not penalised). */
  public PredictiveMultiplicityJob setL2(double v) { l2 = v; return this; }
  /** Accuracy of the exact range's probability endpoints. */
  public PredictiveMultiplicityJob setTolerance(double v) { tolerance = v; return this; }
  /** Most weight vectors one pass of the exact method evaluates (0, the default: automatic, see {@link LogisticObjective}). */
  public PredictiveMultiplicityJob setMaxBatch(int v) { maxBatch = v; return this; }
  public PredictiveMultiplicityJob setMaxEvaluations(int v) { maxEvaluations = v; return this; }
  /** Probability threshold of {@code ambiguous} and of the probabilistic discrepancy. */
  public PredictiveMultiplicityJob setDelta(double v) { delta = v; return this; }
  public PredictiveMultiplicityJob setNumPartitions(int v) { numPartitions = v; return this; }
  /** Use only the first N target rows by id (0: all). */
  public PredictiveMultiplicityJob setMaxTargets(int v) { maxTargets = v; return this; }
  public PredictiveMultiplicityJob setFeaturesCol(String v) { featuresCol = v; return this; }
  public PredictiveMultiplicityJob setLabelCol(String v) { labelCol = v; return this; }
  public PredictiveMultiplicityJob setIdCol(String v) { idCol = v; return this; }
  /** Rows whose ranges to compute (same columns as the training data); default: the training rows. */
  public PredictiveMultiplicityJob setTargets(Dataset<Row> v) { targets = v; return this; }
  /** Held-out rows for {@link RashomonCriterion#HELDOUT_LOSS}. */
  public PredictiveMultiplicityJob setHeldOut(Dataset<Row> v) { heldOut = v; return this; }
  /** The estimator the sampled method re-trains (its seed is the baseline's); default: see {@link #defaultEstimator}. */
  public PredictiveMultiplicityJob setEstimator(SharpnessAwareClassifier v) { estimator = v; return this; }
  /** {@code seeds}, {@code bootstrap} or {@code rules}. */
  public PredictiveMultiplicityJob setSampling(String v) { sampling = v; return this; }
  public PredictiveMultiplicityJob setNumModels(int v) { numModels = v; return this; }
  public PredictiveMultiplicityJob setRules(List<String> v) { rules = List.copyOf(v); return this; }

  /**
   * The sampled method's default estimator: for {@code logistic} the softmax (logistic) model with
   * weight decay {@code l2}, for {@code mlp} one hidden layer of 16 relu units; Adam, 60 epochs, batch 64.
   */
  public SharpnessAwareClassifier defaultEstimator() {
    SharpnessAwareClassifier e = new SharpnessAwareClassifier().setOptimizer("adam").setLearningRate(0.01)
        .setEpochs(60).setBatchSize(64).setPrecision("float64").setWeightDecay(l2).setSeed(42);
    if (model.equals("mlp")) e.setModelType("mlp").setHiddenLayers(new int[] {16});
    else e.setModelType("softmax");
    e.setFeaturesCol(featuresCol);
    e.setLabelCol(labelCol);
    return e;
  }

  /** Checks the configuration; an {@link IllegalArgumentException} says what is wrong. */
  public void validate() {
    if (!List.of("exact", "sampled").contains(method)) {
      throw new IllegalArgumentException("method must be exact or sampled, got '" + method + "'");
    }
    if (!List.of("logistic", "mlp").contains(model)) {
      throw new IllegalArgumentException("model must be logistic or mlp, got '" + model + "'");
    }
    if (epsilons == null || epsilons.length == 0) throw new IllegalArgumentException("give at least one epsilon");
    for (double e : epsilons) {
      if (!(e > 0) || Double.isInfinite(e)) {
        throw new IllegalArgumentException("epsilon must be > 0 (the epsilon-level set is {h : L(h) <= L(h0) + epsilon}), got " + e);
      }
    }
    if (!(delta > 0 && delta < 1)) throw new IllegalArgumentException("delta must be in (0, 1), got " + delta);
    if (method.equals("exact")) {
      if (model.equals("mlp") || (estimator != null && !estimator.getModelType().equals("softmax"))) {
        throw new IllegalArgumentException("the exact method needs a convex model (logistic regression): an MLP's "
            + "epsilon-level set is not convex and its range cannot be computed exactly; use the sampled method");
      }
      if (criterion != RashomonCriterion.LOG_LOSS) {
        throw new IllegalArgumentException("the exact method defines the set by the training log-loss; criterion "
            + criterion.label() + " needs the sampled method");
      }
      if (!(l2 >= 0) || Double.isInfinite(l2)) throw new IllegalArgumentException("l2 must be >= 0, got " + l2);
    }
    if (criterion == RashomonCriterion.HELDOUT_LOSS && heldOut == null) {
      throw new IllegalArgumentException("criterion heldout-loss needs held-out data");
    }
  }

  public Report run(Dataset<Row> train) {
    validate();
    return method.equals("exact") ? runExact(train) : runSampled(train);
  }

  // ------------------------------------------------------------------------------------------- exact
  private Report runExact(Dataset<Row> train) {
    long t0 = System.nanoTime();
    JavaRDD<BlockedPartition> blocks = Blockifier.blockify(train, new InputColumns(featuresCol, labelCol, null),
        Precision.FLOAT64, numPartitions, 2).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      DataSummary ds;
      try {
        ds = DataSummary.of(blocks, featuresCol);
      } catch (Exception e) {
        throw Errors.rethrow(e);
      }
      if (ds.maxLabel() > 1) throw new IllegalArgumentException("label column '" + labelCol + "' must be 0/1 (binary)");
      Target t = collectTargets(targets == null ? train : targets, ds.numFeatures());
      LogisticObjective obj = new LogisticObjective(blocks, ds.numFeatures(), l2, maxBatch);
      ExactLogisticRange solver = new ExactLogisticRange(obj, tolerance, maxEvaluations);
      ExactLogisticRange.Baseline base = solver.fitBaseline();
      long baselinePasses = obj.passes();
      LOG.info("spark-sam multiplicity: logistic baseline on {} rows x {} features: loss {} after {} Newton passes; "
          + "{} target rows, epsilons {}", ds.numRows(), ds.numFeatures(), base.loss(), baselinePasses, t.ids.length,
          Arrays.toString(epsilons));
      double[] eps = epsilons.clone();
      Arrays.sort(eps);                       // summaries and rows in increasing epsilon, as the sampled method
      List<ExactLogisticRange.Result> results = solver.ranges(base, t.ids, t.x, eps);
      List<Row> rows = new ArrayList<>();
      List<Map<String, Object>> summaries = new ArrayList<>();
      for (ExactLogisticRange.Result r : results) summaries.add(exactSummary(r, t, rows, ds));
      Map<String, Object> info = new LinkedHashMap<>();
      info.put("method", "exact");
      info.put("model", "logistic");
      info.put("criterion", criterion.label());
      info.put("l2", l2);
      info.put("trainRows", ds.numRows());
      info.put("features", ds.numFeatures());
      info.put("partitions", blocks.getNumPartitions());
      info.put("targets", t.ids.length);
      info.put("baselineLoss", base.loss());
      info.put("baselinePasses", baselinePasses);
      info.put("totalPasses", obj.passes());
      info.put("weightVectorsPerPass", obj.maxBatch());
      info.put("tolerance", tolerance);
      info.put("wallTimeSeconds", (System.nanoTime() - t0) / 1e9);
      return new Report(frame(train.sparkSession(), rows), summaries, info);
    } finally {
      blocks.unpersist(false);
    }
  }

  private record Target(long[] ids, double[][] x, double[] y) {}

  private Target collectTargets(Dataset<Row> df, int d) {
    Dataset<Row> sel = df.select(col(idCol).cast("long"), col(featuresCol), col(labelCol).cast("double")).orderBy(col(idCol));
    if (maxTargets > 0) sel = sel.limit(maxTargets);
    List<Row> rows = sel.collectAsList();
    if (rows.isEmpty()) throw new IllegalArgumentException("there are no target rows");
    long[] ids = new long[rows.size()];
    double[][] x = new double[rows.size()][];
    double[] y = new double[rows.size()];
    for (int i = 0; i < ids.length; i++) {
      Row r = rows.get(i);
      ids[i] = r.getLong(0);
      x[i] = ((Vector) r.get(1)).toArray();
      if (x[i].length != d) {
        throw new IllegalArgumentException("target row " + ids[i] + " has " + x[i].length + " features, the training data " + d);
      }
      y[i] = r.isNullAt(2) ? Double.NaN : r.getDouble(2);
    }
    return new Target(ids, x, y);
  }

  private Map<String, Object> exactSummary(ExactLogisticRange.Result r, Target t, List<Row> rows, DataSummary ds) {
    int m = r.ranges().size();
    double[] widths = new double[m], caps = new double[m], p0 = new double[m];
    int flippable = 0, ambiguous = 0, unconverged = 0;
    long evals = 0;
    int maxEvals = 0;
    for (int i = 0; i < m; i++) {
      ExactLogisticRange.Range x = r.ranges().get(i);
      double b = x.baseline(), lo = x.lower(), hi = x.upper();
      p0[i] = b;
      boolean flip = b >= 0.5 ? lo < 0.5 : hi >= 0.5;
      boolean amb = Math.max(b - lo, hi - b) >= delta;
      widths[i] = hi - lo;
      caps[i] = BlahutArimoto.binaryRange(lo, hi);
      if (flip) flippable++;
      if (amb) ambiguous++;
      if (!x.converged()) unconverged++;
      int e = x.min().evaluations() + x.max().evaluations();
      evals += e;
      maxEvals = Math.max(maxEvals, Math.max(x.min().evaluations(), x.max().evaluations()));
      rows.add(RowFactory.create(r.epsilon(), x.id(), t.y[i], b, lo, hi, hi - lo, amb, flip, caps[i], null, null, null,
          x.converged(), e));
    }
    // discrepancy lower bound: every endpoint model is in the set; count its flips over the targets
    int bestFlips = 0, bestDelta = 0;
    for (ExactLogisticRange.Range x : r.ranges()) {
      for (ExactLogisticRange.Endpoint ep : new ExactLogisticRange.Endpoint[] {x.min(), x.max()}) {
        if (!ep.converged()) continue;
        double[] w = ep.weights();
        int d = w.length - 1, flips = 0, moved = 0;
        for (int i = 0; i < m; i++) {
          double z = w[d];
          for (int j = 0; j < d; j++) z += w[j] * t.x[i][j];
          double p = LogisticBatchKernel.sigmoid(z);
          if ((p >= 0.5) != (p0[i] >= 0.5)) flips++;
          if (Math.abs(p - p0[i]) >= delta) moved++;
        }
        bestFlips = Math.max(bestFlips, flips);
        bestDelta = Math.max(bestDelta, moved);
      }
    }
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("epsilon", r.epsilon());
    s.put("method", "exact");
    s.put("criterion", criterion.label());
    s.put("targets", m);
    s.put("ambiguity", (double) flippable / m);
    s.put("discrepancy", (double) bestFlips / m);
    s.put("discrepancyIsLowerBound", true);
    s.put("delta", delta);
    s.put("ambiguityAtDelta", (double) ambiguous / m);
    s.put("discrepancyAtDelta", (double) bestDelta / m);
    s.put("capacity", stats(caps));
    s.put("width", stats(widths));
    s.put("passes", r.passes());
    s.put("passesPerTargetRow", (double) r.passes() / m);
    s.put("evaluationsPerEndpoint", Map.of("mean", (double) evals / (2.0 * m), "max", maxEvals));
    s.put("unconvergedTargets", unconverged);
    s.put("seconds", r.seconds());
    s.put("note", "ambiguity and capacity are exact for the set (to the tolerance); discrepancy is a lower bound: "
        + "the most flipped decisions of one endpoint model found");
    LOG.info("spark-sam multiplicity: epsilon {}: ambiguity {} discrepancy >= {} in {} passes ({} s)", r.epsilon(),
        s.get("ambiguity"), s.get("discrepancy"), r.passes(), String.format(Locale.ROOT, "%.1f", r.seconds()));
    return s;
  }

  // ------------------------------------------------------------------------------------------- sampled
  private Report runSampled(Dataset<Row> train) {
    long t0 = System.nanoTime();
    if (train.isEmpty()) throw new IllegalArgumentException("the training data is empty (0 rows)");
    SharpnessAwareClassifier est = estimator != null ? estimator : defaultEstimator();
    ModelSample sample = ModelSample.fit(est, train, sampling, numModels, rules, idCol);
    Dataset<Row> ref = criterion == RashomonCriterion.HELDOUT_LOSS ? heldOut : train;
    double[][] crit = sample.criteria(ref, featuresCol, labelCol);
    int ci = criterion == RashomonCriterion.ZERO_ONE ? 1 : 0;
    Dataset<Row> tg = targets == null ? train : targets;
    if (maxTargets > 0) tg = tg.orderBy(col(idCol)).limit(maxTargets);
    List<ModelSample.Scores> scores = sample.scores(tg, idCol, featuresCol, labelCol);
    if (scores.isEmpty()) throw new IllegalArgumentException("there are no target rows");
    int k = sample.size();
    List<Row> rows = new ArrayList<>();
    List<Map<String, Object>> summaries = new ArrayList<>();
    double[] eps = epsilons.clone();
    Arrays.sort(eps);
    for (double e : eps) {
      List<Integer> kept = new ArrayList<>();
      for (int j = 1; j <= k; j++) if (crit[j][ci] <= crit[0][ci] + e) kept.add(j);
      int m = scores.size();
      double[] caps = new double[m], widths = new double[m], stds = new double[m], dis = new double[m];
      long[] flips = new long[kept.size()], moved = new long[kept.size()];
      int flippable = 0, ambiguous = 0;
      for (int i = 0; i < m; i++) {
        ModelSample.Scores sc = scores.get(i);
        double b = sc.p()[0];
        double[] s = new double[kept.size()];
        for (int q = 0; q < s.length; q++) {
          s[q] = sc.p()[kept.get(q)];
          if (SampledMeasures.decision(s[q]) != SampledMeasures.decision(b)) flips[q]++;
          if (Math.abs(s[q] - b) >= delta) moved[q]++;
        }
        SampledMeasures.Row r = SampledMeasures.of(b, s, delta, true);
        caps[i] = r.rashomonCapacity();
        widths[i] = r.width();
        stds[i] = r.std();
        dis[i] = r.disagreement();
        if (r.flipped()) flippable++;
        if (r.ambiguous()) ambiguous++;
        rows.add(RowFactory.create(e, sc.id(), sc.label(), b, r.min(), r.max(), r.width(), r.ambiguous(), r.flipped(),
            r.rashomonCapacity(), r.std(), r.disagreement(), r.selfConsistency(), null, null));
      }
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("epsilon", e);
      s.put("method", "sampled");
      s.put("criterion", criterion.label());
      s.put("targets", m);
      s.put("ambiguity", (double) flippable / m);
      s.put("discrepancy", SampledMeasures.discrepancy(flips, m));
      s.put("discrepancyIsLowerBound", true);
      s.put("delta", delta);
      s.put("ambiguityAtDelta", (double) ambiguous / m);
      s.put("discrepancyAtDelta", SampledMeasures.discrepancy(moved, m));
      s.put("capacity", stats(caps));
      s.put("width", stats(widths));
      s.put("scoreStd", stats(stds));
      s.put("disagreement", stats(dis));
      s.put("modelsSampled", k);
      s.put("modelsInSet", kept.size());
      s.put("note", "all sampled measures are lower bounds of the epsilon-level set's values (the set holds models "
          + "that were not sampled); disagreement is Kulynych et al.'s unbiased 4k(K-k)/(K(K-1)), which can exceed 1");
      summaries.add(s);
      LOG.info("spark-sam multiplicity: epsilon {}: {} of {} models in the set, ambiguity >= {} discrepancy >= {}", e,
          kept.size(), k, s.get("ambiguity"), s.get("discrepancy"));
    }
    Map<String, Object> info = new LinkedHashMap<>();
    info.put("method", "sampled");
    info.put("model", est.getModelType().equals("softmax") ? "logistic" : "mlp" + Arrays.toString(est.getHiddenLayers()));
    info.put("criterion", criterion.label());
    info.put("sampling", sampling);
    Map<String, Object> ep = new LinkedHashMap<>();
    ep.put("modelType", est.getModelType());
    if (est.getModelType().equals("mlp")) ep.put("hiddenLayers", est.getHiddenLayers());
    ep.put("optimizer", est.getOptimizer());
    ep.put("learningRate", est.getLearningRate());
    ep.put("epochs", est.getEpochs());
    ep.put("batchSize", est.getBatchSize());
    ep.put("weightDecay", est.getWeightDecay());
    ep.put("seed", est.getSeed());
    ep.put("numModels", numModels);
    if (sampling.equalsIgnoreCase("rules")) ep.put("rules", rules);
    info.put("estimator", ep);
    List<Map<String, Object>> models = new ArrayList<>();
    for (int j = 0; j <= k; j++) {
      Map<String, Object> mm = new LinkedHashMap<>();
      mm.put("model", sample.members().get(j).description());
      mm.put("logLoss", crit[j][0]);
      mm.put("zeroOneError", crit[j][1]);
      models.add(mm);
    }
    info.put("models", models);
    info.put("targets", scores.size());
    info.put("wallTimeSeconds", (System.nanoTime() - t0) / 1e9);
    return new Report(frame(train.sparkSession(), rows), summaries, info);
  }

  // ------------------------------------------------------------------------------------------- output
  /** The schema of {@link Report#ranges()}; method-specific columns are null for the other method. */
  public static final StructType RANGES_SCHEMA = new StructType()
      .add("epsilon", DataTypes.DoubleType, false)
      .add("id", DataTypes.LongType, false)
      .add("label", DataTypes.DoubleType, true)
      .add("baseline", DataTypes.DoubleType, false)
      .add("min", DataTypes.DoubleType, false)
      .add("max", DataTypes.DoubleType, false)
      .add("width", DataTypes.DoubleType, false)
      .add("ambiguous", DataTypes.BooleanType, false)
      .add("flippable", DataTypes.BooleanType, false)
      .add("rashomonCapacity", DataTypes.DoubleType, false)
      .add("scoreStd", DataTypes.DoubleType, true)
      .add("disagreement", DataTypes.DoubleType, true)
      .add("selfConsistency", DataTypes.DoubleType, true)
      .add("converged", DataTypes.BooleanType, true)
      .add("evaluations", DataTypes.IntegerType, true);

  private static Dataset<Row> frame(SparkSession spark, List<Row> rows) {
    return spark.createDataFrame(rows, RANGES_SCHEMA);
  }

  static Map<String, Object> stats(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    double sum = 0;
    for (double x : s) sum += x;
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("mean", s.length == 0 ? Double.NaN : sum / s.length);
    m.put("median", quantile(s, 0.5));
    m.put("p90", quantile(s, 0.9));
    m.put("max", s.length == 0 ? Double.NaN : s[s.length - 1]);
    return m;
  }

  static double quantile(double[] sorted, double q) {
    if (sorted.length == 0) return Double.NaN;
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }
}
