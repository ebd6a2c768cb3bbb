package io.github.sparksam.ml;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.data.LabelNoise;
import io.github.sparksam.testutil.SparkTestBase;
import io.github.sparksam.train.EpochMetrics;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Label noise (issue 14 item 3) and validationIndicatorCol (item 4): the per-epoch evaluation numbers
 * are checked against evaluating the epoch's weights by hand, with the model's own transform.
 */
class NoisyLabelsAndValidationTest extends SparkTestBase {

  private SharpnessAwareClassifier est(int partitions) {
    return new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {8}).setOptimizer("adam")
        .setLearningRate(0.02).setBatchSize(16).setEpochs(3).setPrecision("float64").setSeed(3)
        .setNumPartitions(partitions);
  }

  /** (loss, accuracy) of {@code w} on {@code rows} against {@code labels} (weights 1), via the model's transform. */
  private double[] evaluate(SharpnessAwareClassificationModel template, double[] w, Dataset<Row> rows, double[] labels) {
    SharpnessAwareClassificationModel m = new SharpnessAwareClassificationModel("check", template.network(), w);
    List<Row> out = m.transform(rows).select("probability", "prediction").collectAsList();
    double loss = 0, correct = 0;
    for (int i = 0; i < out.size(); i++) {
      Vector p = (Vector) out.get(i).get(0);
      loss -= Math.log(p.apply((int) labels[i]));
      if (out.get(i).getDouble(1) == labels[i]) correct++;
    }
    return new double[] {loss / out.size(), correct / out.size()};
  }

  @Test
  void labelNoiseReportsMemorizationOnTheFlippedRows() {
    Dataset<Row> data = blobs(600, 4, 3, 21, false);
    List<double[]> snapshots = new ArrayList<>();
    SharpnessAwareClassifier e = est(4).setLabelNoise("symmetric").setLabelNoiseRate(0.3)
        .setEpochListener((m, net, p) -> snapshots.add(p.clone()));
    SharpnessAwareClassificationModel model = e.fit(data);
    // the flipped rows by hand: ids are row indices, so LabelNoise on (index, label) says which rows flipped
    LabelNoise noise = new LabelNoise("symmetric", 0.3, 3, 3, "");
    List<Row> rows = data.collectAsList();
    List<Row> flippedRows = new ArrayList<>();
    List<Double> noisy = new ArrayList<>(), clean = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      double y = rows.get(i).getDouble(1), z = noise.noisyLabel(i, y);
      if (z != y) {
        flippedRows.add(rows.get(i));
        noisy.add(z);
        clean.add(y);
      }
    }
    Dataset<Row> flipped = spark.createDataFrame(flippedRows, SCHEMA);
    double[] noisyLabels = noisy.stream().mapToDouble(Double::doubleValue).toArray();
    double[] cleanLabels = clean.stream().mapToDouble(Double::doubleValue).toArray();
    assertEquals(3, model.summary().epochs().size());
    for (int ep = 0; ep < 3; ep++) {
      EpochMetrics m = model.summary().epochs().get(ep);
      assertEquals(flippedRows.size() / 600.0, m.evaluation(EpochMetrics.FLIP_FRACTION), 1e-15);
      double[] vsNoisy = evaluate(model, snapshots.get(ep), flipped, noisyLabels);
      double[] vsClean = evaluate(model, snapshots.get(ep), flipped, cleanLabels);
      assertEquals(vsNoisy[1], m.evaluation(EpochMetrics.FLIPPED_NOISY_ACCURACY), 1e-12, "epoch " + (ep + 1));
      assertEquals(vsClean[1], m.evaluation(EpochMetrics.FLIPPED_CLEAN_ACCURACY), 1e-12, "epoch " + (ep + 1));
      assertTrue(m.evaluation(EpochMetrics.FLIPPED_NOISY_ACCURACY) + m.evaluation(EpochMetrics.FLIPPED_CLEAN_ACCURACY)
          <= 1.0 + 1e-12);   // a flipped row's noisy and clean labels differ: at most one is predicted
    }
    // well-separated blobs, 3 epochs: the model learns the clean classes, not the flipped labels
    EpochMetrics last = model.summary().epochs().get(2);
    assertTrue(last.evaluation(EpochMetrics.FLIPPED_CLEAN_ACCURACY) > 0.7, last.toString());
    assertTrue(last.evaluation(EpochMetrics.FLIPPED_NOISY_ACCURACY) < 0.3, last.toString());
    // the same rows flip with one partition: same flip fraction, and the model carries no noise
    SharpnessAwareClassificationModel one = est(1).setLabelNoise("symmetric").setLabelNoiseRate(0.3).fit(data);
    assertEquals(last.evaluation(EpochMetrics.FLIP_FRACTION),
        one.summary().epochs().get(2).evaluation(EpochMetrics.FLIP_FRACTION), 0.0);
    Dataset<Row> test = blobs(90, 4, 3, 99, false);
    double[] testLabels = test.collectAsList().stream().mapToDouble(r -> r.getDouble(1)).toArray();
    assertArrayEquals(evaluate(model, model.weights(), test, testLabels),
        evaluate(model, model.weights(), test.withColumn("label", lit(0.0)), testLabels), 0.0,
        "transform must not depend on labels");
    assertTrue(model.summary().epochs().get(0).evaluation().containsKey(EpochMetrics.FLIP_FRACTION));
    assertFalse(est(1).fit(data).summary().epochs().get(0).evaluation().containsKey(EpochMetrics.FLIP_FRACTION));
  }

  @Test
  void validationRowsAreHeldOutAndEvaluatedEveryEpoch() {
    // every 4th row is held out
    Dataset<Row> data = blobs(400, 4, 3, 22, false).withColumn("isVal",
        org.apache.spark.sql.functions.monotonically_increasing_id().mod(4).equalTo(0));
    data = data.cache();
    List<double[]> snapshots = new ArrayList<>();
    SharpnessAwareClassificationModel withVal = est(2).setValidationIndicatorCol("isVal")
        .setEpochListener((m, net, p) -> snapshots.add(p.clone())).fit(data);
    SharpnessAwareClassificationModel filtered = est(2).fit(data.filter(not(col("isVal"))));
    assertArrayEquals(filtered.weights(), withVal.weights(), 0.0, "training must see exactly the non-validation rows");
    Dataset<Row> val = data.filter(col("isVal"));
    double[] labels = val.collectAsList().stream().mapToDouble(r -> r.getDouble(1)).toArray();
    assertEquals(100, labels.length);
    for (int ep = 0; ep < 3; ep++) {
      EpochMetrics m = withVal.summary().epochs().get(ep);
      double[] expect = evaluate(withVal, snapshots.get(ep), val, labels);
      assertEquals(expect[0], m.evaluation(EpochMetrics.VALIDATION_LOSS), 1e-9, "epoch " + (ep + 1));
      assertEquals(expect[1], m.evaluation(EpochMetrics.VALIDATION_ACCURACY), 1e-12, "epoch " + (ep + 1));
    }
    assertEquals(300, withVal.summary().numExamples());
    // evaluated by the loop, not the engine: every aggregation reports it (allReduce: the same weights as collect)
    for (String agg : new String[] {"tree", "allReduce"}) {
      SharpnessAwareClassificationModel other = est(2).setAggregation(agg).setEpochs(1).setValidationIndicatorCol("isVal")
          .fit(data);
      assertEquals(agg, other.summary().aggregation());
      double[] expect = evaluate(other, other.weights(), val, labels);
      assertEquals(expect[1], other.summary().epochs().get(0).evaluation(EpochMetrics.VALIDATION_ACCURACY), 1e-12, agg);
      assertEquals(expect[0], other.summary().epochs().get(0).evaluation(EpochMetrics.VALIDATION_LOSS), 1e-9, agg);
    }
    data.unpersist();
  }

  @Test
  void epochEvaluationSetIsEvaluatedEveryEpochAndNeverTrainedOn() {
    Dataset<Row> train = blobs(300, 4, 3, 23, false);
    Dataset<Row> test = blobs(120, 4, 3, 24, false).withColumn("weight", lit(5.0));   // an unused extra column
    double[] labels = test.collectAsList().stream().mapToDouble(r -> r.getDouble(1)).toArray();
    List<double[]> snapshots = new ArrayList<>();
    SharpnessAwareClassificationModel with = est(3).setEpochEvaluationSet("test", test)
        .setEpochListener((m, net, p) -> snapshots.add(p.clone())).fit(train);
    SharpnessAwareClassificationModel without = est(3).fit(train);
    assertArrayEquals(without.weights(), with.weights(), 0.0, "the evaluation set must not change training");
    for (int ep = 0; ep < 3; ep++) {
      EpochMetrics m = with.summary().epochs().get(ep);
      double[] expect = evaluate(with, snapshots.get(ep), test, labels);
      assertEquals(expect[0], m.evaluation("testLoss"), 1e-9, "epoch " + (ep + 1));
      assertEquals(expect[1], m.evaluation("testAccuracy"), 1e-12, "epoch " + (ep + 1));
    }
    assertTrue(Double.isNaN(without.summary().epochs().get(0).evaluation("testAccuracy")));
    assertThrows(IllegalArgumentException.class, () -> est(1).setEpochEvaluationSet("validation", test));
    assertThrows(IllegalArgumentException.class, () -> est(1).setEpochEvaluationSet("Test set", test));
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> est(1).setEpochEvaluationSet("held", test.limit(0)).fit(train));
    assertTrue(empty.getMessage().contains("'held' is empty"), empty.getMessage());
  }

  @Test
  void badSettingsFailClearly() {
    Dataset<Row> data = blobs(60, 3, 3, 23, false);
    assertThrows(IllegalArgumentException.class, () -> est(1).setLabelNoiseRate(1.0));
    assertThrows(IllegalArgumentException.class, () -> est(1).setLabelNoise("random"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> est(1).setLabelNoiseRate(0.2).fit(data));
    assertTrue(e.getMessage().contains("labelNoise is none"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> est(1).setValidationIndicatorCol("label").fit(data));
    assertTrue(e.getMessage().contains("must be boolean"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> est(1).setValidationIndicatorCol("nope").fit(data));
    assertTrue(e.getMessage().contains("not a column"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> est(1).setValidationIndicatorCol("v").fit(data.withColumn("v", lit(true))));
    assertTrue(e.getMessage().contains("no training rows left"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> est(1).setValidationIndicatorCol("v").fit(data.withColumn("v", lit(false))));
    assertTrue(e.getMessage().contains("marks no row"), e.getMessage());
  }
}
