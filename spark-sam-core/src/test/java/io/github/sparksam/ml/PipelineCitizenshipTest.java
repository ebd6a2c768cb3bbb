package io.github.sparksam.ml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.testutil.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.CrossValidator;
import org.apache.spark.ml.tuning.CrossValidatorModel;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The estimator as an MLlib citizen: after StringIndexer, VectorAssembler and StandardScaler in a
 * Pipeline, tuned by CrossValidator over rho and learning rate with the SharpnessEvaluator as the
 * selection metric (flatter is better), and the whole PipelineModel saved and loaded.
 */
class PipelineCitizenshipTest extends SparkTestBase {

  private Dataset<Row> rawTable() {
    StructType schema = new StructType().add("x1", DataTypes.DoubleType).add("x2", DataTypes.DoubleType)
        .add("x3", DataTypes.DoubleType).add("grade", DataTypes.StringType);
    SplittableRandom r = new SplittableRandom(3);
    List<Row> rows = new ArrayList<>();
    String[] grades = {"low", "mid", "high"};
    for (int i = 0; i < 240; i++) {
      int c = i % 3;
      rows.add(RowFactory.create(100 + 30 * c + 10 * gauss(r), 0.01 * c + 0.005 * gauss(r), gauss(r), grades[c]));
    }
    return spark.createDataFrame(rows, schema);
  }

  private Pipeline pipeline(SharpnessAwareClassifier clf) {
    return new Pipeline().setStages(new PipelineStage[] {
        new StringIndexer().setInputCol("grade").setOutputCol("label"),
        new VectorAssembler().setInputCols(new String[] {"x1", "x2", "x3"}).setOutputCol("raw"),
        new StandardScaler().setInputCol("raw").setOutputCol("features").setWithMean(true),
        clf});
  }

  @Test
  void crossValidatorOverRhoAndLearningRateWithTheSharpnessEvaluatorThenSaveAndLoad() throws Exception {
    Dataset<Row> data = rawTable();
    SharpnessAwareClassifier clf = new SharpnessAwareClassifier().setHiddenLayers(new int[] {8}).setRule("sam")
        .setBatchSize(32).setEpochs(3).setPrecision("float64").setSeed(5);
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(clf.rho(), new double[] {0.0, 0.1})
        .addGrid(clf.learningRate(), new double[] {0.05, 0.3})
        .build();
    SharpnessEvaluator eval = new SharpnessEvaluator().setMetricName("topEigenvalue").setHessianRows(0).setSeed(1);
    CrossValidator cv = new CrossValidator().setEstimator(pipeline(clf)).setEstimatorParamMaps(grid)
        .setEvaluator(eval).setNumFolds(2).setSeed(9);
    CrossValidatorModel cvModel = cv.fit(data);

    double[] metrics = cvModel.avgMetrics();
    assertEquals(4, metrics.length);
    for (double m : metrics) assertTrue(Double.isFinite(m) && m >= 0, "metric " + m);
    // the evaluator is "smaller is better": the chosen model is the flattest on average
    int best = 0;
    for (int i = 1; i < metrics.length; i++) if (metrics[i] < metrics[best]) best = i;
    PipelineModel bestModel = assertInstanceOf(PipelineModel.class, cvModel.bestModel());
    SharpnessAwareClassificationModel fitted = (SharpnessAwareClassificationModel) bestModel.stages()[3];
    SharpnessAwareClassifier chosen = (SharpnessAwareClassifier) fitted.parent();
    assertEquals((Double) grid[best].apply(clf.learningRate()), chosen.getLearningRate());
    assertEquals((Double) grid[best].apply(clf.rho()), chosen.getRho());

    Dataset<Row> before = bestModel.transform(data).select("prediction", "probability");
    Path dir = Files.createTempDirectory("pipeline-model");
    bestModel.write().overwrite().save(dir.toString());
    PipelineModel loaded = PipelineModel.load(dir.toString());
    List<Row> a = before.collectAsList(), b = loaded.transform(data).select("prediction", "probability").collectAsList();
    assertEquals(a, b);
    double acc = loaded.transform(data).filter("prediction = label").count() / (double) data.count();
    assertTrue(acc > 0.8, "accuracy " + acc);

    // the whole CrossValidatorModel round-trips too
    Path cvDir = Files.createTempDirectory("cv-model");
    cvModel.write().overwrite().save(cvDir.toString());
    CrossValidatorModel cvLoaded = CrossValidatorModel.load(cvDir.toString());
    assertEquals(a, cvLoaded.bestModel().transform(data).select("prediction", "probability").collectAsList());
  }
}
