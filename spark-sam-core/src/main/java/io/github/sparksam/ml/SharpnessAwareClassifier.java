package io.github.sparksam.ml;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.DataSummary;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.nn.layers.Shape;
import io.github.sparksam.optim.Lbfgs;
import io.github.sparksam.optim.LearningRateSchedule;
import io.github.sparksam.optim.Optimizer;
import io.github.sparksam.optim.Optimizers;
import io.github.sparksam.train.Checkpoint;
import io.github.sparksam.train.DistributedTrainer;
import io.github.sparksam.train.FullBatchLbfgs;
import io.github.sparksam.sam.RuleSettings;
import io.github.sparksam.sam.Rules;
import io.github.sparksam.train.TrainingConfig;
import io.github.sparksam.train.TrainingResult;
import io.github.sparksam.train.UpdateRule;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.classification.ProbabilisticClassifier;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MetadataUtils;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import scala.Function1;
import scala.Option;

/**
 * A Spark ML {@code Estimator} that trains a softmax/logistic regression or an MLP with
 * synchronous data-parallel minibatch training on the executors (see {@link DistributedTrainer}),
 * and yields a {@link SharpnessAwareClassificationModel} with MLlib's {@code rawPrediction},
 * {@code probability} and {@code prediction} columns.
 *
 * <p>Features may be a {@code Vector} or an {@code array<float>}/{@code array<double>} column;
 * labels are class indices 0, 1, ... of any numeric type; {@code weightCol} is optional.
 *
 * <pre>{@code
 * SharpnessAwareClassificationModel model = new SharpnessAwareClassifier()
 *     .setHiddenLayers(new int[] {128}).setOptimizer("sgd").setLearningRate(0.1)
 *     .setBatchSize(128).setEpochs(5).fit(train);
 * }</pre>
 */
