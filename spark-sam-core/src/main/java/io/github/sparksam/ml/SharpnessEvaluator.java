package io.github.sparksam.ml;

import io.github.sparksam.data.InputColumns;
import io.github.sparksam.sharpness.SharpnessAnalysis;
import io.github.sparksam.sharpness.SharpnessConfig;
import io.github.sparksam.sharpness.SharpnessReport;
import io.github.sparksam.sharpness.SharpnessSpec;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.evaluation.Evaluator;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.shared.HasWeightCol;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.StructField;

/**
 * An MLlib {@link Evaluator} whose metric is a sharpness or curvature measure of the model (see
 * {@link SharpnessAnalysis}); smaller is flatter, so {@link #isLargerBetter} is false. Put it in a
 * {@code CrossValidator} or {@code TrainValidationSplit} to select flat models.
 *
 * <p>Sharpness is a property of the weights, not of predictions, so the evaluator must find the
 * model. {@code CrossValidator} calls {@code evaluate(model.transform(validation))}; a
 * {@link SharpnessAwareClassificationModel}'s transform tags its prediction column's metadata with
 * a token ({@link SharpnessAwareClassificationModel#MODEL_TAG}) that {@link ModelRegistry} maps back
 * to the model instance in the driver JVM. So {@code evaluate} accepts (1) the output of such a
 * transform (tag kept: select or rename other columns freely, but keep the prediction column), or
 * (2) any DataFrame with features and label after {@link #setModel}. The measure is computed on the
 * dataset's features/label columns (for CrossValidator: the validation fold). Anything else fails
 * with an IllegalArgumentException saying so, and so does a {@link #setModel} evaluator given
 * another model's output (as CrossValidator would: it must score each candidate on its own model).
 *
 * <p>{@code weightCol} is MLlib's shared {@link HasWeightCol} param, so generic MLlib code sees it.
 *
 * <pre>{@code
 * SharpnessEvaluator ev = new SharpnessEvaluator().setMetricName("worstCaseAdaptiveLinf").setRho(0.002);
 * double s = ev.evaluate(model.transform(df));
 * }</pre>
 */
public class SharpnessEvaluator extends Evaluator implements DefaultParamsWritable, HasWeightCol {
  private static final long serialVersionUID = 1L;

  private static final ThreadLocal<String> PENDING_UID = new ThreadLocal<>();
  private String uid; // no initializer: the uid trap (conventions 2.2)

  /** The metric names: the eight sharpness definitions and the scalar Hessian measures. */
  public static final String[] METRICS = {
      "worstCaseAdaptiveL2", "worstCaseAdaptiveLinf", "worstCaseStandardL2", "worstCaseStandardLinf",
      "averageCaseAdaptiveL2", "averageCaseAdaptiveLinf", "averageCaseStandardL2", "averageCaseStandardLinf",
      SharpnessConfig.TOP_EIGENVALUE, SharpnessConfig.TOP_EIGENVALUE_POWER, SharpnessConfig.HESSIAN_TRACE,
      SharpnessConfig.HESSIAN_FROBENIUS, SharpnessConfig.DIRECTIONAL_SHARPNESS};

  private Param<String> metricName;
  private DoubleParam rho;
  private Param<String> featuresCol;
  private Param<String> labelCol;
  private Param<String> weightCol;
  private IntParam sampleSize;
  private IntParam batchSize;
  private LongParam sampleSeed;
  private IntParam worstCaseIters;
  private IntParam averageCaseDraws;
  private IntParam hessianRows;
  private LongParam seed;
  private transient SharpnessAwareClassificationModel model;

  public SharpnessEvaluator() { this(Identifiable.randomUID("sharpnessEval")); }

  public SharpnessEvaluator(String uid) { this(stash(uid)); }

