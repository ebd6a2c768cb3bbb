package io.github.sparksam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sparksam.cli.OutputDir;
import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bench --driver-bytes P,...}: what reaches the driver per training step with
 * {@code aggregation=collect} (every partition's sum) and with {@code tree} (at most the tree's
 * fan-in of sums, plus a map status per shuffle task). Measured, not computed: a listener adds
 * the serialized result sizes ({@code TaskMetrics.resultSize}) of every task of the fit's step
 * jobs (those whose description names a step). Sizes do not depend on timing, so one short fit
 * per setting is enough.
 */
final class DriverBytes {
  private final SparkSession spark;
  private final String data;
  private final int batchSize;
  private final double lr;
  private final long seed;
  private final int[] hidden;
  private final int steps;

  DriverBytes(SparkSession spark, String data, int batchSize, double lr, long seed, int[] hidden, int steps) {
    this.spark = spark;
    this.data = data;
    this.batchSize = batchSize;
    this.lr = lr;
    this.seed = seed;
    this.hidden = hidden;
    this.steps = steps;
  }

  /** Adds the result sizes of the tasks of jobs described as a training step. */
  static final class StepResultBytes extends SparkListener {
    private final Set<Integer> stepStages = ConcurrentHashMap.newKeySet();
    final AtomicLong bytes = new AtomicLong();
    final AtomicLong jobs = new AtomicLong();
    final AtomicLong tasks = new AtomicLong();

    @Override public void onJobStart(SparkListenerJobStart e) {
      String d = e.properties() == null ? null : e.properties().getProperty("spark.job.description");
      if (d == null || !d.startsWith("spark-sam") || !d.contains(", step ")) return;
      jobs.incrementAndGet();
      scala.collection.Iterator<Object> it = e.stageIds().iterator();
      while (it.hasNext()) stepStages.add((Integer) it.next());
    }

    @Override public void onTaskEnd(SparkListenerTaskEnd e) {
      if (!stepStages.contains(e.stageId()) || e.taskMetrics() == null) return;
      bytes.addAndGet(e.taskMetrics().resultSize());
      tasks.incrementAndGet();
    }
  }

  int run(List<Integer> partitionCounts, String out, PrintWriter console) throws Exception {
    int rows = steps * batchSize;
    Dataset<Row> train = FashionMnist.loadTrain(spark, data, Math.max(1, spark.sparkContext().defaultParallelism()), rows)
        .cache();
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    root.put("master", spark.sparkContext().master()).put("rows", rows).put("batchSize", batchSize)
        .set("hidden", json.valueToTree(hidden));
    ArrayNode arr = root.putArray("driverBytesPerStep");
    StringBuilder md = new StringBuilder(String.format(Locale.ROOT, "Bytes the driver receives per training step "
        + "(serialized task results of the step jobs), %d rows, batch %d, MLP hidden %s, master %s%n%n"
        + "| partitions | weights | collect bytes/step | tree bytes/step | tree / collect |%n|---|---|---|---|---|%n",
        rows, batchSize, java.util.Arrays.toString(hidden), spark.sparkContext().master()));
    for (int p : partitionCounts) {
      double[] perStep = new double[2];
      int numParams = 0;
      String[] modes = {"collect", "tree"};
      for (int m = 0; m < 2; m++) {
        StepResultBytes listener = new StepResultBytes();
        spark.sparkContext().addSparkListener(listener);
        SharpnessAwareClassificationModel model;
        try {
          model = new SharpnessAwareClassifier().setHiddenLayers(hidden).setOptimizer("sgd").setLearningRate(lr)
              .setBatchSize(batchSize).setEpochs(1).setSeed(seed).setNumPartitions(p).setAggregation(modes[m])
              .fit(train);
          spark.sparkContext().listenerBus().waitUntilEmpty();
        } finally {
          spark.sparkContext().removeSparkListener(listener);
        }
        numParams = model.weights().length;
        int s = model.summary().stepsPerEpoch();
        if (listener.jobs.get() != s) {
          throw new IllegalStateException("expected " + s + " step jobs with aggregation=" + modes[m] + ", saw "
              + listener.jobs.get());
        }
        perStep[m] = listener.bytes.get() / (double) s;
        arr.addObject().put("partitions", p).put("aggregation", modes[m]).put("weights", numParams)
            .put("steps", s).put("tasks", listener.tasks.get()).put("bytesPerStep", perStep[m]);
        console.printf("spark-sam bench: driver bytes, %d partitions, %s: %.0f bytes per step (%d tasks in %d steps)%n",
            p, modes[m], perStep[m], listener.tasks.get(), s);
        console.flush();
      }
      md.append(String.format(Locale.ROOT, "| %d | %d | %.0f | %.0f | %.3f |%n", p, numParams, perStep[0], perStep[1],
          perStep[1] / perStep[0]));
    }
    train.unpersist();
    OutputDir dir = new OutputDir(out, spark.sparkContext().hadoopConfiguration());
    try (var os = dir.create("driver-bytes.json")) {
      json.writerWithDefaultPrettyPrinter().writeValue(os, root);
    }
    try (var os = dir.create("driver-bytes.md")) {
      os.write(md.toString().getBytes(StandardCharsets.UTF_8));
    }
    console.printf("%n%sspark-sam bench: wrote %s/{driver-bytes.json,driver-bytes.md}%n", md, dir);
    console.flush();
    return 0;
  }
}