public class SharpnessAwareClassifier
    extends ProbabilisticClassifier<Vector, SharpnessAwareClassifier, SharpnessAwareClassificationModel>
    implements DefaultParamsWritable, org.apache.spark.ml.param.shared.HasWeightCol, // #16: MLlib's HasWeightCol
    org.apache.spark.ml.param.shared.HasValidationIndicatorCol { // #14: MLlib's, as the GBT estimators
  private static final long serialVersionUID = 1L;

  // --- uid: filled before Scala trait initializers run (see docs/ARCHITECTURE.md, "the uid trap")
  private static final ThreadLocal<String> PENDING_UID = new ThreadLocal<>();
  private String uid; // no initializer: it would reset the value after super()

  public static final String[] MODEL_TYPES = {"softmax", "mlp", "cnn"};
  public static final String[] ACTIVATIONS = {"relu", "tanh"};
  public static final String[] FAMILIES = {"auto", "binomial", "multinomial"};
  public static final String[] PRECISIONS = {"float32", "float64"};
  /** The aggregation values; {@code treeAggregate}, the old name of {@code collect}, is accepted too. */
  public static final String[] AGGREGATIONS = {"collect", "tree", "allReduce", "auto"};

  private Param<String> modelType;
  private IntArrayParam hiddenLayers;
  private Param<String> activation;
  private Param<String> family;
  private Param<String> optimizer;
  private DoubleParam learningRate;
  private DoubleParam momentum;
  private DoubleParam beta1;
  private DoubleParam beta2;
  private DoubleParam epsilon;
  private DoubleParam weightDecay;
  private Param<String> lrSchedule;
  private IntParam lrStepEpochs;
  private DoubleParam lrGamma;
  private DoubleParam minLearningRate;
  private IntParam warmupEpochs;
  private IntParam batchSize;
  private IntParam epochs;
  private LongParam seed;
  private IntParam localSteps;
  private IntParam numPartitions;
  private Param<String> precision;
  private DoubleParam labelSmoothing;
  private DoubleParam maxGradNorm;
  private Param<String> weightCol;
  private StringArrayParam inputCols;
  private Param<String> computeBackend;
  private Param<String> aggregation;
  private transient io.github.sparksam.train.EpochListener epochListener;
  private transient java.util.Map<String, Dataset<Row>> epochEvaluationSets;
  // sharpness-aware rules
  private Param<String> rule;
  private DoubleParam rho;
  private Param<String> perturbation;
  private IntParam microBatchSize;
  private DoubleParam adaptiveEta;
  private Param<String> adaptiveScope;
  private Param<String> weightDecayMode;
  private DoubleParam safLambda;
  private DoubleParam mesaLambda;
  private DoubleParam temperature;
  private IntParam safLag;
  private IntParam klStartEpoch;
  private IntParam klEndEpoch;
  private DoubleParam emaDecay;
  // checkpoints
  private Param<String> checkpointDir;
  private IntParam checkpointInterval;
  private Param<String> resumeFrom;
  /** The fit in progress, for {@link #requestCheckpoint()}. */
  private transient volatile DistributedTrainer running;

  public SharpnessAwareClassifier() {
    this(Identifiable.randomUID("samClf"));
  }

  public SharpnessAwareClassifier(String uid) {
    this(stash(uid));
  }

  private SharpnessAwareClassifier(Void ignored) {
    super();
    PENDING_UID.remove();
    initParams();
  }

  private static Void stash(String uid) {
    PENDING_UID.set(uid);
    return null;
  }

  @Override public String uid() {
    if (uid == null) uid = PENDING_UID.get();
    return uid;
  }

  // #16: weightCol is MLlib's shared HasWeightCol param (created in initParams; this is the setter Scala
  // generates for the trait's val, which only the trait's own initializer would call).
  @Override public void org$apache$spark$ml$param$shared$HasWeightCol$_setter_$weightCol_$eq(Param<String> p) {
    weightCol = p;
  }

  private void initParams() {
    modelType = new Param<>(this, "modelType", "model family: softmax (softmax/logistic regression), mlp or cnn "
        + "(convolutional; see layers and inputShape)", oneOf(MODEL_TYPES));
    initCnnParams();
    hiddenLayers = new IntArrayParam(this, "hiddenLayers", "sizes of the MLP's hidden layers (each >= 1)",
        (Function1<int[], Object> & Serializable) a -> Arrays.stream(a).allMatch(x -> x >= 1));
    activation = new Param<>(this, "activation", "hidden-layer activation: relu or tanh", oneOf(ACTIVATIONS));
    family = new Param<>(this, "family", "output head: auto (binomial for 2 classes, else multinomial), binomial "
        + "(one logit, sigmoid) or multinomial (softmax)", oneOf(FAMILIES));
    optimizer = new Param<>(this, "optimizer", "base optimizer: " + String.join(", ", OPTIMIZERS) + " (lbfgs: "
        + "full-batch L-BFGS, epochs = its maxIter, see tol)", oneOf(OPTIMIZERS)); // #16
    learningRate = new DoubleParam(this, "learningRate", "learning rate (> 0)", ParamValidators.gt(0));
    momentum = new DoubleParam(this, "momentum", "momentum of the momentum and nesterov optimizers, in [0, 1)",
        ParamValidators.inRange(0, 1, true, false));
    beta1 = new DoubleParam(this, "beta1", "Adam's first-moment decay, in [0, 1)", ParamValidators.inRange(0, 1, true, false));
    beta2 = new DoubleParam(this, "beta2", "Adam's second-moment decay, in [0, 1)", ParamValidators.inRange(0, 1, true, false));
    epsilon = new DoubleParam(this, "epsilon", "Adam's epsilon (> 0)", ParamValidators.gt(0));
    weightDecay = new DoubleParam(this, "weightDecay", "weight decay (>= 0) on weights, not biases: coupled L2 for "
        + "sgd/momentum/nesterov/adam, decoupled for adamw", ParamValidators.gtEq(0));
    lrSchedule = new Param<>(this, "lrSchedule", "learning-rate schedule: " + String.join(", ", Optimizers.SCHEDULE_NAMES),
        oneOf(Optimizers.SCHEDULE_NAMES));
    lrStepEpochs = new IntParam(this, "lrStepEpochs", "step schedule: decay every this many epochs (>= 1)",
        ParamValidators.gtEq(1));
    lrGamma = new DoubleParam(this, "lrGamma", "step schedule: decay factor, in (0, 1]", ParamValidators.inRange(0, 1, false, true));
    minLearningRate = new DoubleParam(this, "minLearningRate", "cosine schedule: final learning rate (>= 0)",
        ParamValidators.gtEq(0));
    warmupEpochs = new IntParam(this, "warmupEpochs", "linear learning-rate warmup over this many epochs (>= 0)",
        ParamValidators.gtEq(0));
    batchSize = new IntParam(this, "batchSize", "global batch size: examples per synchronous step over all "
        + "partitions (>= 1)", ParamValidators.gtEq(1));
    epochs = new IntParam(this, "epochs", "passes over the training data (>= 1)", ParamValidators.gtEq(1));
    seed = new LongParam(this, "seed", "random seed: initial weights and the per-epoch shuffle");
    localSteps = new IntParam(this, "localSteps", "optimizer steps each partition takes between synchronizations, "
        + "after which models are averaged (>= 1; 1 = synchronous data-parallel training)", ParamValidators.gtEq(1));
    numPartitions = new IntParam(this, "numPartitions", "partitions of the cached training data (0 = the input's)",
        ParamValidators.gtEq(0));
    precision = new Param<>(this, "precision", "element type of the cached blocks and task arithmetic: float32 or "
        + "float64", oneOf(PRECISIONS));
    labelSmoothing = new DoubleParam(this, "labelSmoothing", "label smoothing epsilon, in [0, 1)",
        ParamValidators.inRange(0, 1, true, false));
    maxGradNorm = new DoubleParam(this, "maxGradNorm", "clip the gradient's global L2 norm to this (0 = no clipping)",
        ParamValidators.gtEq(0));
    weightCol = new Param<>(this, "weightCol", "example weight column name (empty: all weights 1)");
    inputCols = new StringArrayParam(this, "inputCols", "numeric feature columns to use instead of featuresCol "
        + "(assembled as array<double> with array(), which RAPIDS keeps on the GPU; empty: use featuresCol)");
    computeBackend = new Param<>(this, "computeBackend", "where tasks run the block forward/backward: auto (a GPU "
        + "if spark-sam-gpu is attached and the task's GPU works, else the CPU, logged once per executor), cpu, "
        + "or gpu (fail before training if there is none)", oneOf(io.github.sparksam.backend.ComputeBackends.MODES));
    // #15: collect/tree/allReduce/auto; the validator accepts the old name treeAggregate (= collect) of saved params
    aggregation = new Param<>(this, "aggregation", "how a step's partition results are added: auto (the default: "
        + "allReduce where the fit and cluster allow it, else tree for many partitions of a large model, else collect; "
        + "logged), allReduce (an epoch per barrier stage, the tasks add over their own sockets: far fewer Spark jobs; "
        + "needs a task slot per partition, localSteps = 1 and no dynamic allocation), collect (a Spark job per step, "
        + "the driver receives and adds every partition's sum; same weights as allReduce; works everywhere) or tree (a "
        + "Spark job per step whose sums meet in a fixed tree of shuffles: the driver receives at most 8 sums; equal "
        + "to collect up to rounding). With numPartitions 0, allReduce and auto cache the blocks in at most one "
        + "partition per task slot", (Function1<String, Object> & Serializable) io.github.sparksam.train.Aggregation::isValid);

    rule = new Param<>(this, "rule", "sharpness-aware rule wrapped around the optimizer: none, sam, asam, saf, mesa",
        oneOf(RuleSettings.RULES));
    rho = new DoubleParam(this, "rho", "SAM/ASAM perturbation radius (>= 0; 0 = the base optimizer; ASAM needs "
        + "~10x SAM's)", ParamValidators.gtEq(0));
    perturbation = new Param<>(this, "perturbation", "SAM/ASAM scope: partition (m-SAM: each task perturbs on its "
        + "own micro-batches of microBatchSize; one Spark job per step) or global (exact large-batch SAM; two jobs "
        + "per step)", oneOf(new String[] {"partition", "global"}));
    microBatchSize = new IntParam(this, "microBatchSize", "m of m-SAM: examples per perturbation inside a task's "
        + "slice (>= 0; 0 = the whole slice, which then depends on the partition count)", ParamValidators.gtEq(0));
    adaptiveEta = new DoubleParam(this, "adaptiveEta", "ASAM's eta in T_w = |w| + eta (>= 0)", ParamValidators.gtEq(0));
    adaptiveScope = new Param<>(this, "adaptiveScope", "ASAM's scope: weights (biases not rescaled, as the "
        + "official code) or all parameters", oneOf(new String[] {"weights", "all"}));
    weightDecayMode = new Param<>(this, "weightDecayMode", "how SAM/ASAM treat weight decay: decoupled (ascent "
        + "from the loss gradient, decay at w) or loss (L2 in the loss: in the ascent, evaluated at w + eps)",
        oneOf(new String[] {"decoupled", "loss"}));
    safLambda = new DoubleParam(this, "safLambda", "SAF's trajectory-loss coefficient lambda (>= 0)",
        ParamValidators.gtEq(0));
    mesaLambda = new DoubleParam(this, "mesaLambda", "MESA's trajectory-loss coefficient lambda (>= 0)",
        ParamValidators.gtEq(0));
    temperature = new DoubleParam(this, "temperature", "SAF/MESA softmax temperature tau (> 0); the KL term is "
        + "scaled by tau^2 as in the reference code", ParamValidators.gt(0));
    safLag = new IntParam(this, "safLag", "SAF: compare with outputs recorded this many epochs earlier (>= 0; 0 "
        + "makes the term vanish)", ParamValidators.gtEq(0));
    klStartEpoch = new IntParam(this, "klStartEpoch", "SAF/MESA: the trajectory term is on for 0-based epochs "
        + "e > klStartEpoch (-1: 30% of the epochs, at least safLag - 1)", ParamValidators.gtEq(-1));
    klEndEpoch = new IntParam(this, "klEndEpoch", "SAF/MESA: ... and e < klEndEpoch (-1: never off)",
        ParamValidators.gtEq(-1));
    emaDecay = new DoubleParam(this, "emaDecay", "MESA: teacher EMA decay per optimizer step, in [0, 1]",
        ParamValidators.inRange(0, 1, true, true));

    checkpointDir = new Param<>(this, "checkpointDir", "directory (any Hadoop file system) for training checkpoints: "
        + "weights, optimizer and rule state, position (empty: no checkpoints)");
    checkpointInterval = new IntParam(this, "checkpointInterval", "write a checkpoint every this many epochs (>= 0; 0 = "
        + "only on requestCheckpoint()); needs checkpointDir", ParamValidators.gtEq(0));
    resumeFrom = new Param<>(this, "resumeFrom", "continue training from this checkpoint file, or from the newest "
        + "checkpoint in this directory (empty: start fresh); the fit's other params must match the checkpointed run's");
    setDefault(checkpointDir, "");
    setDefault(checkpointInterval, 0);
    setDefault(resumeFrom, "");

    RuleSettings d = RuleSettings.none();
    setDefault(rule, d.rule());
    setDefault(rho, d.rho());
    setDefault(perturbation, d.perturbation());
    setDefault(microBatchSize, 1); // #16: m = 1 is the only m-SAM setting independent of the partitioning (docs/ALGORITHMS.md)
    setDefault(adaptiveEta, d.adaptiveEta());
    setDefault(adaptiveScope, d.adaptiveScope());
    setDefault(weightDecayMode, d.weightDecayMode());
    setDefault(safLambda, d.safLambda());
    setDefault(mesaLambda, d.mesaLambda());
    setDefault(temperature, d.temperature());
    setDefault(safLag, d.safLag());
    setDefault(klStartEpoch, d.klStartEpoch());
    setDefault(klEndEpoch, d.klEndEpoch());
    setDefault(emaDecay, d.emaDecay());

    setDefault(modelType, "mlp");
    setDefault(hiddenLayers, new int[] {128});
    setDefault(activation, "relu");
    setDefault(family, "auto");
    setDefault(optimizer, "sgd");
    setDefault(learningRate, 0.1);
    setDefault(momentum, 0.9);
    setDefault(beta1, 0.9);
    setDefault(beta2, 0.999);
    setDefault(epsilon, 1e-8);
    setDefault(weightDecay, 0.0);
    setDefault(lrSchedule, "constant");
    setDefault(lrStepEpochs, 10);
    setDefault(lrGamma, 0.1);
    setDefault(minLearningRate, 0.0);
    setDefault(warmupEpochs, 0);
    setDefault(batchSize, 128);
    setDefault(epochs, 5);
    setDefault(seed, 42L);
    setDefault(localSteps, 1);
    setDefault(numPartitions, 0);
    setDefault(precision, "float32");
    setDefault(labelSmoothing, 0.0);
    setDefault(maxGradNorm, 0.0);
    setDefault(weightCol, "");
    setDefault(inputCols, new String[0]);
    setDefault(computeBackend, "auto");
    setDefault(aggregation, "auto");   // #15: the fast path by default, as in the CLI
  }

  static Function1<String, Object> oneOf(String[] allowed) {
    return (Function1<String, Object> & Serializable) v -> v != null && Arrays.asList(allowed).contains(v);
  }

  // ---------------------------------------------------------------- param accessors (MLlib style)
  public Param<String> modelType() { return modelType; }
  public IntArrayParam hiddenLayers() { return hiddenLayers; }
  public Param<String> activation() { return activation; }
  public Param<String> family() { return family; }
  public Param<String> optimizer() { return optimizer; }
  public DoubleParam learningRate() { return learningRate; }
  public DoubleParam momentum() { return momentum; }
  public DoubleParam beta1() { return beta1; }
  public DoubleParam beta2() { return beta2; }
  public DoubleParam epsilon() { return epsilon; }
  public DoubleParam weightDecay() { return weightDecay; }
  public Param<String> lrSchedule() { return lrSchedule; }
  public IntParam lrStepEpochs() { return lrStepEpochs; }
  public DoubleParam lrGamma() { return lrGamma; }
  public DoubleParam minLearningRate() { return minLearningRate; }
  public IntParam warmupEpochs() { return warmupEpochs; }
  public IntParam batchSize() { return batchSize; }
  public IntParam epochs() { return epochs; }
  public LongParam seed() { return seed; }
  public IntParam localSteps() { return localSteps; }
  public IntParam numPartitions() { return numPartitions; }
  public Param<String> precision() { return precision; }
  public DoubleParam labelSmoothing() { return labelSmoothing; }
  public DoubleParam maxGradNorm() { return maxGradNorm; }
  public Param<String> weightCol() { return weightCol; }
  public StringArrayParam inputCols() { return inputCols; }
  public Param<String> computeBackend() { return computeBackend; }

  public Param<String> aggregation() { return aggregation; }
  public Param<String> rule() { return rule; }
  public DoubleParam rho() { return rho; }
  public Param<String> perturbation() { return perturbation; }
  public IntParam microBatchSize() { return microBatchSize; }
  public DoubleParam adaptiveEta() { return adaptiveEta; }
  public Param<String> adaptiveScope() { return adaptiveScope; }
  public Param<String> weightDecayMode() { return weightDecayMode; }
  public DoubleParam safLambda() { return safLambda; }
  public DoubleParam mesaLambda() { return mesaLambda; }
  public Param<String> checkpointDir() { return checkpointDir; }
  public IntParam checkpointInterval() { return checkpointInterval; }
  public Param<String> resumeFrom() { return resumeFrom; }
  public String getCheckpointDir() { return $(checkpointDir); }
  public int getCheckpointInterval() { return (Integer) $(checkpointInterval); }
  public String getResumeFrom() { return $(resumeFrom); }
  public SharpnessAwareClassifier setCheckpointDir(String v) { return (SharpnessAwareClassifier) set(checkpointDir, v); }
  public SharpnessAwareClassifier setCheckpointInterval(int v) { return (SharpnessAwareClassifier) set(checkpointInterval, v); }
  public SharpnessAwareClassifier setResumeFrom(String v) { return (SharpnessAwareClassifier) set(resumeFrom, v); }

  /**
   * Asks the fit running on another thread to write a checkpoint (to {@code checkpointDir}) after
   * its current step. Returns false when no fit of this estimator is running.
   */
  public boolean requestCheckpoint() {
    DistributedTrainer t = running;
    if (t == null) return false;
    t.requestCheckpoint();
    return true;
  }
  public DoubleParam temperature() { return temperature; }
  public IntParam safLag() { return safLag; }
  public IntParam klStartEpoch() { return klStartEpoch; }
  public IntParam klEndEpoch() { return klEndEpoch; }
  public DoubleParam emaDecay() { return emaDecay; }

  public String getModelType() { return $(modelType); }
  public int[] getHiddenLayers() { return $(hiddenLayers); }
  public String getActivation() { return $(activation); }
  public String getFamily() { return $(family); }
  public String getOptimizer() { return $(optimizer); }
  public double getLearningRate() { return (Double) $(learningRate); }
  public double getMomentum() { return (Double) $(momentum); }
  public double getBeta1() { return (Double) $(beta1); }
  public double getBeta2() { return (Double) $(beta2); }
  public double getEpsilon() { return (Double) $(epsilon); }
  public double getWeightDecay() { return (Double) $(weightDecay); }
  public String getLrSchedule() { return $(lrSchedule); }
  public int getLrStepEpochs() { return (Integer) $(lrStepEpochs); }
  public double getLrGamma() { return (Double) $(lrGamma); }
  public double getMinLearningRate() { return (Double) $(minLearningRate); }
  public int getWarmupEpochs() { return (Integer) $(warmupEpochs); }
  public int getBatchSize() { return (Integer) $(batchSize); }
  public int getEpochs() { return (Integer) $(epochs); }
  public long getSeed() { return (Long) $(seed); }
  public int getLocalSteps() { return (Integer) $(localSteps); }
  public int getNumPartitions() { return (Integer) $(numPartitions); }
  public String getPrecision() { return $(precision); }
  public double getLabelSmoothing() { return (Double) $(labelSmoothing); }
  public double getMaxGradNorm() { return (Double) $(maxGradNorm); }
  public String getWeightCol() { return $(weightCol); }
  public String[] getInputCols() { return $(inputCols); }
  public String getComputeBackend() { return $(computeBackend); }

  /** The aggregation, canonical: {@code treeAggregate} (the old name, from saved params) reads as {@code collect}. */
  public String getAggregation() { return io.github.sparksam.train.Aggregation.parse($(aggregation)).paramValue(); }
  public String getRule() { return $(rule); }
  public double getRho() { return (Double) $(rho); }
  public String getPerturbation() { return $(perturbation); }
  public int getMicroBatchSize() { return (Integer) $(microBatchSize); }
  public double getAdaptiveEta() { return (Double) $(adaptiveEta); }
  public String getAdaptiveScope() { return $(adaptiveScope); }
  public String getWeightDecayMode() { return $(weightDecayMode); }
  public double getSafLambda() { return (Double) $(safLambda); }
  public double getMesaLambda() { return (Double) $(mesaLambda); }
  public double getTemperature() { return (Double) $(temperature); }
  public int getSafLag() { return (Integer) $(safLag); }
  public int getKlStartEpoch() { return (Integer) $(klStartEpoch); }
  public int getKlEndEpoch() { return (Integer) $(klEndEpoch); }
  public double getEmaDecay() { return (Double) $(emaDecay); }

  public SharpnessAwareClassifier setModelType(String v) { return (SharpnessAwareClassifier) set(modelType, lower(v)); }
  public SharpnessAwareClassifier setHiddenLayers(int[] v) { return (SharpnessAwareClassifier) set(hiddenLayers, v); }
  public SharpnessAwareClassifier setActivation(String v) { return (SharpnessAwareClassifier) set(activation, lower(v)); }
  public SharpnessAwareClassifier setFamily(String v) { return (SharpnessAwareClassifier) set(family, lower(v)); }
  public SharpnessAwareClassifier setOptimizer(String v) { return (SharpnessAwareClassifier) set(optimizer, lower(v)); }
  public SharpnessAwareClassifier setLearningRate(double v) { return (SharpnessAwareClassifier) set(learningRate, v); }
  public SharpnessAwareClassifier setMomentum(double v) { return (SharpnessAwareClassifier) set(momentum, v); }
  public SharpnessAwareClassifier setBeta1(double v) { return (SharpnessAwareClassifier) set(beta1, v); }
  public SharpnessAwareClassifier setBeta2(double v) { return (SharpnessAwareClassifier) set(beta2, v); }
  public SharpnessAwareClassifier setEpsilon(double v) { return (SharpnessAwareClassifier) set(epsilon, v); }
  public SharpnessAwareClassifier setWeightDecay(double v) { return (SharpnessAwareClassifier) set(weightDecay, v); }
  public SharpnessAwareClassifier setLrSchedule(String v) { return (SharpnessAwareClassifier) set(lrSchedule, lower(v)); }
  public SharpnessAwareClassifier setLrStepEpochs(int v) { return (SharpnessAwareClassifier) set(lrStepEpochs, v); }
  public SharpnessAwareClassifier setLrGamma(double v) { return (SharpnessAwareClassifier) set(lrGamma, v); }
  public SharpnessAwareClassifier setMinLearningRate(double v) { return (SharpnessAwareClassifier) set(minLearningRate, v); }
  public SharpnessAwareClassifier setWarmupEpochs(int v) { return (SharpnessAwareClassifier) set(warmupEpochs, v); }
  public SharpnessAwareClassifier setBatchSize(int v) { return (SharpnessAwareClassifier) set(batchSize, v); }
  public SharpnessAwareClassifier setEpochs(int v) { return (SharpnessAwareClassifier) set(epochs, v); }
  public SharpnessAwareClassifier setSeed(long v) { return (SharpnessAwareClassifier) set(seed, v); }
  public SharpnessAwareClassifier setLocalSteps(int v) { return (SharpnessAwareClassifier) set(localSteps, v); }
  public SharpnessAwareClassifier setNumPartitions(int v) { return (SharpnessAwareClassifier) set(numPartitions, v); }
  public SharpnessAwareClassifier setPrecision(String v) { return (SharpnessAwareClassifier) set(precision, lower(v)); }
  public SharpnessAwareClassifier setLabelSmoothing(double v) { return (SharpnessAwareClassifier) set(labelSmoothing, v); }
  public SharpnessAwareClassifier setMaxGradNorm(double v) { return (SharpnessAwareClassifier) set(maxGradNorm, v); }
  public SharpnessAwareClassifier setWeightCol(String v) { return (SharpnessAwareClassifier) set(weightCol, v); }
  public SharpnessAwareClassifier setInputCols(String[] v) { return (SharpnessAwareClassifier) set(inputCols, v); }
  public SharpnessAwareClassifier setComputeBackend(String v) { return (SharpnessAwareClassifier) set(computeBackend, lower(v)); }

  /**
   * {@code auto}, {@code allReduce}, {@code collect} or {@code tree} (any case; {@code treeAggregate},
   * the old name of {@code collect}, is accepted and stored as {@code collect}).
   */
  public SharpnessAwareClassifier setAggregation(String v) {
    String canonical = io.github.sparksam.train.Aggregation.isValid(v)
        ? io.github.sparksam.train.Aggregation.parse(v).paramValue() : v;    // invalid: the validator names it
    return (SharpnessAwareClassifier) set(aggregation, canonical);
  }
  public SharpnessAwareClassifier setRule(String v) { return (SharpnessAwareClassifier) set(rule, lower(v)); }
  public SharpnessAwareClassifier setRho(double v) { return (SharpnessAwareClassifier) set(rho, v); }
  public SharpnessAwareClassifier setPerturbation(String v) { return (SharpnessAwareClassifier) set(perturbation, lower(v)); }
  public SharpnessAwareClassifier setMicroBatchSize(int v) { return (SharpnessAwareClassifier) set(microBatchSize, v); }
  public SharpnessAwareClassifier setAdaptiveEta(double v) { return (SharpnessAwareClassifier) set(adaptiveEta, v); }
  public SharpnessAwareClassifier setAdaptiveScope(String v) { return (SharpnessAwareClassifier) set(adaptiveScope, lower(v)); }
  public SharpnessAwareClassifier setWeightDecayMode(String v) { return (SharpnessAwareClassifier) set(weightDecayMode, lower(v)); }
  public SharpnessAwareClassifier setSafLambda(double v) { return (SharpnessAwareClassifier) set(safLambda, v); }
  public SharpnessAwareClassifier setMesaLambda(double v) { return (SharpnessAwareClassifier) set(mesaLambda, v); }
  public SharpnessAwareClassifier setTemperature(double v) { return (SharpnessAwareClassifier) set(temperature, v); }
  public SharpnessAwareClassifier setSafLag(int v) { return (SharpnessAwareClassifier) set(safLag, v); }
  public SharpnessAwareClassifier setKlStartEpoch(int v) { return (SharpnessAwareClassifier) set(klStartEpoch, v); }
  public SharpnessAwareClassifier setKlEndEpoch(int v) { return (SharpnessAwareClassifier) set(klEndEpoch, v); }
  public SharpnessAwareClassifier setEmaDecay(double v) { return (SharpnessAwareClassifier) set(emaDecay, v); }

  /**
   * A driver-side callback after every epoch (not a param: not persisted, not copied by
   * {@code copy}); e.g. to evaluate held-out accuracy during training.
   */
  public SharpnessAwareClassifier setEpochListener(io.github.sparksam.train.EpochListener l) {
    this.epochListener = l;
    return this;
  }

  /**
   * Labelled rows (e.g. a test set) evaluated with the weights at the end of every epoch, blocked and
   * cached once per fit, their rows counting equally; the metrics {@code name + "Loss"} and {@code
   * name + "Accuracy"} join the epoch's {@link io.github.sparksam.train.EpochMetrics#evaluation}.
   * Nothing of them reaches training. Like {@link #setEpochListener}, not a param: not persisted,
   * not copied by {@code copy}; {@code null} data removes the set.
   */
  public SharpnessAwareClassifier setEpochEvaluationSet(String name, Dataset<Row> data) {
    if (epochEvaluationSets == null) epochEvaluationSets = new java.util.LinkedHashMap<>();
    if (data == null) {
      epochEvaluationSets.remove(name);
    } else {
      epochEvaluationSets.put(io.github.sparksam.train.DistributedTrainer.checkEvaluationSetName(name), data);
    }
    return this;
  }

  /** The rule params as one value. */
  public RuleSettings ruleSettings() {
    return new RuleSettings(getRule(), getRho(), getPerturbation(), getMicroBatchSize(), getAdaptiveEta(),
        getAdaptiveScope(), getWeightDecayMode(), getSafLambda(), getMesaLambda(), getTemperature(), getSafLag(),
        getKlStartEpoch(), getKlEndEpoch(), getEmaDecay())
        .withRhoScheduleAndClipping(getRhoSchedule(), getClipping());   // #16
  }

  // #16: SAM/ASAM's rho schedule and where maxGradNorm clips (sam.RuleSettings, SharpnessAwareMinimization)
  private final Param<String> rhoSchedule = new Param<>(this, "rhoSchedule", "SAM/ASAM rho schedule: constant, or "
      + "learningRate (rho_t = rho * lr_t / learningRate, following the learning-rate schedule step by step, as "
      + "GSAM's ProportionScheduler; not with localSteps > 1)", oneOf(RuleSettings.RHO_SCHEDULES));
  private final Param<String> clipping = new Param<>(this, "clipping", "which gradient maxGradNorm clips: descent "
      + "(the update direction, g at w + eps for SAM/ASAM), ascent (SAM/ASAM's g at w, before eps is computed from it; "
      + "eps is normalised, so this acts only through xi = 1e-12) or both; ascent and both need rule sam or asam and "
      + "maxGradNorm > 0", oneOf(RuleSettings.CLIPPINGS));

  {
    setDefault(rhoSchedule, "constant");
    setDefault(clipping, "descent");
  }

  public Param<String> rhoSchedule() { return rhoSchedule; }

  public Param<String> clipping() { return clipping; }

  public String getRhoSchedule() { return $(rhoSchedule); }

  public String getClipping() { return $(clipping); }

  /** {@code constant} or {@code learningRate} (case-insensitive). */
  public SharpnessAwareClassifier setRhoSchedule(String v) {
    String canonical = v;
    for (String s : RuleSettings.RHO_SCHEDULES) if (s.equalsIgnoreCase(v)) canonical = s;
    return (SharpnessAwareClassifier) set(rhoSchedule, canonical);
  }

  /** {@code descent}, {@code ascent} or {@code both} (case-insensitive). */
  public SharpnessAwareClassifier setClipping(String v) { return (SharpnessAwareClassifier) set(clipping, lower(v)); }

  /**
   * The learning-rate schedule a fit with {@code stepsPerEpoch} steps per epoch follows (the rate of
   * global step t is {@code rate(t, stepsPerEpoch * epochs)}); e.g. for stability thresholds.
   */
  public LearningRateSchedule learningRateSchedule(long stepsPerEpoch) {
    return Optimizers.schedule(getLrSchedule(), getLearningRate(), stepsPerEpoch * getLrStepEpochs(), getLrGamma(),
        getMinLearningRate(), stepsPerEpoch * getWarmupEpochs());
  }
  // end #16

  private static String lower(String v) { return v == null ? null : v.toLowerCase(Locale.ROOT); }

  // ---------------------------------------------------------------- schema and training
  @Override public StructType transformSchema(StructType schema) {
    if (getInputCols().length > 0) {
      SharpnessAwareClassifier viaArray = copy(ParamMap.empty());
      viaArray.set(viaArray.inputCols(), new String[0]);
      viaArray.set(viaArray.featuresCol(), InputColumns.ASSEMBLED);
      StructType out = viaArray.transformSchema(InputColumns.withAssembled(schema, getInputCols()));
      return dropField(out, InputColumns.ASSEMBLED);
    }
    if (!ArrayFeatures.isArray(schema, getFeaturesCol())) return super.transformSchema(schema);
    return ArrayFeatures.restore(super.transformSchema(ArrayFeatures.asVector(schema, getFeaturesCol())), schema,
        getFeaturesCol());
  }

  static StructType dropField(StructType s, String name) {
    return new StructType(Arrays.stream(s.fields()).filter(f -> !f.name().equals(name))
        .toArray(org.apache.spark.sql.types.StructField[]::new));
  }

  /**
   * The DataFrame whose plan a fit runs before blockifying (features, label as double, weight as
   * double): the part of the work RAPIDS can place on the GPU. Public so that plan checks (such
   * as {@code ci/rapids-explain.sh}) inspect exactly what {@link #fit} runs.
   */
  public Dataset<Row> trainingInput(Dataset<?> dataset) {
    return Blockifier.select(withFeatures(dataset), inputColumns());
  }

  private Dataset<Row> withFeatures(Dataset<?> dataset) {
    @SuppressWarnings("unchecked")
    Dataset<Row> df = (Dataset<Row>) dataset;
    return getInputCols().length > 0 ? InputColumns.assembleArray(df, getInputCols()) : df;
  }

  private InputColumns inputColumns() {
    return new InputColumns(getInputCols().length > 0 ? InputColumns.ASSEMBLED : getFeaturesCol(), getLabelCol(),
        getWeightCol().isEmpty() ? null : getWeightCol());
  }

  /** The update rule selected by the rule params (see {@link Rules}). */
  protected UpdateRule updateRule(Network net, double coupledL2) {
    return Rules.create(ruleSettings(), net, getEpochs(), coupledL2, getLearningRate(), getMaxGradNorm());   // #16
  }

  @Override public SharpnessAwareClassificationModel train(Dataset<?> dataset) {
    if (getOptimizer().equals(LBFGS)) checkLbfgs(); // #16
    io.github.sparksam.backend.ComputeBackends.checkDriverSide(
        io.github.sparksam.backend.ComputeBackends.Mode.parse(getComputeBackend()));
    Dataset<Row> df = withFeatures(dataset);
    EvaluationData evalData = new EvaluationData(df);   // #14: splits off the held-out rows, checks the #14 params
    df = evalData.training;                             // #14
    InputColumns cols = inputColumns();
    int declaredClasses = -1;
    Option<Object> meta = MetadataUtils.getNumClasses(df.schema().apply(getLabelCol()));
    if (meta.isDefined()) declaredClasses = (Integer) meta.get();
    Precision prec = Precision.parse(getPrecision());
    if (getModelType().equals("cnn")) cnnInputShape(declaredFeatureLength(dataset));  // #14: before any work
    if (getModelType().equals("softmax") && getHiddenLayers().length > 0 && isSet(hiddenLayers)) {
      throw new IllegalArgumentException("hiddenLayers " + Arrays.toString(getHiddenLayers())
          + " was set but modelType is softmax (no hidden layers); use modelType=mlp");
    }
    if (getCheckpointInterval() > 0 && getCheckpointDir().isBlank()) {
      throw new IllegalArgumentException("checkpointInterval is " + getCheckpointInterval()
          + " but checkpointDir is not set");
    }
    // read (and check) the checkpoint before paying for the data
    Checkpoint resume = getResumeFrom().isBlank() ? null
        : Checkpoint.read(getResumeFrom(), df.sparkSession().sparkContext().hadoopConfiguration());
    JavaRDD<BlockedPartition> blocked = Blockifier.blockify(df, cols, prec, partitionsFor(df), declaredClasses,
        mayRunBarrierStages())
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      blocked.setName("spark-sam blocks of " + uid());
      DataSummary ds;
      try {
        ds = DataSummary.of(blocked, getFeaturesCol());
      } catch (Exception e) {
        throw SparkErrors.rethrow(evalData.explain(e));   // #14: 0 rows left after the held-out ones
      }
      int numClasses = declaredClasses > 0 ? declaredClasses : (int) Math.max(2, ds.maxLabel() + 1);
      Network net = network(ds.numFeatures(), numClasses);
      if (getOptimizer().equals(LBFGS)) return fitLbfgs(blocked, ds, net); // #16
      blocked = evalData.prepare(blocked, cols, prec, numClasses);   // #14: noisy training labels, held-out blocks
      TrainingConfig cfg = new TrainingConfig(getBatchSize(), getEpochs(), getSeed(), getLocalSteps(), prec,
          getLabelSmoothing(), getOptimizer().equals("adamw") ? 0.0 : getWeightDecay(),
          ruleSettings().clipsDescent() ? getMaxGradNorm() : 0.0, 1024);   // #16: clipping=ascent leaves g2 alone
      Optimizer opt = Optimizers.create(getOptimizer(), getOptimizer().equals("sgd") ? 0.0 : getMomentum(), getBeta1(),
          getBeta2(), getEpsilon(), getWeightDecay(), net.layout().weightMask());
      long stepsPerEpoch = (ds.numRows() + getBatchSize() - 1) / getBatchSize();
      LearningRateSchedule schedule = learningRateSchedule(stepsPerEpoch);   // #16
      DistributedTrainer trainer = new DistributedTrainer(blocked, ds, net, cfg, updateRule(net, cfg.l2()), opt, schedule)
          .checkpointTo(getCheckpointDir(), getCheckpointInterval()).setEpochListener(epochListener)
          .setComputeBackend(getComputeBackend()).setAggregation(getAggregation(), 10 * 60_000L)
          .setValidation(evalData.heldOutBlocks).setReportLabelNoise(evalData.noisy != null);   // #14
      evalData.extraBlocks.forEach(trainer::addEvaluationSet);
      TrainingResult result;
      running = trainer;
      try {
        result = trainer.train(resume == null ? net.initialParams(getSeed()) : null, resume);
      } catch (Exception e) {
        throw SparkErrors.rethrow(e);
      } finally {
        running = null;
      }
      SharpnessAwareClassificationModel model = new SharpnessAwareClassificationModel(uid(), net, result.params());
      model.setSummary(result.summary());
      return (SharpnessAwareClassificationModel) copyValues(model, ParamMap.empty()).setParent(this);
    } finally {
      blocked.unpersist(false);
      evalData.close();   // #14
    }
  }

  /**
   * {@code numPartitions}, or with 0 the input's partition count, except that allReduce and auto
   * cap the latter at the cluster's task slots (a barrier stage runs every partition at once).
   */
  private boolean mayRunBarrierStages() {
    return (getAggregation().equals("allReduce") || getAggregation().equals("auto")) && getLocalSteps() == 1
        && !getOptimizer().equals(LBFGS);
  }

  private int partitionsFor(Dataset<Row> df) {
    if (getNumPartitions() > 0 || (!getAggregation().equals("allReduce") && !getAggregation().equals("auto")) || getLocalSteps() > 1) {
      return getNumPartitions();
    }
    int slots = DistributedTrainer.taskSlots(df.sparkSession().sparkContext());
    int input = df.rdd().getNumPartitions();
    if (input <= slots) return 0;
    org.slf4j.LoggerFactory.getLogger(SharpnessAwareClassifier.class).info("spark-sam: the input has {} partitions "
        + "and the cluster {} task slots; caching the blocks in {} partitions for aggregation={}", input, slots, slots,
        getAggregation());
    return slots;
  }

  private Network network(int numFeatures, int numClasses) {
    Network.Head head = switch (getFamily()) {
      case "binomial" -> Network.Head.BINOMIAL;
      case "multinomial" -> Network.Head.MULTINOMIAL;
      default -> numClasses == 2 ? Network.Head.BINOMIAL : Network.Head.MULTINOMIAL;
    };
    if (head == Network.Head.BINOMIAL && numClasses != 2) {
      throw new IllegalArgumentException("family binomial needs 2 classes but label column '" + getLabelCol()
          + "' has " + numClasses);
    }
    if (numClasses > 100_000) {
      throw new IllegalArgumentException("label column '" + getLabelCol() + "' implies " + numClasses
          + " classes; labels must be class indices 0..K-1 (use StringIndexer)");
    }
    if (getModelType().equals("cnn")) {  // #14
      return Network.cnn(cnnInputShape(numFeatures), getLayers(), numClasses, Activation.parse(getActivation()), head);
    }
    return getModelType().equals("softmax") ? Network.linear(numFeatures, numClasses, head)
        : Network.mlp(numFeatures, getHiddenLayers(), numClasses, Activation.parse(getActivation()), head);
  }

  // ---------------------------------------------------------------- #14: convolutional networks
  /** The default {@code layers}: a small LeNet-style network for 28x28 images such as Fashion-MNIST. */
  public static final String DEFAULT_CNN_LAYERS = "conv 16 5x5 pad 2, maxpool 2, conv 32 5x5 pad 2, maxpool 2, dense 128";

  private Param<String> layers;
  private IntArrayParam inputShape;

  private void initCnnParams() {
    layers = new Param<>(this, "layers", "modelType cnn: the layers before the output layer, comma-separated, e.g. '"
        + DEFAULT_CNN_LAYERS + "' (items: conv F KxK [stride S] [pad P], maxpool K [stride S], avgpool K [stride S], "
        + "globalavgpool, flatten, dense N; see io.github.sparksam.nn.layers.Architecture)",
        (Function1<String, Object> & Serializable) v -> v != null && !v.isBlank());
    inputShape = new IntArrayParam(this, "inputShape", "modelType cnn: channels, height, width of a row's features "
        + "(stored NCHW); empty: 1 x s x s when the feature length is a square s*s",
        (Function1<int[], Object> & Serializable) a -> a.length == 0
            || (a.length == 3 && Arrays.stream(a).allMatch(x -> x >= 1)));
    setDefault(layers, DEFAULT_CNN_LAYERS);
    setDefault(inputShape, new int[0]);
  }

  public Param<String> layers() { return layers; }
  public IntArrayParam inputShape() { return inputShape; }
  public String getLayers() { return $(layers); }
  public int[] getInputShape() { return $(inputShape); }
  public SharpnessAwareClassifier setLayers(String v) { return (SharpnessAwareClassifier) set(layers, v); }
  public SharpnessAwareClassifier setInputShape(int[] v) { return (SharpnessAwareClassifier) set(inputShape, v); }

  /**
   * modelType cnn: the row shape for {@code numFeatures} features, checked against the feature
   * length (-1: not known yet, only the layers are checked), with the {@code layers} parsed.
   * Called before the data is read when the length is known from the schema, and again once it is.
   */
  private Shape cnnInputShape(int numFeatures) {
    int[] s = getInputShape();
    Shape shape;
    if (s.length == 3) {
      shape = new Shape(s[0], s[1], s[2]);
      if (numFeatures >= 0 && shape.size() != numFeatures) {
        throw new IllegalArgumentException("inputShape " + shape + " holds " + shape.size() + " values per row but the "
            + "features have length " + numFeatures);
      }
    } else {
      if (numFeatures < 0) return null;
      int side = (int) Math.round(Math.sqrt(numFeatures));
      if (side * side != numFeatures) {
        throw new IllegalArgumentException("modelType cnn needs inputShape (channels, height, width): the feature length "
            + numFeatures + " is not a square");
      }
      shape = new Shape(1, side, side);
    }
    Network.cnn(shape, getLayers(), 2, Activation.parse(getActivation()), Network.Head.MULTINOMIAL);  // checks layers
    return shape;
  }

  /**
   * The feature length: from the schema (inputCols, or vector metadata) where it says, else from the
   * first row (one small job); -1 for an empty input (reported later as empty data).
   */
  private int declaredFeatureLength(Dataset<?> dataset) {
    if (getInputCols().length > 0) return getInputCols().length;
    boolean array = ArrayFeatures.isArray(dataset.schema(), getFeaturesCol());
    if (!array) {
      int size = org.apache.spark.ml.attribute.AttributeGroup.fromStructField(dataset.schema().apply(getFeaturesCol()))
          .size();
      if (size >= 0) return size;
    }
    Object[] first = (Object[]) dataset.select(getFeaturesCol()).limit(1).collect();
    if (first.length == 0 || ((Row) first[0]).isNullAt(0)) return -1;
    Object v = ((Row) first[0]).get(0);
    return v instanceof Vector vec ? vec.size() : ((Row) first[0]).getList(0).size();
  }

  // #16 ---------------------------------------------------------- optimizer=lbfgs (full-batch, Breeze L-BFGS)
  /** The optimizer param's values: the step optimizers of {@link Optimizers} and full-batch {@code lbfgs}. */
  public static final String LBFGS = "lbfgs";
  static final String[] OPTIMIZERS = java.util.stream.Stream.concat(Arrays.stream(Optimizers.NAMES),
      java.util.stream.Stream.of(LBFGS)).toArray(String[]::new);

  // created by field initializers (after the Scala trait initializers have filled the uid, before initParams)
  private final DoubleParam tol = new DoubleParam(this, "tol", "lbfgs: convergence tolerance (> 0), as MLlib's "
      + "LogisticRegression tol: stop when the objective stalls (within tol * |f(w0)| over 20 iterations) or the "
      + "gradient norm falls below max(tol * |f|, 1e-8), or after epochs iterations", ParamValidators.gt(0));
  private final IntParam lbfgsHistorySize = new IntParam(this, "lbfgsHistorySize", "lbfgs: correction pairs kept "
      + "(m, >= 1)", ParamValidators.gtEq(1));

  {
    setDefault(tol, 1e-6);
    setDefault(lbfgsHistorySize, 10);
  }

  public DoubleParam tol() { return tol; }
  public IntParam lbfgsHistorySize() { return lbfgsHistorySize; }
  public double getTol() { return (Double) $(tol); }
  public int getLbfgsHistorySize() { return (Integer) $(lbfgsHistorySize); }
  public SharpnessAwareClassifier setTol(double v) { return (SharpnessAwareClassifier) set(tol, v); }
  public SharpnessAwareClassifier setLbfgsHistorySize(int v) { return (SharpnessAwareClassifier) set(lbfgsHistorySize, v); }

  /** Rejects, before any data is read, the settings that have no meaning for full-batch L-BFGS. */
  private void checkLbfgs() {
    java.util.List<String> bad = new java.util.ArrayList<>();
    if (!getRule().equals("none")) {
      bad.add("rule=" + getRule() + " (the sharpness-aware rules perturb minibatch gradient steps; L-BFGS takes "
          + "line-search steps on the full-batch objective: use rule=none, or a step optimizer such as sgd or adam)");
    }
    if (getLocalSteps() > 1) bad.add("localSteps=" + getLocalSteps() + " (L-BFGS is synchronous full-batch)");
    if (getLabelSmoothing() > 0) bad.add("labelSmoothing=" + getLabelSmoothing());
    if (getMaxGradNorm() > 0) bad.add("maxGradNorm=" + getMaxGradNorm() + " (the line search sets the step)");
    if (!getCheckpointDir().isBlank() || !getResumeFrom().isBlank()) bad.add("checkpointDir/resumeFrom");
    if (getComputeBackend().equals("gpu")) bad.add("computeBackend=gpu (its passes run on the CPU in float64)");
    if (!bad.isEmpty()) {
      throw new IllegalArgumentException("optimizer lbfgs does not support " + String.join("; ", bad));
    }
  }

  /** Full-batch L-BFGS on the cached blocks ({@link FullBatchLbfgs}); weightDecay is the L2 penalty (MLlib's regParam). */
  private SharpnessAwareClassificationModel fitLbfgs(JavaRDD<BlockedPartition> blocked, DataSummary ds, Network net) {
    FullBatchLbfgs fit = new FullBatchLbfgs(blocked, ds, net, getWeightDecay(),
        new Lbfgs(getEpochs(), getLbfgsHistorySize(), getTol())).setEpochListener(epochListener);
    TrainingResult result;
    try {
      result = fit.train(net.initialParams(getSeed()));
    } catch (Exception e) {
      throw SparkErrors.rethrow(e);
    }
    SharpnessAwareClassificationModel model = new SharpnessAwareClassificationModel(uid(), net, result.params());
    model.setSummary(result.summary());
    return (SharpnessAwareClassificationModel) copyValues(model, ParamMap.empty()).setParent(this);
  }
  // #16 end

  // #14 ----------------------------------------------------- label noise and held-out rows (docs/NOISY-LABELS.md)
  private final Param<String> labelNoise = new Param<>(this, "labelNoise", "label noise injected into the TRAINING "
      + "labels, deterministic in (example id, seed): none, symmetric (flip to a uniform other class) or asymmetric "
      + "(flip to the partner class of labelNoiseMap)", oneOf(io.github.sparksam.data.LabelNoise.KINDS));
  private final DoubleParam labelNoiseRate = new DoubleParam(this, "labelNoiseRate", "probability that a training "
      + "label flips, in [0, 1)", ParamValidators.inRange(0, 1, true, false));
  private final Param<String> labelNoiseMap = new Param<>(this, "labelNoiseMap", "asymmetric noise: the partner of "
      + "each class as 'from:to' pairs, e.g. '" + io.github.sparksam.data.LabelNoise.FASHION_MNIST_MAP + "' "
      + "(Fashion-MNIST's look-alike classes; unlisted classes keep their label); empty: c -> (c + 1) mod K");
  private final Param<String> validationIndicatorCol = new Param<>(this, "validationIndicatorCol", "name of the "
      + "column that indicates whether each row is for training or for validation. False indicates training; true "
      + "indicates validation.");

  {
    setDefault(labelNoise, "none");
    setDefault(labelNoiseRate, 0.0);
    setDefault(labelNoiseMap, "");
  }

  /** Set by Scala's trait initializer only; the param is created above (as weightCol, see #16). */
  @Override public void org$apache$spark$ml$param$shared$HasValidationIndicatorCol$_setter_$validationIndicatorCol_$eq(
      Param<String> p) {
    // the field initializer above creates the param
  }

  @Override public Param<String> validationIndicatorCol() { return validationIndicatorCol; }
  public Param<String> labelNoise() { return labelNoise; }
  public DoubleParam labelNoiseRate() { return labelNoiseRate; }
  public Param<String> labelNoiseMap() { return labelNoiseMap; }
  public String getLabelNoise() { return $(labelNoise); }
  public double getLabelNoiseRate() { return (Double) $(labelNoiseRate); }
  public String getLabelNoiseMap() { return $(labelNoiseMap); }
  public SharpnessAwareClassifier setLabelNoise(String v) { return (SharpnessAwareClassifier) set(labelNoise, v); }
  public SharpnessAwareClassifier setLabelNoiseRate(double v) { return (SharpnessAwareClassifier) set(labelNoiseRate, v); }
  public SharpnessAwareClassifier setLabelNoiseMap(String v) { return (SharpnessAwareClassifier) set(labelNoiseMap, v); }
  /** Rows whose value in this boolean column is true are held out of training and evaluated after every epoch. */
  public SharpnessAwareClassifier setValidationIndicatorCol(String v) {
    return (SharpnessAwareClassifier) set(validationIndicatorCol, v);
  }

  /** The held-out split, the noisy training blocks and the held-out blocks of one fit; close() uncaches them. */
  private final class EvaluationData implements AutoCloseable {
    final Dataset<Row> training;
    final Dataset<Row> heldOut;
    JavaRDD<BlockedPartition> clean;
    JavaRDD<BlockedPartition> noisy;
    JavaRDD<BlockedPartition> heldOutBlocks;
    /** The blocks of {@link #setEpochEvaluationSet}'s sets, by name. */
    final java.util.Map<String, JavaRDD<BlockedPartition>> extraBlocks = new java.util.LinkedHashMap<>();

    EvaluationData(Dataset<Row> df) {
      boolean noise = !getLabelNoise().equals("none") && getLabelNoiseRate() > 0;
      String v = isDefined(validationIndicatorCol) ? $(validationIndicatorCol) : "";
      if ((noise || !v.isEmpty()) && getOptimizer().equals(LBFGS)) {
        throw new IllegalArgumentException("optimizer lbfgs does not support labelNoise or validationIndicatorCol "
            + "(they are evaluated per epoch of the minibatch trainer)");
      }
      if (getLabelNoise().equals("none") && getLabelNoiseRate() > 0) {
        throw new IllegalArgumentException("labelNoiseRate is " + getLabelNoiseRate() + " but labelNoise is none; set "
            + "labelNoise to symmetric or asymmetric");
      }
      if (!getLabelNoise().equals("none") && getLabelNoiseRate() == 0) {
        throw new IllegalArgumentException("labelNoise is " + getLabelNoise() + " but labelNoiseRate is 0; set a rate "
            + "in (0, 1) or labelNoise=none");
      }
      if (v.isEmpty()) {
        training = df;
        heldOut = null;
        return;
      }
      if (!Arrays.asList(df.columns()).contains(v)) {
        throw new IllegalArgumentException("validationIndicatorCol '" + v + "' is not a column of the input (columns: "
            + String.join(", ", df.columns()) + ")");
      }
      org.apache.spark.sql.types.DataType t = df.schema().apply(v).dataType();
      if (!t.equals(org.apache.spark.sql.types.DataTypes.BooleanType)) {
        throw new IllegalArgumentException("validationIndicatorCol '" + v + "' must be boolean (true: validation), but "
            + "is " + t.simpleString());
      }
      // as MLlib's GBTs: rows with a null indicator are in neither set
      training = df.filter(org.apache.spark.sql.functions.not(org.apache.spark.sql.functions.col(v)));
      heldOut = df.filter(org.apache.spark.sql.functions.col(v));
    }

    /** The training blocks to train on: with label noise, noisy labels (clean ones kept); blockifies the held-out rows. */
    JavaRDD<BlockedPartition> prepare(JavaRDD<BlockedPartition> blocked, InputColumns cols, Precision prec,
                                      int numClasses) {
      if (heldOut != null) {
        heldOutBlocks = Blockifier.blockify(heldOut, cols, prec, 0, numClasses).persist(StorageLevel.MEMORY_AND_DISK());
        heldOutBlocks.setName("spark-sam held-out blocks of " + uid());
        long rows = heldOutBlocks.map(p -> (long) p.numRows).fold(0L, Long::sum);   // validates (labels < K) and caches
        if (rows == 0) {
          throw new IllegalArgumentException("validationIndicatorCol '" + $(validationIndicatorCol) + "' marks no row "
              + "as validation (true)");
        }
      }
      if (epochEvaluationSets != null) {
        InputColumns cols1 = new InputColumns(cols.features(), cols.label(), null);   // every row counts once
        for (java.util.Map.Entry<String, Dataset<Row>> e : epochEvaluationSets.entrySet()) {
          JavaRDD<BlockedPartition> b = Blockifier.blockify(withFeatures(e.getValue()), cols1, prec, 0, numClasses)
              .persist(StorageLevel.MEMORY_AND_DISK());
          b.setName("spark-sam evaluation set '" + e.getKey() + "' of " + uid());
          extraBlocks.put(e.getKey(), b);
          long rows = b.map(p -> (long) p.numRows).fold(0L, Long::sum);   // validates (labels < K) and caches
          if (rows == 0) throw new IllegalArgumentException("the epoch evaluation set '" + e.getKey() + "' is empty");
        }
      }
      clean = blocked;
      if (getLabelNoise().equals("none")) return blocked;
      io.github.sparksam.data.LabelNoise ln = new io.github.sparksam.data.LabelNoise(getLabelNoise(),
          getLabelNoiseRate(), getSeed(), numClasses, getLabelNoiseMap());
      noisy = ln.apply(blocked).persist(StorageLevel.MEMORY_AND_DISK());
      noisy.setName("spark-sam noisy-label blocks of " + uid());
      return noisy;
    }

    /** An empty-data error, said in terms of the held-out split when that is what emptied the training set. */
    Throwable explain(Throwable e) {
      if (heldOut == null || e.getMessage() == null || !e.getMessage().contains("training data is empty")) return e;
      return new IllegalArgumentException("no training rows left: validationIndicatorCol '" + $(validationIndicatorCol)
          + "' is true (or null) in every row", e);
    }

    @Override public void close() {
      if (clean != null) clean.unpersist(false);
      if (noisy != null) noisy.unpersist(false);
      if (heldOutBlocks != null) heldOutBlocks.unpersist(false);
      extraBlocks.values().forEach(b -> b.unpersist(false));
    }
  }
  // #14 end

  @Override public SharpnessAwareClassifier copy(ParamMap extra) { return defaultCopy(extra); }

  public static MLReader<SharpnessAwareClassifier> read() { return new Reader(); }

  public static SharpnessAwareClassifier load(String path) { return read().load(path); }

  /** {@link DefaultParamsReader}, with a missing or foreign folder reported as a one-line IllegalArgumentException. */
  private static final class Reader extends MLReader<SharpnessAwareClassifier> {
    @Override public SharpnessAwareClassifier load(String path) {
      try {
        MLReader<SharpnessAwareClassifier> r = new DefaultParamsReader<>();
        r.session(sparkSession());
        SharpnessAwareClassifier e = r.load(path);
        if (e.isSet(e.aggregation())) e.setAggregation(e.getAggregation());   // #15: treeAggregate -> collect
        return e;
      } catch (Exception e) {
        throw new IllegalArgumentException("cannot load a SharpnessAwareClassifier from " + path + ": "
            + SparkErrors.oneLine(e), e);
      }
    }
  }
}