  private SharpnessEvaluator(Void ignored) {
    super();
    // Evaluator's constructor creates no params, so nothing has read the uid yet: take it now,
    // before the hand-off is cleared and before the params below ask for it.
    uid = PENDING_UID.get();
    PENDING_UID.remove();
    if (uid == null || uid.isEmpty()) throw new IllegalArgumentException("a SharpnessEvaluator needs a non-empty uid");
    metricName = new Param<>(this, "metricName", "the measure: " + String.join(", ", METRICS),
        ParamValidators.inArray(METRICS));
    rho = new DoubleParam(this, "rho", "radius of the sharpness ball; 0 or less: the metric's default (see SharpnessSpec)");
    featuresCol = new Param<>(this, "featuresCol", "features column name");
    labelCol = new Param<>(this, "labelCol", "label column name");
    weightCol = new Param<>(this, "weightCol", "example weight column name; empty: all weights 1");
    sampleSize = new IntParam(this, "sampleSize", "rows of the fixed sharpness sample", ParamValidators.gtEq(1));
    batchSize = new IntParam(this, "batchSize", "m of m-sharpness: rows per sample batch", ParamValidators.gtEq(1));
    sampleSeed = new LongParam(this, "sampleSeed", "negative: the first rows by example id (reference); else a seeded sample");
    worstCaseIters = new IntParam(this, "worstCaseIters", "APGD steps of worst-case sharpness", ParamValidators.gtEq(1));
    averageCaseDraws = new IntParam(this, "averageCaseDraws", "random draws of average-case sharpness", ParamValidators.gtEq(1));
    hessianRows = new IntParam(this, "hessianRows", "rows for Hessian measures; 0: all rows of the dataset", ParamValidators.gtEq(0));
    seed = new LongParam(this, "seed", "random seed of the probes and draws");
    setDefault(metricName, "worstCaseAdaptiveLinf");
    setDefault(rho, -1.0);
    setDefault(featuresCol, "features");
    setDefault(labelCol, "label");
    setDefault(weightCol, "");
    setDefault(sampleSize, 1024);
    setDefault(batchSize, 128);
    setDefault(sampleSeed, -1L);
    setDefault(worstCaseIters, 20);
    setDefault(averageCaseDraws, 20);
    setDefault(hessianRows, 0);
    setDefault(seed, 0L);
  }

  private static Void stash(String uid) {
    PENDING_UID.set(uid);
    return null;
  }

  @Override public String uid() {
    if (uid == null) uid = PENDING_UID.get();
    return uid;
  }

  /** The setter Scala generates for {@link HasWeightCol}'s val; only that trait's initializer would call it. */
  @Override public void org$apache$spark$ml$param$shared$HasWeightCol$_setter_$weightCol_$eq(Param<String> p) {
    weightCol = p;
  }

  public Param<String> metricName() { return metricName; }
  public DoubleParam rho() { return rho; }
  public Param<String> featuresCol() { return featuresCol; }
  public Param<String> labelCol() { return labelCol; }
  @Override public Param<String> weightCol() { return weightCol; }
  public IntParam sampleSize() { return sampleSize; }
  public IntParam batchSize() { return batchSize; }
  public LongParam sampleSeed() { return sampleSeed; }
  public IntParam worstCaseIters() { return worstCaseIters; }
  public IntParam averageCaseDraws() { return averageCaseDraws; }
  public IntParam hessianRows() { return hessianRows; }
  public LongParam seed() { return seed; }

  public String getMetricName() { return getOrDefault(metricName); }
  public double getRho() { return (Double) getOrDefault(rho); }
  public String getFeaturesCol() { return getOrDefault(featuresCol); }
  public String getLabelCol() { return getOrDefault(labelCol); }
  @Override public String getWeightCol() { return getOrDefault(weightCol); }
  public int getSampleSize() { return (Integer) getOrDefault(sampleSize); }
  public int getBatchSize() { return (Integer) getOrDefault(batchSize); }
  public long getSampleSeed() { return (Long) getOrDefault(sampleSeed); }
  public int getWorstCaseIters() { return (Integer) getOrDefault(worstCaseIters); }
  public int getAverageCaseDraws() { return (Integer) getOrDefault(averageCaseDraws); }
  public int getHessianRows() { return (Integer) getOrDefault(hessianRows); }
  public long getSeed() { return (Long) getOrDefault(seed); }

  public SharpnessEvaluator setMetricName(String v) { return (SharpnessEvaluator) set(metricName, v); }
  public SharpnessEvaluator setRho(double v) { return (SharpnessEvaluator) set(rho, v); }
  public SharpnessEvaluator setFeaturesCol(String v) { return (SharpnessEvaluator) set(featuresCol, v); }
  public SharpnessEvaluator setLabelCol(String v) { return (SharpnessEvaluator) set(labelCol, v); }
  public SharpnessEvaluator setWeightCol(String v) { return (SharpnessEvaluator) set(weightCol, v); }
  public SharpnessEvaluator setSampleSize(int v) { return (SharpnessEvaluator) set(sampleSize, v); }
  public SharpnessEvaluator setBatchSize(int v) { return (SharpnessEvaluator) set(batchSize, v); }
  public SharpnessEvaluator setSampleSeed(long v) { return (SharpnessEvaluator) set(sampleSeed, v); }
  public SharpnessEvaluator setWorstCaseIters(int v) { return (SharpnessEvaluator) set(worstCaseIters, v); }
  public SharpnessEvaluator setAverageCaseDraws(int v) { return (SharpnessEvaluator) set(averageCaseDraws, v); }
  public SharpnessEvaluator setHessianRows(int v) { return (SharpnessEvaluator) set(hessianRows, v); }
  public SharpnessEvaluator setSeed(long v) { return (SharpnessEvaluator) set(seed, v); }

