package io.github.sparksam.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.ComputeBackends;
import io.github.sparksam.backend.Precision;
import io.github.sparksam.backend.TaskGpu;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * GPU-aware scheduling without a GPU: a {@code local-cluster} (two executor JVMs) whose workers
 * discover one fake GPU, address "3", through a discovery script; every task asks for it. Each
 * task must see address 3 through {@link TaskGpu}, the backend choice must be made for it, and a
 * fit's tasks must report it. (In CI the core module has no GPU backend, so the choice is the CPU.)
 */
class GpuSchedulingTest {

  @Test
  void tasksSeeTheGpuSparkAssigned() throws Exception {
    Path tmp = Path.of("target", "gpu-sched").toAbsolutePath();
    Files.createDirectories(tmp);
    Files.createDirectories(Path.of(System.getenv().getOrDefault("SPARK_HOME", "target/spark-home"), "jars"));
    Path script = tmp.resolve("fake-gpu-discovery.sh");
    Files.writeString(script, "#!/usr/bin/env bash\necho '{\"name\": \"gpu\", \"addresses\": [\"3\"]}'\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    // executors get the test JVM's whole classpath (Spark, our classes); surefire's own is in a manifest jar
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));

    SparkSession spark = SparkSession.builder().master("local-cluster[2,1,1024]").appName("GpuSchedulingTest")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.executor.extraClassPath", cp)
        .config("spark.executor.extraJavaOptions", "-Djava.io.tmpdir=" + tmp)
        .config("spark.worker.resource.gpu.amount", "1")
        .config("spark.worker.resource.gpu.discoveryScript", script.toString())
        .config("spark.executor.resource.gpu.amount", "1")
        .config("spark.task.resource.gpu.amount", "1")
        .getOrCreate();
    try {
      spark.sparkContext().setLogLevel("WARN");
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      List<String> seen = jsc.parallelize(List.of(1, 2, 3, 4), 4).map(i -> {
        ComputeBackends.Choice c = ComputeBackends.forTask("auto", Precision.FLOAT32);
        return TaskGpu.address().orElse("none") + "|" + TaskGpu.device().orElse(-1) + "|" + c.taskGpu() + "|"
            + c.description() + "|" + org.apache.spark.SparkEnv.get().executorId();
      }).collect();
      assertEquals(4, seen.size());
      for (String s : seen) {
        String[] f = s.split("\\|");
        assertEquals("3", f[0], s);
        assertEquals("3", f[1], s);
        assertEquals("3", f[2], s);
        assertTrue(f[3].startsWith("cpu (auto: no GPU backend on the classpath") && f[3].contains("GPU 3"), s);
      }
      assertTrue(seen.stream().map(s -> s.split("\\|")[4]).distinct().count() >= 1);

      // a fit: its tasks hold the GPU, pick their backend for it, and the summary says what they chose
      StructType schema = new StructType().add("features", SQLDataTypes.VectorType(), false)
          .add("label", DataTypes.DoubleType, false);
      SplittableRandom r = new SplittableRandom(5);
      List<Row> rows = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        int c = i % 2;
        rows.add(RowFactory.create(Vectors.dense(r.nextDouble() + 2 * c, r.nextDouble()), (double) c));
      }
      SharpnessAwareClassificationModel m = new SharpnessAwareClassifier().setModelType("softmax").setEpochs(1)
          .setBatchSize(20).setNumPartitions(2).fit(spark.createDataFrame(rows, schema));
      String be = m.summary().computeBackend();
      assertTrue(be.startsWith("cpu (auto: no GPU backend on the classpath") && be.contains("Spark assigned this task GPU 3"),
          be);
    } finally {
      spark.stop();
    }
    assertTrue(new File(tmp.toFile(), "fake-gpu-discovery.sh").exists());
  }
}
