package io.github.sparksam.rapids;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.nn.Network;
import io.github.sparksam.testutil.SparkTestBase;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The RAPIDS eligibility check behind {@code ci/rapids-explain.sh}: asks the RAPIDS Accelerator's
 * {@code ExplainPlan.explainPotentialGpuPlan} (no GPU, no plugin, only its jar on the classpath)
 * which operators of the data-preparation plans our estimator runs could not run on the GPU. Every
 * {@code !} ("cannot run on GPU") line must match a fallback documented in docs/GPU.md for that
 * plan; the findings go to {@code target/rapids-explain/report.md}.
 *
 * <p>Skipped unless the RAPIDS jar is on the test classpath ({@code ci/rapids-explain.sh} puts it
 * there); it is 570 MB, so the normal build does not fetch it.
 */
class RapidsEligibilityTest extends SparkTestBase {
  private static final Map<String, List<String>> FINDINGS = new LinkedHashMap<>();

  /** A fallback we accept, with the reason documented in docs/GPU.md. */
  private record Allowed(Pattern pattern, String reason) {}

  private static final List<Allowed> NONE = List.of();
  /** Spark ML's vector type has no GPU representation; VectorAssembler's UDF produces it. */
  private static final List<Allowed> VECTOR = List.of(
      new Allowed(Pattern.compile("VectorUDT"), "ML vector type (VectorUDT) is not supported by RAPIDS"));
  /** Model inference: our predict UDFs are JVM code producing vectors. */
  private static final List<Allowed> PREDICT = List.of(
      new Allowed(Pattern.compile("VectorUDT"), "rawPrediction/probability are ML vectors"),
      new Allowed(Pattern.compile("UDF|ScalaUDF|lambda", Pattern.CASE_INSENSITIVE),
          "prediction is a JVM UDF (the network's forward pass), no GPU implementation"));

  private String explain(Dataset<Row> df) throws Exception {
    Class<?> ep = Class.forName("com.nvidia.spark.rapids.ExplainPlan");
    Method m = ep.getMethod("explainPotentialGpuPlan", Dataset.class, String.class);
    return (String) m.invoke(null, df, "ALL");
  }

