package io.github.sparksam.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.testutil.SparkTestBase;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code modelType = cnn} in the estimator (issue #14): the {@code layers} and {@code inputShape}
 * params, their errors before any training, the square-image default, and persistence of the
 * architecture with identical predictions after loading.
 */
class CnnEstimatorTest extends SparkTestBase {

  @TempDir Path tmp;

  private static SharpnessAwareClassifier cnn() {
    return new SharpnessAwareClassifier().setModelType("cnn").setInputShape(new int[] {1, 4, 4})
        .setLayers("conv 3 3x3 pad 1, maxpool 2, dense 5").setLearningRate(0.1).setBatchSize(20).setEpochs(2)
        .setPrecision("float64").setSeed(4);
  }

  private static List<Vector> probabilities(SharpnessAwareClassificationModel m, Dataset<Row> d) {
    return m.transform(d).select("probability").collectAsList().stream().map(r -> (Vector) r.get(0)).toList();
  }

  @Test
  void fitsSavesAndLoadsTheArchitecture() throws Exception {
    Dataset<Row> d = blobs(90, 16, 3, 8, false);
    SharpnessAwareClassificationModel m = cnn().fit(d);
    assertTrue(m.network().isConvolutional());
    assertEquals("conv 3 3x3 pad 1, maxpool 2, dense 5", m.network().architecture());
    assertTrue(m.toString().contains("CNN(1x4x4: conv 3 3x3 pad 1, maxpool 2, dense 5 -> 3, relu)"), m.toString());
    assertTrue(m.summary().epochs().get(1).loss() < m.summary().epochs().get(0).loss() + 1e-9);
    String path = tmp.resolve("cnn").toString();
    m.save(path);
    SharpnessAwareClassificationModel back = SharpnessAwareClassificationModel.load(path);
    assertEquals(m.network().toString(), back.network().toString());
    assertArrayEquals(m.weights(), back.weights(), 0.0);
    List<Vector> a = probabilities(m, d), b = probabilities(back, d);
    for (int i = 0; i < a.size(); i++) assertArrayEquals(a.get(i).toArray(), b.get(i).toArray(), 0.0);
  }

  @Test
  void squareFeaturesNeedNoInputShape() {
    SharpnessAwareClassificationModel m = cnn().setInputShape(new int[0]).setEpochs(1).fit(blobs(40, 16, 2, 3, false));
    assertEquals("1x4x4", m.network().inputShape().toString());
    assertEquals(2, m.numClasses());
  }

  @Test
  void badShapesAndLayersFailBeforeTrainingWithAClearMessage() {
    Dataset<Row> d = blobs(40, 16, 3, 3, false);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> cnn().setInputShape(new int[] {1, 5, 5}).fit(d));
    assertTrue(e.getMessage().contains("inputShape 1x5x5 holds 25 values per row but the features have length 16"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> cnn().setInputShape(new int[0]).fit(blobs(40, 15, 3, 3, false)));
    assertTrue(e.getMessage().contains("needs inputShape"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> cnn().setLayers("conv 3 3x3, maxpol 2").fit(d));
    assertTrue(e.getMessage().contains("bad token 'maxpol'"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> cnn().setInputShape(new int[] {1, 4}));
    assertThrows(IllegalArgumentException.class, () -> cnn().setLayers(" "));
    assertThrows(IllegalArgumentException.class, () -> cnn().setModelType("resnet"));
  }
}
