package io.github.sparksam.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.Corruptions;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.sharpness.DistributedObjective;
import io.github.sparksam.sharpness.RowSelection;
import io.github.sparksam.sharpness.SharpnessConfig;
import io.github.sparksam.sharpness.SharpnessSpec;
import io.github.sparksam.testutil.SparkTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The correlation job end to end on tiny 4x4 "images" (16 features, 3 classes), and the OOD pass. */
class SharpnessCorrelationJobTest extends SparkTestBase {

  static final StructType IMG = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("features", SQLDataTypes.VectorType(), false)
      .add("label", DataTypes.DoubleType, false);

  /** Class c lights up row c of a 4x4 image, plus noise. */
  Dataset<Row> images(int n, long seed, int partitions) {
    SplittableRandom r = new SplittableRandom(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int c = i % 3;
      double[] x = new double[16];
      for (int j = 0; j < 16; j++) x[j] = Math.min(1, Math.max(0, (j / 4 == c ? 0.7 : 0.1) + 0.25 * gauss(r)));
      rows.add(RowFactory.create((long) i, Vectors.dense(x), (double) c));
    }
    return spark.createDataFrame(rows, IMG).repartition(partitions).sortWithinPartitions("id");
  }

  @Test
  void shiftedEvaluationEqualsMaterialisedCorruptedSets() {
    Dataset<Row> test = spark.createDataFrame(images(60, 5, 1).orderBy("id").collectAsList(), IMG).coalesce(1);
    Network net = Network.mlp(16, new int[] {5}, 3, Activation.RELU, Network.Head.MULTINOMIAL);
    double[] w = net.initialParams(3);
    InputColumns cols = new InputColumns("features", "label", null);
    List<Corruptions.Corruption> cs = List.of(Corruptions.Corruption.parse("gaussianNoise:5"),
        Corruptions.Corruption.parse("rotate:2"), Corruptions.Corruption.parse("shift:4"));
    JavaRDD<BlockedPartition> blocks = Blockifier.blockify(test, cols, Precision.FLOAT64, 3, -1).cache();
    List<ShiftedEvaluation.Metrics> got = ShiftedEvaluation.evaluate(blocks, net, w, cs, 11, 0);
    List<ShiftedEvaluation.Metrics> firstRows = ShiftedEvaluation.evaluate(blocks, net, w, cs, 11, 20);
    for (int i = 0; i < cs.size(); i++) {
      Dataset<Row> shifted = Corruptions.apply(test, "id", "features", cs.get(i), 11);
      JavaRDD<BlockedPartition> sb = Blockifier.blockify(shifted, cols, Precision.FLOAT64, 2, -1);
      DistributedObjective.Result r = new DistributedObjective(sb, net, RowSelection.all()).evaluate(w, false, null);
      assertEquals(60, got.get(i).rows());
      assertEquals(r.loss(), got.get(i).loss(), 1e-12, cs.get(i).toString());
      assertEquals(r.error(), got.get(i).error(), 1e-12);
      assertEquals(20, firstRows.get(i).rows());
      // the materialised copy does not depend on the partitioning either
      Dataset<Row> again = Corruptions.apply(test.repartition(3), "id", "features", cs.get(i), 11).orderBy("id");
      assertEquals(shifted.orderBy("id").collectAsList(), again.collectAsList());
    }
    blocks.unpersist(false);
  }

  static SharpnessConfig tinySharpness() {
    return new SharpnessConfig().sample(32, 16, -1)
        .specs(List.of(SharpnessSpec.parse("worst:linf:adaptive:0.01"), SharpnessSpec.parse("average:l2:standard:0.1"),
            SharpnessSpec.parse("average:l2:standard:0.2")))
        .worstCase(3, 1.0, false).averageCase(2, true)
        .hessianMeasures(SharpnessConfig.TOP_EIGENVALUE, SharpnessConfig.HESSIAN_TRACE).hessianRows(32)
        .lanczos(4, 1e-3).hutchinson(2, 2);
  }

