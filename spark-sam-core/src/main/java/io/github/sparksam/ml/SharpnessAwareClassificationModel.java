package io.github.sparksam.ml;

import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.nn.layers.Shape;
import io.github.sparksam.train.TrainingSummary;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.classification.ProbabilisticClassificationModel;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A trained {@link SharpnessAwareClassifier}: the network architecture and its weights. Adds
 * MLlib's {@code rawPrediction} (logits; {@code [-z, z]} for the binomial head), {@code probability}
 * and {@code prediction} columns. Saved as {@code spark.ml} metadata plus one Parquet row holding
 * the architecture and the weights.
 */
public class SharpnessAwareClassificationModel
    extends ProbabilisticClassificationModel<Vector, SharpnessAwareClassificationModel> implements MLWritable {
  private static final long serialVersionUID = 1L;

  private static final ThreadLocal<String> PENDING_UID = new ThreadLocal<>();
  private String uid; // no initializer (the uid trap; see SharpnessAwareClassifier)

  private final Network network;
  private final double[] weights;
  private transient ThreadLocal<Network.Workspace> workspace;
  private TrainingSummary summary;
  /** The user's features column when transforming array features through a temporary vector column. */
  private String reportedFeaturesCol;
  private org.apache.spark.ml.param.StringArrayParam inputCols;

  public SharpnessAwareClassificationModel(String uid, Network network, double[] weights) {
    this(stash(uid), network, weights);
  }

  private SharpnessAwareClassificationModel(Void ignored, Network network, double[] weights) {
    super();
    PENDING_UID.remove();
    inputCols = new org.apache.spark.ml.param.StringArrayParam(this, "inputCols", "numeric feature columns to use "
        + "instead of featuresCol (assembled as array<double>; empty: use featuresCol)");
    setDefault(inputCols, new String[0]);
    if (weights.length != network.numParams()) {
      throw new IllegalArgumentException("model weights have " + weights.length + " entries but " + network
          + " needs " + network.numParams());
    }
    this.network = network;
    this.weights = weights.clone();
  }

  private static Void stash(String uid) {
    PENDING_UID.set(uid);
    return null;
  }

  @Override public String uid() {
    if (uid == null) uid = PENDING_UID.get();
    return uid;
  }

  /** The architecture. */
  public Network network() { return network; }

  /** A copy of the flat weight vector (layout: {@code network().layout()}). */
  public double[] weights() { return weights.clone(); }

  public org.apache.spark.ml.param.StringArrayParam inputCols() { return inputCols; }

  public String[] getInputCols() { return $(inputCols); }

  public SharpnessAwareClassificationModel setInputCols(String[] v) {
    return (SharpnessAwareClassificationModel) set(inputCols, v);
  }

  // #16: how SAM/ASAM were trained (copied from the estimator by fit, saved and loaded with the model's params)
  private final org.apache.spark.ml.param.Param<String> rhoSchedule = new org.apache.spark.ml.param.Param<>(this,
      "rhoSchedule", "the SAM/ASAM rho schedule the model was trained with: constant or learningRate",
      SharpnessAwareClassifier.oneOf(io.github.sparksam.sam.RuleSettings.RHO_SCHEDULES));
  private final org.apache.spark.ml.param.Param<String> clipping = new org.apache.spark.ml.param.Param<>(this,
      "clipping", "which gradient maxGradNorm clipped in training: descent, ascent or both",
      SharpnessAwareClassifier.oneOf(io.github.sparksam.sam.RuleSettings.CLIPPINGS));

  {
    setDefault(rhoSchedule, "constant");
    setDefault(clipping, "descent");
  }

  public org.apache.spark.ml.param.Param<String> rhoSchedule() { return rhoSchedule; }

  public org.apache.spark.ml.param.Param<String> clipping() { return clipping; }

  public String getRhoSchedule() { return $(rhoSchedule); }

  public String getClipping() { return $(clipping); }
  // end #16

  /** A copy reading features from the assembled array column instead of {@code inputCols}. */
  private SharpnessAwareClassificationModel viaAssembled() {
    SharpnessAwareClassificationModel m = copy(ParamMap.empty());
    m.set(m.inputCols, new String[0]);
    m.set(m.featuresCol(), io.github.sparksam.data.InputColumns.ASSEMBLED);
    return m;
  }

  @Override public int numClasses() { return network.numClasses(); }

  @Override public int numFeatures() { return network.numFeatures(); }

  void setSummary(TrainingSummary s) { this.summary = s; }

  public boolean hasSummary() { return summary != null; }

  /** The training summary of the fit that produced this model (not kept by save/load). */
  public TrainingSummary summary() {
    if (summary == null) {
      throw new IllegalStateException("no training summary: this model was loaded or copied without one");
    }
    return summary;
  }

  @Override public Vector predictRaw(Vector features) {
    if (features.size() != network.numFeatures()) {
      throw new IllegalArgumentException("features column '"
          + (reportedFeaturesCol != null ? reportedFeaturesCol : getFeaturesCol()) + "' has a vector of size "
          + features.size() + " but the model was trained on " + network.numFeatures() + " features");
    }
    if (workspace == null) workspace = ThreadLocal.withInitial(network::predictionWorkspace);
    return Vectors.dense(network.predictRaw(weights, features.toArray(), workspace.get()));
  }

  @Override public Vector raw2probabilityInPlace(Vector raw) {
    double[] v = ((DenseVector) raw).values();
    if (network.head() == Network.Head.BINOMIAL) {
      double z = v[1];
      double p1 = z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
      v[0] = 1 - p1;
      v[1] = p1;
      return raw;
    }
    double max = Double.NEGATIVE_INFINITY;
    for (double x : v) max = Math.max(max, x);
    double sum = 0;
    for (int i = 0; i < v.length; i++) {
      v[i] = Math.exp(v[i] - max);
      sum += v[i];
    }
    for (int i = 0; i < v.length; i++) v[i] /= sum;
    return raw;
  }

  @Override public StructType transformSchema(StructType schema) {
    if (getInputCols().length > 0) {
      if (getInputCols().length != network.numFeatures()) {
        throw new IllegalArgumentException("inputCols has " + getInputCols().length + " columns but the model was "
            + "trained on " + network.numFeatures() + " features");
      }
      StructType out = viaAssembled().transformSchema(
          io.github.sparksam.data.InputColumns.withAssembled(schema, getInputCols()));
      return SharpnessAwareClassifier.dropField(out, io.github.sparksam.data.InputColumns.ASSEMBLED);
    }
    if (!ArrayFeatures.isArray(schema, getFeaturesCol())) {
      checkDeclaredSize(schema);
      return super.transformSchema(schema);
    }
    return ArrayFeatures.restore(super.transformSchema(ArrayFeatures.asVector(schema, getFeaturesCol())), schema,
        getFeaturesCol());
  }

  /**
   * A vector column whose ML attribute metadata records its size (VectorAssembler, etc.) is checked
   * here, at {@code transform} time; otherwise a wrong size is only found when a task predicts a row,
   * and Spark reports that as a {@code SparkException} whose cause is {@link #predictRaw}'s
   * {@link IllegalArgumentException}.
   */
  private void checkDeclaredSize(StructType schema) {
    int size = AttributeGroup.fromStructField(schema.apply(getFeaturesCol())).size();
    if (size >= 0 && size != network.numFeatures()) {
      throw new IllegalArgumentException("features column '" + getFeaturesCol() + "' holds vectors of size " + size
          + " (from its metadata) but the model was trained on " + network.numFeatures() + " features");
    }
  }

  /**
   * Metadata key under which {@link #transform} records which model produced an output column (on
   * the prediction column, else probability, else rawPrediction), so that a
   * {@link SharpnessEvaluator} given only the transformed DataFrame (as {@code CrossValidator} does)
   * can find the model's weights through {@link ModelRegistry}.
   */
  public static final String MODEL_TAG = "spark_sam_model";

  private transient String token;

  /** This instance's registry token (see {@link #MODEL_TAG}). */
  String token() {
    if (token == null) token = java.util.UUID.randomUUID().toString();
    return token;
  }

  private Dataset<Row> tagged(Dataset<Row> out) {
    java.util.List<String> names = Arrays.asList(out.columns());
    for (String c : new String[] {getPredictionCol(), getProbabilityCol(), getRawPredictionCol()}) {
      if (c.isEmpty() || !names.contains(c)) continue;
      org.apache.spark.sql.types.Metadata md = new org.apache.spark.sql.types.MetadataBuilder()
          .withMetadata(out.schema().apply(c).metadata()).putString(MODEL_TAG, token()).build();
      ModelRegistry.register(token(), this);
      return out.withMetadata(c, md);
    }
    return out;
  }

  @Override public Dataset<Row> transform(Dataset<?> dataset) {
    transformSchema(dataset.schema(), true);
    if (getInputCols().length > 0) {
      return viaAssembled().transform(io.github.sparksam.data.InputColumns.assembleArray(dataset, getInputCols()))
          .drop(io.github.sparksam.data.InputColumns.ASSEMBLED);
    }
    if (!ArrayFeatures.isArray(dataset.schema(), getFeaturesCol())) return tagged(super.transform(dataset));
    // array<float|double> features: predict from a temporary vector column, keep the array column
    String tmp = "__spark_sam_features_" + Math.abs(uid().hashCode());
    Dataset<Row> withVec = dataset.withColumn(tmp, org.apache.spark.ml.functions.array_to_vector(functions.col(getFeaturesCol())));
    SharpnessAwareClassificationModel m = copy(ParamMap.empty());
    m.set(m.featuresCol(), tmp);
    m.reportedFeaturesCol = getFeaturesCol();
    return m.transform(withVec).drop(tmp);
  }

  @SuppressWarnings({"rawtypes", "unchecked"})
  @Override public scala.Tuple3 findSummaryModel() { return super.findSummaryModel(); }

  @Override public SharpnessAwareClassificationModel copy(ParamMap extra) {
    SharpnessAwareClassificationModel m = new SharpnessAwareClassificationModel(uid(), network, weights);
    m.summary = summary;
    return copyValues(m, extra).setParent(parent());
  }

  @Override public String toString() {
    return "SharpnessAwareClassificationModel: uid=" + uid() + ", " + network;
  }

  // ---------------------------------------------------------------- persistence
  /**
   * MLlib's format-aware writer (#17): {@code write().save(dir)} is the {@code "internal"} layout below;
   * {@code write().format("onnx").save(file)} exports for serving (io.github.sparksam.export, docs/SERVING.md).
   */
  @Override public org.apache.spark.ml.util.GeneralMLWriter write() { return new ModelFormatWriter(this); } // #17

  public static MLReader<SharpnessAwareClassificationModel> read() { return new Reader(); }

  public static SharpnessAwareClassificationModel load(String path) { return read().load(path); }

  private static final StructType DATA_SCHEMA = new StructType()
      .add("numFeatures", DataTypes.IntegerType, false)
      .add("numClasses", DataTypes.IntegerType, false)
      .add("hiddenLayers", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
      .add("activation", DataTypes.StringType, false)
      .add("head", DataTypes.StringType, false)
      .add("weights", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
      // #14: the convolutional architecture (empty for softmax and MLPs; absent in folders saved before #14)
      .add("layers", DataTypes.StringType, false)
      .add("inputShape", DataTypes.createArrayType(DataTypes.IntegerType, false), false);

  /** The "internal" format; {@link InternalModelFormat} runs it. */
  static final class Writer extends MLWriter { // #17: package-private for InternalModelFormat
    private final SharpnessAwareClassificationModel instance;

    Writer(SharpnessAwareClassificationModel instance) { this.instance = instance; }

    @Override public void saveImpl(String path) {
      DefaultParamsWriter.saveMetadata(instance, path, sc(), scala.Option.empty(), scala.Option.empty());
      Network n = instance.network;
      Row row = RowFactory.create(n.numFeatures(), n.numClasses(),
          Arrays.stream(n.hiddenLayers()).boxed().toArray(Integer[]::new), n.activation().paramValue(), n.head().name(),
          Arrays.stream(instance.weights).boxed().toArray(Double[]::new),
          n.isConvolutional() ? n.architecture() : "",
          n.isConvolutional() ? new Integer[] {n.inputShape().channels(), n.inputShape().height(), n.inputShape().width()}
              : new Integer[0]);
      sparkSession().createDataFrame(List.of(row), DATA_SCHEMA).repartition(1).write()
          .parquet(new Path(path, "data").toString());
    }
  }

  private static final class Reader extends MLReader<SharpnessAwareClassificationModel> {
    @Override public SharpnessAwareClassificationModel load(String path) {
      DefaultParamsReader.Metadata md;
      try {
        md = DefaultParamsReader.loadMetadata(path, sc(), SharpnessAwareClassificationModel.class.getName());
      } catch (Exception e) {
        throw new IllegalArgumentException("cannot load a SharpnessAwareClassificationModel from " + path + ": "
            + SparkErrors.oneLine(e), e);
      }
      Row r;
      try {
        Dataset<Row> data = sparkSession().read().parquet(new Path(path, "data").toString());
        boolean hasLayers = Arrays.asList(data.columns()).contains("layers");  // #14: older folders have no CNN columns
        data = hasLayers ? data : data.withColumn("layers", functions.lit(""))
            .withColumn("inputShape", functions.array().cast("array<int>"));
        List<Row> rows = data.select("numFeatures", "numClasses", "hiddenLayers", "activation", "head", "weights",
            "layers", "inputShape").collectAsList();
        if (rows.size() != 1) throw new IllegalArgumentException("expected one data row, found " + rows.size());
        r = rows.get(0);
      } catch (Exception e) {
        throw new IllegalArgumentException("cannot read the weights of the model at " + path + " (" + SparkErrors.oneLine(e)
            + "); the model folder is incomplete or corrupt", e);
      }
      int[] hidden = r.<Integer>getList(2).stream().mapToInt(Integer::intValue).toArray();
      Network.Head head = Network.Head.valueOf(r.getString(4));
      String layers = r.getString(6);
      Network net;
      if (!layers.isEmpty()) {  // #14
        int[] shape = r.<Integer>getList(7).stream().mapToInt(Integer::intValue).toArray();
        if (shape.length != 3) {
          throw new IllegalArgumentException("the model at " + path + " has layers but an input shape of "
              + shape.length + " dimensions; the model folder is corrupt");
        }
        net = Network.cnn(new Shape(shape[0], shape[1], shape[2]), layers, r.getInt(1), Activation.parse(r.getString(3)),
            head);
      } else {
        net = hidden.length == 0 ? Network.linear(r.getInt(0), r.getInt(1), head)
            : Network.mlp(r.getInt(0), hidden, r.getInt(1), Activation.parse(r.getString(3)), head);
      }
      double[] w = r.<Double>getList(5).stream().mapToDouble(Double::doubleValue).toArray();
      if (w.length != net.numParams()) {
        throw new IllegalArgumentException("the model at " + path + " holds " + w.length + " weights but its architecture "
            + net + " needs " + net.numParams() + "; the model folder is corrupt");
      }
      SharpnessAwareClassificationModel m = new SharpnessAwareClassificationModel(md.uid(), net, w);
      md.getAndSetParams(m, scala.Option.empty());
      return m;
    }
  }

}