  /**
   * Measures this model on any dataset with features and label (instead of the transform tag). Not
   * saved and not copied by {@link #copy}; an evaluator with a model refuses datasets produced by
   * another model's transform, so it cannot silently score every candidate of a CrossValidator or
   * TrainValidationSplit on the same model.
   */
  public SharpnessEvaluator setModel(SharpnessAwareClassificationModel m) {
    this.model = m;
    return this;
  }

  @Override public boolean isLargerBetter() { return false; }

  /** The measure configuration this evaluator runs (only its metric). */
  public SharpnessConfig config() {
    SharpnessConfig c = new SharpnessConfig().sample(getSampleSize(), getBatchSize(), getSampleSeed())
        .worstCase(getWorstCaseIters(), 1.0, false).averageCase(getAverageCaseDraws(), false)
        .hessianRows(getHessianRows()).seed(getSeed());
    return c.only(getMetricName(), getRho() > 0 ? getRho() : Double.NaN);
  }

  @Override public double evaluate(Dataset<?> dataset) {
    SharpnessAwareClassificationModel m = findModel(dataset);
    String w = getWeightCol();
    InputColumns cols = new InputColumns(getFeaturesCol(), getLabelCol(), w.isEmpty() ? null : w);
    SharpnessReport r;
    try {
      r = SharpnessAnalysis.run(m, dataset, cols, 0, config());
    } catch (Exception e) {
      throw SparkErrors.rethrow(e);
    }
    return r.metric(getMetricName());
  }

  /**
   * The model to measure: the one set with {@link #setModel}, else the one whose transform produced
   * {@code dataset}. Fails when both exist and differ (other weights or architecture).
   */
  public SharpnessAwareClassificationModel findModel(Dataset<?> dataset) {
    List<String> untagged = new ArrayList<>();
    SharpnessAwareClassificationModel tagged = null;
    for (StructField f : dataset.schema().fields()) {
      if (tagged == null && f.metadata().contains(SharpnessAwareClassificationModel.MODEL_TAG)) {
        String token = f.metadata().getString(SharpnessAwareClassificationModel.MODEL_TAG);
        tagged = ModelRegistry.lookup(token);
        if (tagged == null) untagged.add(f.name() + " (model no longer in this JVM)");
      }
    }
    if (model != null) {
      if (tagged != null && tagged != model && !sameModel(tagged, model)) {
        throw new IllegalArgumentException("SharpnessEvaluator " + uid() + ": setModel fixed the model to measure, "
            + "but this dataset was produced by the transform of another model (" + tagged + "); in model selection "
            + "(CrossValidator, TrainValidationSplit) that would score every candidate on the same model. Use an "
            + "evaluator without setModel there: it measures the model that produced each dataset");
      }
      return model;
    }
    if (tagged != null) return tagged;
    throw new IllegalArgumentException("SharpnessEvaluator needs the model: pass the output of a "
        + "SharpnessAwareClassificationModel.transform (keeping its prediction column, which carries the model tag) "
        + "or call setModel(model)" + (untagged.isEmpty() ? "" : "; found tags in " + untagged));
  }

  private static boolean sameModel(SharpnessAwareClassificationModel a, SharpnessAwareClassificationModel b) {
    return a.network().toString().equals(b.network().toString())
        && java.util.Arrays.equals(a.weights(), b.weights());
  }

  /** Copies the params only: a model set with {@link #setModel} stays with this instance. */
  @Override public SharpnessEvaluator copy(ParamMap extra) {
    return (SharpnessEvaluator) defaultCopy(extra);
  }

  @Override public String toString() {
    return "SharpnessEvaluator: uid=" + uid() + ", metricName=" + getMetricName() + ", rho="
        + (getRho() > 0 ? getRho() : SharpnessSpec.class.getSimpleName() + " default");
  }

  public static MLReader<SharpnessEvaluator> read() { return new DefaultParamsReader<>(); }

  public static SharpnessEvaluator load(String path) { return read().load(path); }
}
