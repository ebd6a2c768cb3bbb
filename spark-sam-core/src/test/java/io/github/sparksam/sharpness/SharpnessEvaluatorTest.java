package io.github.sparksam.sharpness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.ml.SharpnessEvaluator;
import io.github.sparksam.testutil.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.CrossValidator;
import org.apache.spark.ml.tuning.CrossValidatorModel;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The MLlib Evaluator contract: metric by name, smaller is better, model found from the transform, CrossValidator. */
class SharpnessEvaluatorTest extends SparkTestBase {

  private SharpnessAwareClassifier classifier() {
    return new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {4}).setEpochs(1)
        .setBatchSize(32).setLearningRate(0.2).setPrecision("float64").setSeed(1);
  }

  @Test
  void evaluatesTheModelThatProducedTheTransform() {
    Dataset<Row> df = blobs(120, 3, 3, 4, false);
    SharpnessAwareClassificationModel model = classifier().fit(df);
    SharpnessEvaluator ev = new SharpnessEvaluator().setMetricName("worstCaseAdaptiveLinf").setRho(0.01)
        .setSampleSize(64).setBatchSize(32).setWorstCaseIters(5);
    assertFalse(ev.isLargerBetter());
    double fromTransform = ev.evaluate(model.transform(df).select("features", "label", "prediction"));
    SharpnessConfig cfg = ev.config();
    double direct = SharpnessAnalysis.run(model, df, (String) null, 0, cfg).metric("worstCaseAdaptiveLinf");
    assertEquals(direct, fromTransform, 0.0);
    assertTrue(direct > 0);
    // an explicit model works on plain data; without either the error says what to do
    assertEquals(direct, ev.copy(ParamMap.empty()).setModel(model).evaluate(df), 0.0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SharpnessEvaluator().evaluate(df));
    assertTrue(e.getMessage().contains("setModel"), e.getMessage());
    // a Hessian metric through the same door
    double dir = new SharpnessEvaluator().setMetricName("directionalSharpness").evaluate(model.transform(df));
    assertEquals(SharpnessAnalysis.run(model, df, (String) null, 0, new SharpnessConfig().only("directionalSharpness",
        Double.NaN)).metric("directionalSharpness"), dir, 1e-9 * Math.abs(dir));
    assertThrows(IllegalArgumentException.class, () -> new SharpnessEvaluator().setMetricName("accuracy"));
  }

  @Test
  void selectsByFlatnessInsideCrossValidatorAndPersists() throws Exception {
    Dataset<Row> df = blobs(120, 3, 3, 8, false);
    SharpnessAwareClassifier clf = classifier();
    SharpnessEvaluator ev = new SharpnessEvaluator().setMetricName("averageCaseAdaptiveL2").setRho(0.05)
        .setSampleSize(32).setBatchSize(32).setAverageCaseDraws(4);
    ParamMap[] grid = new ParamGridBuilder().addGrid(clf.learningRate(), new double[] {0.05, 0.5}).build();
    CrossValidatorModel cv = new CrossValidator().setEstimator(clf).setEvaluator(ev).setEstimatorParamMaps(grid)
        .setNumFolds(2).setSeed(3).fit(df);
    double[] metrics = cv.avgMetrics();
    assertEquals(2, metrics.length);
    for (double m : metrics) assertTrue(Double.isFinite(m) && m > 0, "metric " + m);
    assertTrue(metrics[0] != metrics[1]);
    // the best model is the one with the smaller (flatter) metric
    int best = metrics[0] <= metrics[1] ? 0 : 1;
    double bestLr = (Double) grid[best].apply(clf.learningRate());
    assertEquals(bestLr, ((SharpnessAwareClassificationModel) cv.bestModel()).parent() == null ? bestLr
        : ((SharpnessAwareClassifier) ((SharpnessAwareClassificationModel) cv.bestModel()).parent()).getLearningRate(), 0.0);

    Path dir = Files.createTempDirectory("sharpness-eval");
    ev.write().overwrite().save(dir.resolve("ev").toString());
    SharpnessEvaluator back = SharpnessEvaluator.load(dir.resolve("ev").toString());
    assertEquals(ev.uid(), back.uid());
    assertEquals("averageCaseAdaptiveL2", back.getMetricName());
    assertEquals(0.05, back.getRho(), 0.0);
    assertEquals(32, back.getSampleSize());
  }
}
