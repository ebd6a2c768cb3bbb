package io.github.sparksam.ml;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.DataSummary;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.optim.LearningRateSchedule;
import io.github.sparksam.optim.Optimizer;
import io.github.sparksam.optim.Optimizers;
import io.github.sparksam.train.Checkpoint;
import io.github.sparksam.train.DistributedTrainer;
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
    implements DefaultParamsWritable, org.apache.spark.ml.param.shared.HasWeightCol { // #16: MLlib's HasWeightCol
  private static final long serialVersionUID = 1L;

  // --- uid: filled before Scala trait initializers run (see docs/ARCHITECTURE.md, "the uid trap")
  private static final ThreadLocal<String> PENDING_UID = new ThreadLocal<>();
  private String uid; // no initializer: it would reset the value after super()

  public static final String[] MODEL_TYPES = {"softmax", "mlp"};
  public static final String[] ACTIVATIONS = {"relu", "tanh"};
  public static final String[] FAMILIES = {"auto", "binomial", "multinomial"};
  public static final String[] PRECISIONS = {"float32", "float64"};
  public static final String[] AGGREGATIONS = {"treeAggregate", "allReduce", "auto"};

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
    modelType = new Param<>(this, "modelType", "model family: softmax (softmax/logistic regression) or mlp",
        oneOf(MODEL_TYPES));
    hiddenLayers = new IntArrayParam(this, "hiddenLayers", "sizes of the MLP's hidden layers (each >= 1)",
        (Function1<int[], Object> & Serializable) a -> Arrays.stream(a).allMatch(x -> x >= 1));
    activation = new Param<>(this, "activation", "hidden-layer activation: relu or tanh", oneOf(ACTIVATIONS));
    family = new Param<>(this, "family", "output head: auto (binomial for 2 classes, else multinomial), binomial "
        + "(one logit, sigmoid) or multinomial (softmax)", oneOf(FAMILIES));
    optimizer = new Param<>(this, "optimizer", "base optimizer: " + String.join(", ", Optimizers.NAMES),
        oneOf(Optimizers.NAMES));
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
    aggregation = new Param<>(this, "aggregation", "how a step's partition results are added: treeAggregate (a Spark "
        + "job per step, the driver adds; works everywhere) or allReduce (an epoch per barrier stage, the tasks add "
        + "over their own sockets: same weights, far fewer jobs; needs a task slot per partition, localSteps = 1 and "
        + "no dynamic allocation) or auto (allReduce where possible, else treeAggregate; logged). With numPartitions "
        + "0, allReduce and auto cache the blocks in at most one partition per task slot", oneOf(AGGREGATIONS));

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
    setDefault(aggregation, "treeAggregate");
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

  public String getAggregation() { return $(aggregation); }
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

  /** {@code treeAggregate}, {@code allReduce} or {@code auto} (any case). */
  public SharpnessAwareClassifier setAggregation(String v) {
    String canonical = v;
    for (String a : AGGREGATIONS) if (a.equalsIgnoreCase(v)) canonical = a;
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

  /** The rule params as one value. */
  public RuleSettings ruleSettings() {
    return new RuleSettings(getRule(), getRho(), getPerturbation(), getMicroBatchSize(), getAdaptiveEta(),
        getAdaptiveScope(), getWeightDecayMode(), getSafLambda(), getMesaLambda(), getTemperature(), getSafLag(),
        getKlStartEpoch(), getKlEndEpoch(), getEmaDecay());
  }

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
    return Rules.create(ruleSettings(), net, getEpochs(), coupledL2);
  }

  @Override public SharpnessAwareClassificationModel train(Dataset<?> dataset) {
    io.github.sparksam.backend.ComputeBackends.checkDriverSide(
        io.github.sparksam.backend.ComputeBackends.Mode.parse(getComputeBackend()));
    Dataset<Row> df = withFeatures(dataset);
    InputColumns cols = inputColumns();
    int declaredClasses = -1;
    Option<Object> meta = MetadataUtils.getNumClasses(df.schema().apply(getLabelCol()));
    if (meta.isDefined()) declaredClasses = (Integer) meta.get();
    Precision prec = Precision.parse(getPrecision());
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
    JavaRDD<BlockedPartition> blocked = Blockifier.blockify(df, cols, prec, partitionsFor(df), declaredClasses)
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      blocked.setName("spark-sam blocks of " + uid());
      DataSummary ds;
      try {
        ds = DataSummary.of(blocked, getFeaturesCol());
      } catch (Exception e) {
        throw SparkErrors.rethrow(e);
      }
      int numClasses = declaredClasses > 0 ? declaredClasses : (int) Math.max(2, ds.maxLabel() + 1);
      Network net = network(ds.numFeatures(), numClasses);
      TrainingConfig cfg = new TrainingConfig(getBatchSize(), getEpochs(), getSeed(), getLocalSteps(), prec,
          getLabelSmoothing(), getOptimizer().equals("adamw") ? 0.0 : getWeightDecay(), getMaxGradNorm(), 1024);
      Optimizer opt = Optimizers.create(getOptimizer(), getOptimizer().equals("sgd") ? 0.0 : getMomentum(), getBeta1(),
          getBeta2(), getEpsilon(), getWeightDecay(), net.layout().weightMask());
      long stepsPerEpoch = (ds.numRows() + getBatchSize() - 1) / getBatchSize();
      LearningRateSchedule schedule = Optimizers.schedule(getLrSchedule(), getLearningRate(),
          stepsPerEpoch * getLrStepEpochs(), getLrGamma(), getMinLearningRate(), stepsPerEpoch * getWarmupEpochs());
      DistributedTrainer trainer = new DistributedTrainer(blocked, ds, net, cfg, updateRule(net, cfg.l2()), opt, schedule)
          .checkpointTo(getCheckpointDir(), getCheckpointInterval()).setEpochListener(epochListener)
          .setComputeBackend(getComputeBackend()).setAggregation(getAggregation(), 10 * 60_000L);
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
    }
  }

  /**
   * {@code numPartitions}, or with 0 the input's partition count, except that allReduce and auto
   * cap the latter at the cluster's task slots (a barrier stage runs every partition at once).
   */
  private int partitionsFor(Dataset<Row> df) {
    if (getNumPartitions() > 0 || getAggregation().equals("treeAggregate") || getLocalSteps() > 1) {
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
    return getModelType().equals("softmax") ? Network.linear(numFeatures, numClasses, head)
        : Network.mlp(numFeatures, getHiddenLayers(), numClasses, Activation.parse(getActivation()), head);
  }

  @Override public SharpnessAwareClassifier copy(ParamMap extra) { return defaultCopy(extra); }

  public static MLReader<SharpnessAwareClassifier> read() { return new Reader(); }

  public static SharpnessAwareClassifier load(String path) { return read().load(path); }

  /** {@link DefaultParamsReader}, with a missing or foreign folder reported as a one-line IllegalArgumentException. */
  private static final class Reader extends MLReader<SharpnessAwareClassifier> {
    @Override public SharpnessAwareClassifier load(String path) {
      try {
        MLReader<SharpnessAwareClassifier> r = new DefaultParamsReader<>();
        r.session(sparkSession());
        return r.load(path);
      } catch (Exception e) {
        throw new IllegalArgumentException("cannot load a SharpnessAwareClassifier from " + path + ": "
            + SparkErrors.oneLine(e), e);
      }
    }
  }
}
