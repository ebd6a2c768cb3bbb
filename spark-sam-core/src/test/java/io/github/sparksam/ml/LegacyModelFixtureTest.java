package io.github.sparksam.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.testutil.SparkTestBase;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Model folders written by the code <em>before</em> the layer-stack rework (issue #14), kept under
 * {@code src/test/resources/fixtures/}: they must still load and predict exactly what they predicted
 * then, and training again with the same seed must give exactly the same weights (so the rework kept
 * the MLP's and softmax regression's arithmetic bit for bit).
 *
 * <p>To regenerate (only when the old arithmetic is meant to change), run this class with
 * the environment variable {@code SPARK_SAM_REGENERATE_FIXTURES=<absolute path of src/test/resources/fixtures>}.
 */
class LegacyModelFixtureTest extends SparkTestBase {

  /** The two fixtures: a float32 ReLU MLP (SGD) and a float64 softmax regression (momentum). */
  private static SharpnessAwareClassifier config(String name) {
    return switch (name) {
      case "legacy-mlp" -> new SharpnessAwareClassifier().setModelType("mlp").setHiddenLayers(new int[] {5})
          .setActivation("relu").setOptimizer("sgd").setRule("sam").setRho(0.05)
          .setMicroBatchSize(0)   // the default when the fixture was saved (since #16 the default is 1)
          .setLearningRate(0.1).setBatchSize(50).setEpochs(2).setSeed(7)
          .setWeightCol("weight");
      case "legacy-softmax" -> new SharpnessAwareClassifier().setModelType("softmax").setOptimizer("momentum")
          .setLearningRate(0.2).setBatchSize(60).setEpochs(2).setPrecision("float64").setSeed(11);
      default -> throw new IllegalArgumentException(name);
    };
  }

  private static final String[] NAMES = {"legacy-mlp", "legacy-softmax"};

  private Dataset<Row> train() { return blobs(300, 6, 3, 5, true); }

  private Dataset<Row> probe() { return blobs(20, 6, 3, 99, false); }

  private static List<Vector> rawPredictions(SharpnessAwareClassificationModel m, Dataset<Row> rows) {
    List<Vector> out = new ArrayList<>();
    for (Row r : m.transform(rows).select("rawPrediction").collectAsList()) out.add(r.getAs(0));
    return out;
  }

  private static String csv(List<Vector> raws) {
    StringBuilder sb = new StringBuilder();
    for (Vector v : raws) {
      double[] a = v.toArray();
      for (int i = 0; i < a.length; i++) sb.append(i == 0 ? "" : ",").append(Double.toString(a[i]));
      sb.append('\n');
    }
    return sb.toString();
  }

  private static Path fixtures() throws URISyntaxException {
    return Paths.get(LegacyModelFixtureTest.class.getResource("/fixtures/legacy-mlp").toURI()).getParent();
  }

  @Test
  void legacyFoldersLoadAndPredictIdentically() throws Exception {
    String regen = System.getenv("SPARK_SAM_REGENERATE_FIXTURES");
    if (regen != null) {
      for (String name : NAMES) {
        SharpnessAwareClassificationModel m = config(name).fit(train());
        m.write().overwrite().save(Paths.get(regen, name).toString());
        Files.writeString(Paths.get(regen, name + "-predictions.csv"), csv(rawPredictions(m, probe())));
      }
    }
    for (String name : NAMES) {
      SharpnessAwareClassificationModel m = SharpnessAwareClassificationModel.load(fixtures().resolve(name).toString());
      String expected = Files.readString(fixtures().resolve(name + "-predictions.csv"), StandardCharsets.UTF_8);
      assertEquals(20, expected.lines().count());
      assertEquals(expected, csv(rawPredictions(m, probe())), name + " predicts differently after loading");
    }
  }

  @Test
  void sameSeedTrainsTheSameWeights() throws Exception {
    for (String name : NAMES) {
      SharpnessAwareClassificationModel saved =
          SharpnessAwareClassificationModel.load(fixtures().resolve(name).toString());
      SharpnessAwareClassificationModel again = config(name).fit(train());
      double[] w = saved.weights();
      assertTrue(w.length > 0);
      assertArrayEquals(w, again.weights(), 0.0, name + ": retraining with the same seed changed the weights");
      assertEquals(saved.network().toString(), again.network().toString());
    }
  }
}
