package io.github.sparksam.ml;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.testutil.SparkTestBase;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.CrossValidator;
import org.apache.spark.ml.tuning.CrossValidatorModel;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The {@link SharpnessEvaluator} inside {@code CrossValidator} with parallel fits: every fold and
 * param map is scored on its own model, and an evaluator pinned to one model with
 * {@link SharpnessEvaluator#setModel} refuses to score other models' output.
 */
class EvaluatorModelSelectionTest extends SparkTestBase {

  private Dataset<Row> data;

  @BeforeAll
  void data() {
    data = blobs(160, 3, 3, 17, false)
        .withColumn("fold", org.apache.spark.sql.functions.monotonically_increasing_id().mod(2).cast("int")).cache();
  }

  private static SharpnessAwareClassifier classifier() {
    return new SharpnessAwareClassifier().setHiddenLayers(new int[] {6}).setActivation("tanh").setBatchSize(16)
        .setEpochs(3).setPrecision("float64").setSeed(2);
  }

  private static SharpnessEvaluator evaluator() {
    return new SharpnessEvaluator().setMetricName("averageCaseAdaptiveL2").setRho(0.1).setSampleSize(40)
        .setBatchSize(20).setAverageCaseDraws(3).setSeed(4);
  }

  private Dataset<Row> validation(int fold) {
    return data.filter(col("fold").equalTo(fold));
  }

  @Test
  void crossValidatorWithParallelismScoresEveryFoldAndParamMapOnItsOwnModel() {
    SharpnessAwareClassifier clf = classifier();
    // learning rates 100x apart give models of very different sharpness
    ParamMap[] grid = new ParamGridBuilder().addGrid(clf.learningRate(), new double[] {0.01, 1.0})
        .addGrid(clf.epochs(), new int[] {1, 4}).build();
    SharpnessEvaluator ev = evaluator();
    CrossValidatorModel cv = new CrossValidator().setEstimator(clf).setEvaluator(ev).setEstimatorParamMaps(grid)
        .setFoldCol("fold").setNumFolds(2).setParallelism(2).setCollectSubModels(true).fit(data);
    Model<?>[][] sub = cv.subModels();
    double[] avg = cv.avgMetrics();
    assertEquals(grid.length, avg.length);
    double lo = Double.POSITIVE_INFINITY, hi = 0;
    for (int j = 0; j < grid.length; j++) {
      double sum = 0;
      for (int fold = 0; fold < 2; fold++) {
        SharpnessAwareClassificationModel m = (SharpnessAwareClassificationModel) sub[fold][j];
        // the model of this fold and param map, measured directly on this fold's validation rows
        SharpnessEvaluator direct = ev.copy(ParamMap.empty()).setModel(m);
        sum += direct.evaluate(validation(fold));
      }
      double expected = sum / 2;
      assertEquals(expected, avg[j], 1e-9 * Math.abs(expected), "param map " + j + ": " + grid[j]);
      lo = Math.min(lo, avg[j]);
      hi = Math.max(hi, avg[j]);
    }
    assertTrue(hi > 3 * lo, "the param maps should give clearly different sharpness: " + java.util.Arrays.toString(avg));
  }

  @Test
  void anEvaluatorPinnedWithSetModelRefusesToScoreOtherModelsInCrossValidator() {
    SharpnessAwareClassifier clf = classifier();
    SharpnessAwareClassificationModel pinned = clf.fit(data);
    ParamMap[] grid = new ParamGridBuilder().addGrid(clf.learningRate(), new double[] {0.01, 1.0}).build();
    SharpnessEvaluator ev = evaluator().setModel(pinned);
    Exception e = assertThrows(Exception.class, () -> new CrossValidator().setEstimator(clf).setEvaluator(ev)
        .setEstimatorParamMaps(grid).setFoldCol("fold").setNumFolds(2).setParallelism(2).fit(data));
    IllegalArgumentException iae = rootIllegalArgument(e);
    assertTrue(iae.getMessage().contains("setModel") && iae.getMessage().contains("CrossValidator"), iae.getMessage());
  }

  @Test
  void setModelIsNotCopiedAndAgreesWithItsOwnTransform() {
    SharpnessAwareClassificationModel m = classifier().fit(data);
    SharpnessEvaluator ev = evaluator().setModel(m);
    double onPlainRows = ev.evaluate(data);
    // the pinned model's own output (also through a param-map copy of it) is fine
    assertEquals(onPlainRows, ev.evaluate(m.transform(data)), 1e-12 * onPlainRows);
    assertEquals(onPlainRows, ev.evaluate(m.transform(data, new ParamMap().put(m.probabilityCol(), "p"))),
        1e-12 * onPlainRows);
    // a copy (what CrossValidator.copy and Pipeline copies make) measures the model of its input again
    SharpnessEvaluator copy = ev.copy(ParamMap.empty());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> copy.evaluate(data));
    assertTrue(e.getMessage().contains("setModel"), e.getMessage());
    SharpnessAwareClassificationModel other = classifier().setLearningRate(1.0).fit(data);
    assertEquals(evaluator().evaluate(other.transform(data)), copy.evaluate(other.transform(data)), 0.0);
  }

  private static IllegalArgumentException rootIllegalArgument(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof IllegalArgumentException iae) return iae;
    }
    throw new AssertionError("no IllegalArgumentException in the cause chain", t);
  }
}