  @Test
  void smallGridEndToEndAndModelReuse() throws Exception {
    Dataset<Row> train = images(96, 1, 2);
    Dataset<Row> test = images(48, 2, 2);
    Map<String, Dataset<Row>> extra = Map.of("other", images(30, 9, 1));
    List<TrainingSpec> grid = new TrainingGrid()
        .set("rule", List.of("none", "sam")).set("learningRate", List.of(0.05, 0.5)).set("batchSize", List.of(32))
        .set("rho", List.of(0.05)).set("epochs", List.of(1))
        .architecture("mlp", new int[] {4}, "relu", "constant", 0.9, "float64").expand();
    assertEquals(4, grid.size());
    Path dir = Files.createTempDirectory("corr-models");
    SharpnessCorrelationJob.Config cfg = new SharpnessCorrelationJob.Config().grid(grid);
    cfg.modelDir = dir.toString();
    cfg.sharpness = tinySharpness();
    cfg.corruptions = List.of(Corruptions.Corruption.parse("blur:2"), Corruptions.Corruption.parse("contrast:4"));
    cfg.bootstrapResamples = 50;
    cfg.parallelism = 2;
    SharpnessCorrelationJob.Result res = SharpnessCorrelationJob.run(spark, train, test, extra, cfg);
    CorrelationReport rep = res.report();

    assertEquals(4, rep.models().size());
    assertEquals(List.of("worstCaseAdaptiveLinf", "averageCaseStandardL2_rho0.1", "averageCaseStandardL2_rho0.2",
        "topEigenvalue", "hessianTrace"), rep.measures());
    for (Map<String, Object> m : rep.models()) {
      assertEquals("trained", m.get("source"));
      for (String k : List.of("trainError", "testError", "generalizationGap", "oodError", "oodError_blur",
          "oodError_other", "worstCaseAdaptiveLinf", "topEigenvalue", "hessianTrace")) {
        assertTrue(Double.isFinite((Double) m.get(k)), k + " of " + m.get("id"));
      }
      assertEquals((Double) m.get("testError") - (Double) m.get("trainError"), (Double) m.get("generalizationGap"), 1e-12);
      assertTrue((Double) m.get("worstCaseAdaptiveLinf") >= 0);
    }
    assertTrue(rep.targets().containsAll(List.of("testError", "generalizationGap", "oodError", "oodError_contrast", "oodError_other")));
    assertEquals(rep.measures().size() * rep.targets().size(), rep.correlations().size());
    assertEquals(List.of("rule+rho", "learningRate"), rep.axes());
    Map<String, Object> c = rep.correlation("worstCaseAdaptiveLinf", "testError");
    assertEquals(4, c.get("n"));
    double tau = (Double) c.get("tauB");
    assertTrue(Double.isNaN(tau) || Math.abs(tau) <= 1);
    assertEquals(KendallTau.tauB(rep.column("worstCaseAdaptiveLinf"), rep.column("testError")), tau, 0);
    assertTrue(c.containsKey("psi_rule+rho") && c.containsKey("groups_learningRate"));
    assertEquals(2, ((Number) c.get("groups_learningRate")).intValue());

    assertEquals(4, res.models().count());
    assertEquals(rep.correlations().size(), res.correlations().count());
    String csv = rep.modelsCsv();
    assertEquals(5, csv.split("\n").length);
    assertTrue(csv.startsWith("id,source,optimizer,rule,learningRate,"));
    assertTrue(rep.markdown("t", List.of()).contains("| worstCaseAdaptiveLinf |"));

    // a second run with the same model folder loads instead of training, and measures the same numbers
    cfg.parallelism = 1;
    cfg.models = new ArrayList<>(cfg.models.subList(0, 2));
    CorrelationReport again = SharpnessCorrelationJob.run(spark, train, test, Map.of(), cfg).report();
    for (int i = 0; i < 2; i++) {
      assertEquals("loaded", again.models().get(i).get("source"));
      assertEquals(rep.models().get(i).get("testError"), again.models().get(i).get("testError"));
      assertEquals(rep.models().get(i).get("hessianTrace"), again.models().get(i).get("hessianTrace"));
    }
    assertFalse(again.models().get(0).containsKey("oodError_other"));
  }

  @Test
  void gridParsingAndValidation() {
    List<TrainingSpec> g = TrainingGrid.parseJson("{\"rule\": [\"none\", \"sam\"], \"lr\": [0.05, 0.2], "
        + "\"batchSize\": [128, 512], \"rho\": [0.05, 0.2], \"seed\": [1, 2], \"epochs\": 3, \"hidden\": [64]}");
    assertEquals(8 + 16, g.size());   // rho collapses to 0 for rule none
    assertEquals("mlp64-sgd-none-lr0.05-bs128-rho0-wd0-s1-e3", g.get(0).id());
    List<TrainingSpec> u = TrainingGrid.parseJson("[{\"rule\": \"none\"}, {\"rule\": \"none\"}, {\"rule\": \"sam\", \"rho\": 0.1}]");
    assertEquals(2, u.size());
    assertThrows(IllegalArgumentException.class, () -> TrainingGrid.parseJson("{\"lr\": [\"fast\"]}"));
    List<TrainingSpec> in = new TrainingGrid().set("epochs", List.of(1)).inline("rule=none,sam;lr=0.05,0.2;seed=1").expand();
    assertEquals(4, in.size());
    assertEquals("mlp64-sgd-sam-lr0.2-bs128-rho0.05-wd0-s1-e1", in.get(3).id());
    assertThrows(IllegalArgumentException.class, () -> new TrainingGrid().inline("momentum=0.9"));
    assertThrows(IllegalArgumentException.class, () -> TrainingGrid.parseJson("{\"learning_rate\": [0.1]}"));
    SharpnessCorrelationJob.Config empty = new SharpnessCorrelationJob.Config();
    // auto threads: as many models as the cluster has room for (local[2]: 2 slots)
    assertEquals(2, SharpnessCorrelationJob.threads(empty, spark.sparkContext(), 1));
    assertEquals(1, SharpnessCorrelationJob.threads(empty, spark.sparkContext(), 2));
    empty.parallelism = 3;
    assertEquals(3, SharpnessCorrelationJob.threads(empty, spark.sparkContext(), 2));
    empty.parallelism = 0;
    assertThrows(IllegalArgumentException.class, () -> SharpnessCorrelationJob.run(spark, null, null, Map.of(), empty));
  }
}
