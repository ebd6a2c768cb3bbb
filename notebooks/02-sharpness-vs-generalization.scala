// Databricks notebook source
// MAGIC %md
// MAGIC # Does sharpness predict generalization here?
// MAGIC
// MAGIC Flat minima are often said to generalize better. Andriushchenko et al. (ICML 2023) measured this
// MAGIC carefully and found the picture mixed: sharpness measures often do not rank models by test error,
// MAGIC and sometimes rank them the wrong way for out-of-distribution (OOD) data. This notebook runs the
// MAGIC same kind of study on your cluster with `SharpnessCorrelationJob`:
// MAGIC
// MAGIC 1. train a grid of small MLPs on Fashion-MNIST (SGD and SAM, two learning rates, two seeds);
// MAGIC 2. measure each model's train and test error, its error on deterministic corruptions of the test set
// MAGIC    (Gaussian noise, blur, rotation), and its sharpness (worst- and average-case adaptive sharpness,
// MAGIC    top Hessian eigenvalue, Hessian trace);
// MAGIC 3. report Kendall's tau-b between every sharpness measure and every generalization quantity, and
// MAGIC    the granulated version per hyperparameter axis.
// MAGIC
// MAGIC No sign is expected: the point is to measure. `docs/correlation/` in the repository holds a larger
// MAGIC run (24 models).

// COMMAND ----------

import io.github.sparksam.data.{Corruptions, FashionMnist}
import io.github.sparksam.jobs.{SharpnessCorrelationJob, TrainingGrid}
import scala.collection.JavaConverters._

val small = sys.props.get("spark.sam.notebook.small").contains("true")
val onDatabricks = sys.env.contains("DATABRICKS_RUNTIME_VERSION")
val dataDir = sys.props.getOrElse("spark.sam.notebook.data", FashionMnist.DEFAULT_DIR)
val outDir = sys.props.getOrElse("spark.sam.notebook.out", "/tmp/spark-sam-notebooks/correlation")
val parts = spark.sparkContext.defaultParallelism
val train = FashionMnist.loadTrain(spark, dataDir, parts, if (small) 1500 else 10000)
val test = FashionMnist.loadTest(spark, dataDir, parts, if (small) 500 else 2000)

// COMMAND ----------

// MAGIC %md
// MAGIC ## The grid
// MAGIC `TrainingGrid` expands every combination; the job trains what is missing (into `modelDir`, so a second
// MAGIC run reuses them), caches the data once and runs independent models concurrently where the cluster has
// MAGIC room.

// COMMAND ----------

val specs = new TrainingGrid()
  .set("rule", Seq("none", "sam").asJava)
  .set("learningRate", Seq(0.05, 0.2).asJava)
  .set("seed", (if (small) Seq(1L) else Seq(1L, 2L)).asJava)
  .set("epochs", Seq(if (small) 1 else 3).asJava)
  .expand()
println(s"${specs.size} models: " + specs.asScala.map(s => s"${s.rule}/lr ${s.learningRate}/seed ${s.seed}").mkString(", "))

val cfg = new SharpnessCorrelationJob.Config().grid(specs)
cfg.modelDir = outDir + "/models"
cfg.oodRows = if (small) 200 else 1000
cfg.bootstrapResamples = if (small) 100 else 1000
if (small) {
  cfg.corruptions = Seq(Corruptions.Corruption.parse("gaussianNoise:3"), Corruptions.Corruption.parse("rotate:3")).asJava
  cfg.sharpness = SharpnessCorrelationJob.cheapSharpness().sample(128, 64, -1).hessianRows(256).lanczos(5, 1e-3)
    .hutchinson(4, 2).worstCase(4, 1.0, false).averageCase(4, true)
}

// COMMAND ----------

val result = SharpnessCorrelationJob.run(spark, train, test, Map.empty[String, org.apache.spark.sql.Dataset[org.apache.spark.sql.Row]].asJava, cfg)
display(result.models)

// COMMAND ----------

// MAGIC %md
// MAGIC ## Kendall tau between sharpness and generalization
// MAGIC One row per (measure, target). `tauB` accounts for ties; `pValue` is tie-corrected; the granulated
// MAGIC `Psi` averages the per-axis taus (how consistently a measure ranks models when one hyperparameter
// MAGIC changes and the others stay fixed). With few models, |tau| below about 0.3 is noise.

// COMMAND ----------

display(result.correlations.orderBy(org.apache.spark.sql.functions.abs(org.apache.spark.sql.functions.col("tauB")).desc))

// COMMAND ----------

// MAGIC %md
// MAGIC ## Scatter plots and report
// MAGIC Locally, the report (Markdown) and the scatter plots are written to `outDir`; on Databricks,
// MAGIC `display` the models table above and choose a scatter chart.

// COMMAND ----------

new java.io.File(outDir).mkdirs()
val md = result.report.markdown("Sharpness vs generalization (notebook run)", Seq.empty[String].asJava)
java.nio.file.Files.write(java.nio.file.Paths.get(outDir, "report.md"), md.getBytes("UTF-8"))
println(md.split("\n").take(30).mkString("\n"))
