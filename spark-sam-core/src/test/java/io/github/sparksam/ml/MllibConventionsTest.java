package io.github.sparksam.ml;

import static io.github.sparksam.ml.StageChecks.assertSameParams;
import static io.github.sparksam.ml.StageChecks.checkParams;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.testutil.SparkTestBase;
import io.github.sparksam.train.EpochMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.CrossValidator;
import org.apache.spark.ml.tuning.CrossValidatorModel;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * JUnit equivalents of MLlib's own conformance checks (ParamsSuite.checkParams and
 * DefaultReadWriteTest through {@link StageChecks}, MLTestingUtils.checkCopyAndUids / checkNumericTypes / weight semantics,
 * MLTest's single-row prediction checks) for {@link SharpnessAwareClassifier} and its model, plus
 * Pipeline and CrossValidator integration. Data is tiny and training short.
 */
class MllibConventionsTest extends SparkTestBase {

  @TempDir Path tmp;

  /** A small, deterministic configuration: an MLP, float64, full batch over 120 rows, 2 epochs. */
  private static SharpnessAwareClassifier small() {
    return new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {4}).setActivation("tanh")
        .setOptimizer("momentum").setLearningRate(0.1).setBatchSize(40).setEpochs(2).setPrecision("float64").setSeed(3);
  }

  private Dataset<Row> data() {
    return blobs(120, 4, 3, 21, false);
  }

  // ------------------------------------------------------------------ params

  @Test
  void estimatorParamsFollowMllibConventions() throws Exception {
    SharpnessAwareClassifier est = small();
    checkParams(est);
    // our own params are visible to Params.params (public no-arg accessors)
    for (String name : new String[] {"modelType", "hiddenLayers", "learningRate", "batchSize", "epochs", "seed",
        "precision", "weightCol", "numPartitions", "labelSmoothing", "featuresCol", "labelCol", "thresholds"}) {
      assertTrue(est.hasParam(name), name);
    }
  }

  @Test
  void modelParamsFollowMllibConventions() throws Exception {
    checkParams(small().setEpochs(1).fit(data()));
  }

  @Test
  void copyWithExtraParamMapKeepsUidAndOverridesOnlyTheCopy() {
    SharpnessAwareClassifier est = small();
    SharpnessAwareClassifier copy = est.copy(new ParamMap().put(est.learningRate(), 0.3));
    assertEquals(est.uid(), copy.uid());
    assertEquals(0.3, copy.getLearningRate());
    assertEquals(0.1, est.getLearningRate());
    assertArrayEquals(new int[] {4}, copy.getHiddenLayers());
    // the copy's params belong to the copy (same uid) and are distinct objects
    assertEquals(copy.uid(), copy.learningRate().parent());
    copy.setEpochs(7);
    assertEquals(2, est.getEpochs());
    // also on the model
    SharpnessAwareClassificationModel model = small().setEpochs(1).fit(data());
    SharpnessAwareClassificationModel mc = model.copy(new ParamMap().put(model.predictionCol(), "p2"));
    assertEquals(model.uid(), mc.uid());
    assertEquals("p2", mc.getPredictionCol());
    assertEquals("prediction", model.getPredictionCol());
    assertArrayEquals(model.weights(), mc.weights(), 0.0);
  }

  @Test
  void copyAndUids() {
    SharpnessAwareClassifier est = small().setEpochs(1);
    SharpnessAwareClassificationModel model = est.fit(data());
    assertEquals(est.uid(), model.uid());
    assertTrue(model.hasParent());
    assertSame(est, model.parent());
    SharpnessAwareClassificationModel copied = model.copy(ParamMap.empty());
    assertEquals(model.parent().uid(), copied.parent().uid());
    assertSame(model.parent(), copied.parent());
    // estimator params set on the estimator are copied onto the model
    assertEquals(est.getFeaturesCol(), model.getFeaturesCol());
    assertEquals(4, model.numFeatures());
    assertEquals(3, model.numClasses());
  }

  // ------------------------------------------------------------------ persistence

  @Test
  void estimatorDefaultReadWrite() throws Exception {
    SharpnessAwareClassifier est = small().setHiddenLayers(new int[] {5, 3}).setWeightCol("weight")
        .setLabelSmoothing(0.1).setNumPartitions(2).setRule("sam").setRho(0.1);
    assertFalse(est.isDefined(est.thresholds()), "thresholds should have no default");
    String path = tmp.resolve("est").toString();
    est.save(path);
    assertThrows(IOException.class, () -> est.save(path), "second save without overwrite");
    est.write().overwrite().save(path);

    MLReader<?> reader = (MLReader<?>) SharpnessAwareClassifier.class.getMethod("read").invoke(null);
    SharpnessAwareClassifier viaRead = (SharpnessAwareClassifier) reader.load(path);
    assertSameParams(est, viaRead);
    assertFalse(viaRead.isDefined(viaRead.thresholds()));
    SharpnessAwareClassifier viaLoad =
        (SharpnessAwareClassifier) SharpnessAwareClassifier.class.getMethod("load", String.class).invoke(null, path);
    assertSameParams(est, viaLoad);
    assertArrayEquals(new int[] {5, 3}, viaLoad.getHiddenLayers());

    // with thresholds set, they survive too
    SharpnessAwareClassifier withT = small().setThresholds(new double[] {0.5, 0.3, 0.2});
    String p2 = tmp.resolve("est2").toString();
    withT.save(p2);
    assertSameParams(withT, SharpnessAwareClassifier.load(p2));
  }

  private static void assertSameRows(List<Row> a, List<Row> b, String... cols) {
    assertEquals(a.size(), b.size());
    for (int i = 0; i < a.size(); i++) {
      for (String c : cols) {
        assertEquals((Object) a.get(i).getAs(c), b.get(i).getAs(c), "row " + i + " column " + c);
      }
    }
  }

  @Test
  void modelPersistenceRoundTripGivesIdenticalPredictions() throws Exception {
    Dataset<Row> df = data();
    SharpnessAwareClassificationModel model = small().setProbabilityCol("prob").fit(df);
    String path = tmp.resolve("model").toString();
    model.save(path);
    assertThrows(IOException.class, () -> model.save(path));
    model.write().overwrite().save(path);

    MLReader<?> reader = (MLReader<?>) SharpnessAwareClassificationModel.class.getMethod("read").invoke(null);
    SharpnessAwareClassificationModel loaded = (SharpnessAwareClassificationModel) reader.load(path);
    SharpnessAwareClassificationModel viaLoad = (SharpnessAwareClassificationModel)
        SharpnessAwareClassificationModel.class.getMethod("load", String.class).invoke(null, path);
    for (SharpnessAwareClassificationModel m : List.of(loaded, viaLoad)) {
      assertSameParams(model, m);
      assertArrayEquals(model.weights(), m.weights(), 0.0);
      assertEquals(model.network().toString(), m.network().toString());
      assertEquals(model.numFeatures(), m.numFeatures());
      assertEquals(model.numClasses(), m.numClasses());
      assertSameRows(model.transform(df).collectAsList(), m.transform(df).collectAsList(),
          "rawPrediction", "prob", "prediction");
    }
  }

  @Test
  void singleRowPredictionsMatchTransform() {
    Dataset<Row> df = data();
    for (SharpnessAwareClassificationModel model : List.of(small().fit(df),
        small().setModelType("softmax").setHiddenLayers(new int[0]).setThresholds(new double[] {0.2, 0.5, 0.3}).fit(df))) {
      List<Row> rows = model.transform(df).collectAsList();
      for (Row r : rows) {
        Vector x = r.getAs("features");
        assertEquals(model.predict(x), (double) r.getAs("prediction"));
        assertEquals(model.predictRaw(x), r.getAs("rawPrediction"));
        assertEquals(model.predictProbability(x), r.getAs("probability"));
      }
    }
  }

  // ------------------------------------------------------------------ input types and weights

  @Test
  void numericLabelTypesGiveTheSameModel() {
    Dataset<Row> df = data();
    double[] expected = small().fit(df).weights();
    DataType[] types = {DataTypes.ShortType, DataTypes.LongType, DataTypes.IntegerType, DataTypes.FloatType,
        DataTypes.ByteType, DataTypes.createDecimalType(10, 0)};
    for (DataType t : types) {
      Dataset<Row> cast = df.withColumn("label", col("label").cast(t));
      assertEquals(t, cast.schema().apply("label").dataType());
      assertArrayEquals(expected, small().fit(cast).weights(), 0.0, "label type " + t);
    }
    // weight column of other numeric types (all 1) gives the same model as no weight column
    for (DataType t : new DataType[] {DataTypes.IntegerType, DataTypes.FloatType, DataTypes.createDecimalType(10, 0)}) {
      Dataset<Row> cast = df.withColumn("weight", col("weight").cast(t));
      assertArrayEquals(expected, small().setWeightCol("weight").fit(cast).weights(), 0.0, "weight type " + t);
    }
    Dataset<Row> str = df.withColumn("label", col("label").cast(DataTypes.StringType));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> small().fit(str));
    assertTrue(e.getMessage().contains("numeric"), e.getMessage());
    assertTrue(e.getMessage().contains("label"), e.getMessage());
  }

  private static void assertClose(double[] a, double[] b, double tol, String what) {
    assertEquals(a.length, b.length);
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]) / Math.max(1.0, Math.max(Math.abs(a[i]), Math.abs(b[i]))));
    }
    assertTrue(max <= tol, what + ": max relative difference " + max);
  }

  @Test
  void oversamplingEqualsWeightingInFullBatch() {
    Dataset<Row> df = blobs(90, 4, 3, 31, false).withColumn("id", org.apache.spark.sql.functions.monotonically_increasing_id());
    // every fifth row: in `dup` it appears twice with weight 1; in `weighted` it appears once with weight 2
    Dataset<Row> picked = df.filter(col("id").mod(5).equalTo(0));
    Dataset<Row> dup = df.union(picked).drop("id");
    Dataset<Row> weighted = df.withColumn("weight", when(col("id").mod(5).equalTo(0), lit(2.0)).otherwise(lit(1.0)))
        .drop("id");
    long n = dup.count();
    SharpnessAwareClassifier est = small().setWeightCol("weight").setBatchSize((int) n).setEpochs(3);
    double[] a = est.fit(dup).weights();
    double[] b = est.fit(weighted).weights();
    assertClose(a, b, 1e-10, "duplicated vs weight 2");
    // and training did something
    SharpnessAwareClassificationModel m = est.fit(weighted);
    double[] init = m.network().initialParams(3);
    double moved = 0;
    for (int i = 0; i < a.length; i++) moved = Math.max(moved, Math.abs(a[i] - init[i]));
    assertTrue(moved > 1e-3, "weights barely moved: " + moved);
  }

  @Test
  void zeroWeightsEqualDroppingRowsInFullBatch() {
    Dataset<Row> df = blobs(90, 4, 3, 32, false).withColumn("id", org.apache.spark.sql.functions.monotonically_increasing_id());
    Dataset<Row> zeroed = df.withColumn("weight", when(col("id").mod(4).equalTo(1), lit(0.0)).otherwise(lit(1.0)))
        .drop("id");
    Dataset<Row> dropped = df.filter(col("id").mod(4).notEqual(1)).drop("id");
    SharpnessAwareClassifier est = small().setWeightCol("weight").setBatchSize(1000).setEpochs(3);
    assertClose(est.fit(zeroed).weights(), est.fit(dropped).weights(), 1e-10, "zero weights vs dropped rows");
  }

  @Test
  void arrayFeaturesGiveTheSameModelAsVectors() {
    Dataset<Row> df = data();
    Dataset<Row> dbl = df.withColumn("features", org.apache.spark.ml.functions.vector_to_array(col("features"), "float64"));
    Dataset<Row> flt = df.withColumn("features", org.apache.spark.ml.functions.vector_to_array(col("features"), "float32"));
    assertEquals(new ArrayType(DataTypes.DoubleType, false), dbl.schema().apply("features").dataType());
    assertEquals(DataTypes.FloatType, ((ArrayType) flt.schema().apply("features").dataType()).elementType());

    SharpnessAwareClassificationModel vec = small().fit(df);
    SharpnessAwareClassificationModel mDbl = small().fit(dbl);
    SharpnessAwareClassificationModel mFlt = small().fit(flt);
    assertArrayEquals(vec.weights(), mDbl.weights(), 0.0, "array<double> vs vector");
    assertClose(vec.weights(), mFlt.weights(), 1e-5, "array<float> vs vector");

    // transform on array features: same predictions as on vectors, array column kept as is
    Dataset<Row> outDbl = vec.transform(dbl);
    assertEquals(dbl.schema().apply("features"), outDbl.schema().apply("features"));
    assertFalse(List.of(outDbl.columns()).stream().anyMatch(c -> c.startsWith("__spark_sam")),
        List.of(outDbl.columns()).toString());
    assertSameRows(vec.transform(df).collectAsList(), outDbl.collectAsList(), "rawPrediction", "probability",
        "prediction", "label");
    Dataset<Row> outFlt = mFlt.transform(flt);
    assertEquals(flt.schema().apply("features"), outFlt.schema().apply("features"));
    List<Row> rows = outFlt.collectAsList();
    assertEquals(120, rows.size());
    for (Row r : rows) {
      assertEquals(4, r.getList(r.fieldIndex("features")).size());
      assertEquals(3, ((Vector) r.getAs("probability")).size());
    }
    // schema-level contract matches the runtime schema
    StructType expected = mFlt.transformSchema(flt.schema());
    assertEquals(expected.fieldNames().length, outFlt.schema().fieldNames().length);
  }

  @Test
  void binomialRawPredictionIsMinusZZAndProbabilitiesSumToOne() {
    Dataset<Row> df = blobs(100, 3, 2, 41, false);
    SharpnessAwareClassificationModel m = small().fit(df);
    assertEquals(2, m.numClasses());
    List<Row> rows = m.transform(df).collectAsList();
    int correct = 0;
    for (Row r : rows) {
      double[] raw = ((Vector) r.getAs("rawPrediction")).toArray();
      double[] p = ((Vector) r.getAs("probability")).toArray();
      assertEquals(2, raw.length);
      assertEquals(-raw[1], raw[0], 0.0, "rawPrediction must be [-z, z]");
      assertEquals(1.0, p[0] + p[1], 1e-12);
      assertEquals(1 / (1 + Math.exp(-raw[1])), p[1], 1e-12);
      assertEquals(raw[1] > 0 ? 1.0 : 0.0, (double) r.getAs("prediction"));
      if ((double) r.getAs("prediction") == (double) r.getAs("label")) correct++;
    }
    assertTrue(correct > 70, "binomial accuracy " + correct + "/100");
  }

  // ------------------------------------------------------------------ Pipeline, CrossValidator, summary

  private Dataset<Row> rawTable() {
    SplittableRandom r = new SplittableRandom(5);
    String[] names = {"cat", "dog", "eel"};
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      int c = i % 3;
      rows.add(RowFactory.create(gauss(r) * 0.7 + (c == 0 ? 2 : 0), gauss(r) * 0.7 + (c == 1 ? 2 : 0),
          gauss(r) * 0.7 + (c == 2 ? 2 : 0), names[c]));
    }
    StructType schema = new StructType().add("x0", DataTypes.DoubleType).add("x1", DataTypes.DoubleType)
        .add("x2", DataTypes.DoubleType).add("animal", DataTypes.StringType);
    return spark.createDataFrame(rows, schema);
  }

  private Pipeline pipeline() {
    VectorAssembler va = new VectorAssembler().setInputCols(new String[] {"x0", "x1", "x2"}).setOutputCol("vec");
    StringIndexer si = new StringIndexer().setInputCol("animal").setOutputCol("idx");
    SharpnessAwareClassifier clf = small().setFeaturesCol("vec").setLabelCol("idx");
    return new Pipeline().setStages(new PipelineStage[] {va, si, clf});
  }

  @Test
  void pipelineFitSaveLoadGivesIdenticalPredictions() throws Exception {
    Dataset<Row> df = rawTable();
    PipelineModel pm = pipeline().fit(df);
    SharpnessAwareClassificationModel inner = (SharpnessAwareClassificationModel) pm.stages()[2];
    assertEquals(3, inner.numClasses());
    String path = tmp.resolve("pm").toString();
    pm.save(path);
    PipelineModel loaded = PipelineModel.load(path);
    assertEquals(3, loaded.stages().length);
    SharpnessAwareClassificationModel li = (SharpnessAwareClassificationModel) loaded.stages()[2];
    assertEquals(inner.uid(), li.uid());
    assertArrayEquals(inner.weights(), li.weights(), 0.0);
    assertEquals("vec", li.getFeaturesCol());
    assertSameRows(pm.transform(df).orderBy("x0").collectAsList(), loaded.transform(df).orderBy("x0").collectAsList(),
        "rawPrediction", "probability", "prediction");
  }

  @Test
  void unfittedPipelineSaveLoad() throws Exception {
    Pipeline p = pipeline();
    String path = tmp.resolve("pipe").toString();
    p.save(path);
    Pipeline loaded = Pipeline.load(path);
    assertEquals(3, loaded.getStages().length);
    SharpnessAwareClassifier a = (SharpnessAwareClassifier) p.getStages()[2];
    SharpnessAwareClassifier b = (SharpnessAwareClassifier) loaded.getStages()[2];
    assertSameParams(a, b);
    // and the loaded pipeline fits to the same model
    Dataset<Row> df = rawTable();
    assertArrayEquals(((SharpnessAwareClassificationModel) p.fit(df).stages()[2]).weights(),
        ((SharpnessAwareClassificationModel) loaded.fit(df).stages()[2]).weights(), 0.0);
  }

  @Test
  void crossValidatorOverLearningRate() {
    Dataset<Row> df = data();
    SharpnessAwareClassifier clf = small().setEpochs(1);
    ParamMap[] grid = new ParamGridBuilder().addGrid(clf.learningRate(), new double[] {0.05, 0.3}).build();
    assertEquals(2, grid.length);
    CrossValidator cv = new CrossValidator().setEstimator(clf).setEstimatorParamMaps(grid)
        .setEvaluator(new MulticlassClassificationEvaluator().setMetricName("accuracy")).setNumFolds(2).setSeed(1);
    CrossValidatorModel cvm = cv.fit(df);
    assertEquals(2, cvm.avgMetrics().length);
    for (double m : cvm.avgMetrics()) assertTrue(m >= 0 && m <= 1, "metric " + m);
    SharpnessAwareClassificationModel best = (SharpnessAwareClassificationModel) cvm.bestModel();
    double lr = ((SharpnessAwareClassifier) best.parent()).getLearningRate();
    assertTrue(lr == 0.05 || lr == 0.3, "best learning rate " + lr);
    List<Row> out = cvm.transform(df).select("prediction").collectAsList();
    assertEquals(120, out.size());
    for (Row r : out) {
      double p = r.getDouble(0);
      assertTrue(p == 0 || p == 1 || p == 2, "prediction " + p);
    }
  }

  @Test
  void summaryHasOneEntryPerEpochAndIsNotPersisted() throws Exception {
    SharpnessAwareClassificationModel m = small().setEpochs(3).fit(data());
    assertTrue(m.hasSummary());
    List<EpochMetrics> epochs = m.summary().epochs();
    assertEquals(3, epochs.size());
    for (int i = 0; i < 3; i++) {
      EpochMetrics e = epochs.get(i);
      assertEquals(i + 1, e.epoch());
      assertEquals(3, e.steps()); // 120 rows, batch 40
      assertTrue(Double.isFinite(e.loss()) && e.loss() > 0, e.toString());
      assertTrue(e.accuracy() >= 0 && e.accuracy() <= 1, e.toString());
    }
    assertEquals(3, m.summary().lossHistory().length);
    assertNotNull(m.copy(ParamMap.empty()).summary());
    String path = tmp.resolve("summary-model").toString();
    m.save(path);
    SharpnessAwareClassificationModel loaded = SharpnessAwareClassificationModel.load(path);
    assertFalse(loaded.hasSummary());
    assertThrows(IllegalStateException.class, loaded::summary);
  }
}
