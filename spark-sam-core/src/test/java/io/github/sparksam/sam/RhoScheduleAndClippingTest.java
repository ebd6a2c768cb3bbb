package io.github.sparksam.sam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.testutil.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The rho schedule and the clipping position of SAM (issue #16), traced by hand: logistic
 * regression on one example (x = 2, y = 1) from zero weights, one step per epoch, so every step
 * is {@code g1 = (sigma(z) - 1)(x, 1)} at theta, {@code eps = rho_t g1 / (||g1|| + 1e-12)},
 * {@code g2} at {@code theta + eps}, {@code theta -= lr_t g2}, written out below without the
 * library.
 */
class RhoScheduleAndClippingTest extends SparkTestBase {
  static final double X = 2, LR = 0.5, RHO = 0.3, XI = 1e-12;

  Dataset<Row> oneRow() {
    return spark.createDataFrame(List.of(RowFactory.create(Vectors.dense(X), 1.0, 1.0)), SCHEMA);
  }

  SharpnessAwareClassifier sam(String perturbation) {
    return new SharpnessAwareClassifier().setModelType("softmax").setFamily("binomial").setOptimizer("sgd")
        .setLearningRate(LR).setBatchSize(1).setNumPartitions(1).setPrecision("float64").setRule("sam").setRho(RHO)
        .setPerturbation(perturbation).setAggregation("treeAggregate").setSeed(3);
  }

  /** (w, b) of a fitted model. */
  static double[] wb(SharpnessAwareClassificationModel m) {
    var layout = m.network().layout();
    double[] p = m.weights();
    return new double[] {p[layout.tensor("W1").offset()], p[layout.tensor("b1").offset()]};
  }

  /** The gradient of -log sigmoid(w x + b) in (w, b). */
  static double[] grad(double[] t) {
    double s = 1 / (1 + Math.exp(-(t[0] * X + t[1])));
    return new double[] {(s - 1) * X, s - 1};
  }

  static double[] clip(double[] g, double c) {
    double n = Math.hypot(g[0], g[1]);
    return c > 0 && n > c ? new double[] {g[0] * c / n, g[1] * c / n} : g;
  }

  /** One SAM step by hand. */
  static double[] step(double[] t, double lr, double rho, double clipAscent, double clipDescent) {
    double[] g1 = clip(grad(t), clipAscent);
    double n = Math.hypot(g1[0], g1[1]);
    double[] at = {t[0] + rho * g1[0] / (n + XI), t[1] + rho * g1[1] / (n + XI)};
    double[] g2 = clip(grad(at), clipDescent);
    return new double[] {t[0] - lr * g2[0], t[1] - lr * g2[1]};
  }

  @Test
  void firstStepMatchesTheWrittenOutNumbers() {
    // g1 = (-1, -0.5); eps = 0.3 g1 / |g1|; z = 2 eps_w + eps_b = -0.6708204; sigma = 0.3383132; g2 = (sigma - 1)(2, 1)
    assertArrayEquals(new double[] {0.6616868, 0.3308434}, step(new double[2], LR, RHO, 0, 0), 1e-7);
    assertArrayEquals(step(new double[2], LR, RHO, 0, 0), wb(sam("global").setEpochs(1).fit(oneRow())), 1e-12);
  }

  @ParameterizedTest
  @ValueSource(strings = {"global", "partition"})
  void learningRateScheduleScalesRhoStepByStep(String perturbation) {
    // cosine over 2 steps: lr_0 = 0.5, lr_1 = 0.25, so rho_1 = 0.3 * 0.25 / 0.5 = 0.15
    double[] t1 = step(new double[2], LR, RHO, 0, 0);
    double[] proportional = step(t1, 0.25, 0.15, 0, 0);
    double[] constant = step(t1, 0.25, RHO, 0, 0);
    SharpnessAwareClassifier clf = sam(perturbation).setEpochs(2).setLrSchedule("cosine");
    assertArrayEquals(constant, wb(clf.fit(oneRow())), 1e-12);
    assertArrayEquals(proportional, wb(clf.setRhoSchedule("learningRate").fit(oneRow())), 1e-12);
    assertTrue(Math.abs(proportional[0] - constant[0]) > 1e-3, "the schedule must make a visible difference");
  }

  @Test
  void aConstantLearningRateKeepsRho() {
    SharpnessAwareClassifier flat = sam("global").setEpochs(2).setLrSchedule("constant");
    assertArrayEquals(wb(flat.fit(oneRow())), wb(flat.setRhoSchedule("LEARNINGRATE").fit(oneRow())), 1e-15);
  }

  @ParameterizedTest
  @ValueSource(strings = {"global", "partition"})
  void clippingActsWhereItIsAsked(String perturbation) {
    double[] zero = new double[2];
    // |g2| is about 1.48 at the first step; clip to 0.5: only the descent gradient is affected
    for (String[] c : new String[][] {{"descent", "0", "0.5"}, {"ascent", "0.5", "0"}, {"both", "0.5", "0.5"}}) {
      double[] expected = step(zero, LR, RHO, Double.parseDouble(c[1]), Double.parseDouble(c[2]));
      double[] got = wb(sam(perturbation).setEpochs(1).setMaxGradNorm(0.5).setClipping(c[0]).fit(oneRow()));
      assertArrayEquals(expected, got, 1e-12, c[0]);
    }
    // eps is normalised, so a clipped g1 shows only through xi: clip to xi and eps halves
    double tiny = 1e-12;
    double[] ascent = step(zero, LR, RHO, tiny, 0);
    assertArrayEquals(step(zero, LR, RHO / 2, 0, 0), ascent, 1e-9);
    assertArrayEquals(ascent, wb(sam(perturbation).setEpochs(1).setMaxGradNorm(tiny).setClipping("ascent")
        .fit(oneRow())), 1e-12);
  }

  @Test
  void badCombinationsFailWithTheReason() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> sam("global").setClipping("ascent").fit(oneRow()));
    assertTrue(e.getMessage().contains("needs maxGradNorm > 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> sam("global").setRule("none").setMaxGradNorm(1).setClipping("both").fit(oneRow()));
    assertTrue(e.getMessage().contains("apply to rule sam or asam only"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> sam("partition").setRhoSchedule("learningRate").setLocalSteps(2).setEpochs(1).fit(oneRow()));
    assertTrue(e.getMessage().contains("no local steps"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> sam("global").setClipping("sideways"));
    assertThrows(IllegalArgumentException.class, () -> sam("global").setRhoSchedule("cosine"));
  }

  @Test
  void paramsAreSavedWithTheEstimatorAndTheModel() throws Exception {
    Path dir = Files.createTempDirectory("rho-schedule");
    SharpnessAwareClassifier clf = sam("global").setEpochs(1).setRhoSchedule("learningRate").setMaxGradNorm(1)
        .setClipping("both");
    assertEquals("constant", new SharpnessAwareClassifier().getRhoSchedule());
    assertEquals("descent", new SharpnessAwareClassifier().getClipping());
    clf.write().overwrite().save(dir.resolve("est").toString());
    SharpnessAwareClassifier back = SharpnessAwareClassifier.load(dir.resolve("est").toString());
    assertEquals("learningRate", back.getRhoSchedule());
    assertEquals("both", back.getClipping());
    SharpnessAwareClassificationModel m = clf.fit(oneRow());
    assertEquals("learningRate", m.getRhoSchedule());
    m.write().overwrite().save(dir.resolve("model").toString());
    SharpnessAwareClassificationModel loaded = SharpnessAwareClassificationModel.load(dir.resolve("model").toString());
    assertEquals("learningRate", loaded.getRhoSchedule());
    assertEquals("both", loaded.getClipping());
    assertEquals("constant", loaded.getDefault(loaded.rhoSchedule()).get());
  }
}