  private static boolean rapidsOnClasspath() {
    try {
      Class.forName("com.nvidia.spark.rapids.ExplainPlan");
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  /** Explains {@code df}; asserts every "cannot run on GPU" line is allowed; records them. */
  private void check(String name, Dataset<Row> df, List<Allowed> allowed, boolean expectFallback) throws Exception {
    String plan = explain(df);
    assertTrue(plan.contains("will run on GPU") || plan.contains("could run on GPU"), name + ": unexpected output\n" + plan);
    List<String> cannot = new ArrayList<>();
    for (String line : plan.split("\n")) {
      if (line.strip().startsWith("!")) cannot.add(line.strip());
    }
    List<String> undocumented = new ArrayList<>();
    List<String> record = new ArrayList<>();
    for (String line : cannot) {
      Allowed a = allowed.stream().filter(x -> x.pattern().matcher(line).find()).findFirst().orElse(null);
      if (a == null) undocumented.add(line);
      record.add((a == null ? "UNDOCUMENTED: " : "documented (" + a.reason() + "): ") + line);
    }
    long willRun = plan.lines().filter(l -> l.strip().startsWith("*")).count();
    record.add(0, willRun + " operators/expressions will run on GPU, " + cannot.size() + " cannot");
    FINDINGS.put(name, record);
    assertTrue(undocumented.isEmpty(), name + ": operators that cannot run on the GPU and are not documented:\n"
        + String.join("\n", undocumented) + "\n\nfull plan:\n" + plan);
    if (expectFallback) assertFalse(cannot.isEmpty(), name + ": expected the documented fallback to be reported\n" + plan);
  }

  /** A parquet table with numeric columns of several types and a label, as a user's data would be. */
  private Dataset<Row> parquet() {
    Path dir = Path.of("target", "rapids-explain", "input.parquet").toAbsolutePath();
    spark.range(200).select(
            col("id").mod(3).cast("double").as("label"),
            functions.rand(1).as("x0"),
            functions.rand(2).cast("float").as("x1"),
            col("id").mod(17).cast("int").as("x2"),
            col("id").cast("string").as("s"),
            functions.rand(3).plus(0.5).as("w"))
        .write().mode(SaveMode.Overwrite).parquet(dir.toString());
    return spark.read().parquet(dir.toString());
  }

  /** Typical feature engineering in DataFrame columns: casts, arithmetic, a filter. */
  private Dataset<Row> engineered() {
    return parquet()
        .withColumn("x3", col("s").cast("double").divide(100.0))
        .withColumn("x4", col("x0").multiply(col("x1")).plus(col("x2")))
        .filter(col("w").gt(0.6));
  }

  @Test
  void dataPreparationPlans() throws Exception {
    assumeTrue(rapidsOnClasspath(), "RAPIDS jar not on the classpath (run ci/rapids-explain.sh)");
    String[] cols = {"x0", "x1", "x2", "x3", "x4"};
    SharpnessAwareClassifier clf = new SharpnessAwareClassifier();

    // 1. several numeric columns (inputCols): array() of casts, all on the GPU
    check("fit, inputCols (5 numeric columns), weightCol", clf.copy(org.apache.spark.ml.param.ParamMap.empty())
        .setInputCols(cols).setWeightCol("w").trainingInput(engineered()), NONE, false);

    // 2. an array<float> column built by the user, stored in and read from parquet
    Path arr = Path.of("target", "rapids-explain", "arrays.parquet").toAbsolutePath();
    Column[] fcs = new Column[cols.length];
    for (int i = 0; i < cols.length; i++) fcs[i] = col(cols[i]).cast("float");
    engineered().select(functions.array(fcs).as("f"), col("label")).write().mode(SaveMode.Overwrite)
        .parquet(arr.toString());
    check("fit, array<float> features from parquet", new SharpnessAwareClassifier().setFeaturesCol("f")
        .trainingInput(spark.read().parquet(arr.toString())), NONE, false);

    // 3. array<double> computed in the query (no materialisation)
    Column[] dcs = new Column[cols.length];
    for (int i = 0; i < cols.length; i++) dcs[i] = col(cols[i]).cast("double");
    check("fit, array<double> features computed in the query", new SharpnessAwareClassifier().setFeaturesCol("f")
        .trainingInput(engineered().withColumn("f", functions.array(dcs))), NONE, false);

    // 4. the CPU-only way: VectorAssembler (documented fallback, and proof the check sees it)
    Dataset<Row> assembled = new VectorAssembler().setInputCols(cols).setOutputCol("features").transform(engineered());
    check("fit, VectorAssembler vector features (NOT recommended)", new SharpnessAwareClassifier()
        .trainingInput(assembled), VECTOR, true);

    // 5. prediction with inputCols: the data prep before the predict UDF stays eligible
    Network net = Network.mlp(cols.length, new int[] {4}, 3, io.github.sparksam.nn.Activation.RELU, Network.Head.MULTINOMIAL);
    SharpnessAwareClassificationModel model = new SharpnessAwareClassificationModel("m", net, net.initialParams(1))
        .setInputCols(cols);
    check("transform, inputCols (model inference)", model.transform(engineered()), PREDICT, true);
  }

  @AfterAll
  void writeReport() throws Exception {
    if (FINDINGS.isEmpty()) return;
    StringBuilder sb = new StringBuilder("# RAPIDS eligibility of spark-sam's data-preparation plans\n\n"
        + "From `ExplainPlan.explainPotentialGpuPlan(df, \"ALL\")` (RAPIDS Accelerator on the classpath, no GPU).\n");
    FINDINGS.forEach((k, v) -> {
      sb.append("\n## ").append(k).append("\n\n");
      for (String l : v) sb.append("- ").append(l.replace("|", "\\|")).append('\n');
    });
    Path out = Path.of("target", "rapids-explain", "report.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, sb.toString());
    assertEquals(5, FINDINGS.size());
  }
}
