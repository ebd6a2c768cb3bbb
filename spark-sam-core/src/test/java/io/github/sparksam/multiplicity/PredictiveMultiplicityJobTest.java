package io.github.sparksam.multiplicity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.data.TabularEncoder;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.testutil.SparkTestBase;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The job end to end on small data: exact and sampled, the per-row frame, the summaries, bad input. */
class PredictiveMultiplicityJobTest extends SparkTestBase {

  Dataset<Row> data() {
    return TabularEncoder.withRowIds(blobs(60, 3, 2, 5, false).drop("weight"));
  }

  @Test
  void exactRangesAndSummaries() {
    PredictiveMultiplicityJob.Report rep = new PredictiveMultiplicityJob().setEpsilons(0.05, 0.01).setL2(0.01)
        .setDelta(0.05).setMaxTargets(20).run(data());
    assertEquals(2, rep.summaries().size());
    assertEquals(40, rep.ranges().count());
    double prevAmb = -1;
    for (Map<String, Object> s : rep.summaries()) {
      double amb = (Double) s.get("ambiguity"), dis = (Double) s.get("discrepancy");
      assertTrue(dis <= amb + 1e-12, "discrepancy <= ambiguity");
      assertTrue(amb >= prevAmb, "ambiguity grows with epsilon (summaries in increasing epsilon)");
      assertTrue((Double) s.get("discrepancyAtDelta") <= (Double) s.get("ambiguityAtDelta") + 1e-12);
      assertEquals(0, s.get("unconvergedTargets"));
      assertTrue((Double) s.get("passesPerTargetRow") > 0);
      prevAmb = amb;
    }
    for (Row r : rep.ranges().collectAsList()) {
      double b = r.getDouble(3), lo = r.getDouble(4), hi = r.getDouble(5);
      assertTrue(lo <= b && b <= hi);
      assertEquals(hi - lo, r.getDouble(6), 1e-15);
      assertEquals(b >= 0.5 ? lo < 0.5 : hi >= 0.5, r.getBoolean(8));
      assertTrue(r.getDouble(9) >= 1 && r.getDouble(9) <= 2);
      assertTrue(r.getBoolean(13));
    }
  }

  @Test
  void sampledMlp() {
    SharpnessAwareClassifier est = new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {4})
        .setOptimizer("adam").setLearningRate(0.05).setEpochs(3).setBatchSize(32).setPrecision("float64").setSeed(3);
    PredictiveMultiplicityJob.Report rep = new PredictiveMultiplicityJob().setMethod("sampled").setModel("mlp")
        .setEstimator(est).setSampling("bootstrap").setNumModels(3).setEpsilons(1.0).run(data());
    Map<String, Object> s = rep.summaries().get(0);
    assertEquals(3, s.get("modelsSampled"));
    assertEquals(3, s.get("modelsInSet"), "epsilon 1.0 keeps every model");
    assertTrue((Double) s.get("discrepancy") <= (Double) s.get("ambiguity"));
    assertEquals(60, rep.ranges().count());
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> models = (List<Map<String, Object>>) rep.info().get("models");
    assertEquals(4, models.size());
    // zero-one criterion with a tiny epsilon can only keep models at most as wrong as the baseline
    PredictiveMultiplicityJob.Report z = new PredictiveMultiplicityJob().setMethod("sampled").setModel("mlp")
        .setEstimator(est).setSampling("seeds").setNumModels(2).setCriterion(RashomonCriterion.ZERO_ONE)
        .setEpsilons(1e-9).setMaxTargets(10).run(data());
    assertTrue((Integer) z.summaries().get(0).get("modelsInSet") <= 2);
    assertEquals(10, z.ranges().count());
  }

  @Test
  void badInput() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new PredictiveMultiplicityJob().setEpsilons(0).run(data()));
    assertTrue(e.getMessage().contains("epsilon must be > 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new PredictiveMultiplicityJob().setEpsilons(-1).run(data()));
    assertTrue(e.getMessage().contains("epsilon must be > 0"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new PredictiveMultiplicityJob().setModel("mlp").run(data()));
    assertTrue(e.getMessage().contains("needs a convex model"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new PredictiveMultiplicityJob().setCriterion(RashomonCriterion.ZERO_ONE).run(data()));
    assertTrue(e.getMessage().contains("sampled method"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new PredictiveMultiplicityJob().run(data().limit(0)));
    assertTrue(e.getMessage().contains("empty"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new PredictiveMultiplicityJob().setMethod("sampled").run(data().limit(0)));
    assertTrue(e.getMessage().contains("empty"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new PredictiveMultiplicityJob().setTargets(data().limit(0)).run(data()));
    assertTrue(e.getMessage().contains("no target rows"), e.getMessage());
  }
}
