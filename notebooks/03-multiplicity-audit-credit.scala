// Databricks notebook source
// MAGIC %md
// MAGIC # A predictive-multiplicity audit of a credit model
// MAGIC
// MAGIC Many models fit the German credit data (`credit-g`, 1000 applicants, label `class` = good/bad)
// MAGIC almost equally well. If two near-optimal models give an applicant very different risk scores, the
// MAGIC score the bank happens to use is partly arbitrary. This notebook measures that with spark-sam's
// MAGIC `PredictiveMultiplicityJob`:
// MAGIC
// MAGIC * the **epsilon-level (Rashomon) set**: logistic models whose training log-loss is within epsilon of
// MAGIC   the best one (Watson-Daniels, Parkes and Ustun 2023);
// MAGIC * for each applicant, the **viable prediction range**: the lowest and highest predicted probability
// MAGIC   of "bad" over all models in the set, computed exactly (the set is convex);
// MAGIC * **ambiguity**: the share of applicants whose range crosses the decision threshold (their decision
// MAGIC   can flip); **discrepancy**: the largest share of decisions one model in the set changes
// MAGIC   (a lower bound); **Rashomon capacity** (Hsu and Calmon 2022).
// MAGIC
// MAGIC **Setup.** Attach `spark-sam-core-<version>.jar`. The ARFF file ships with the Debian package
// MAGIC `weka` (`/usr/share/doc/weka/examples/credit-g.arff`); on Databricks copy it to DBFS and set `arff`.

// COMMAND ----------

import io.github.sparksam.data.{ArffReader, TabularEncoder}
import io.github.sparksam.multiplicity.PredictiveMultiplicityJob
import scala.collection.JavaConverters._

val small = sys.props.get("spark.sam.notebook.small").contains("true")
val onDatabricks = sys.env.contains("DATABRICKS_RUNTIME_VERSION")
val arff = sys.props.getOrElse("spark.sam.notebook.arff",
  Seq("/usr/share/doc/weka/examples/credit-g.arff", "/usr/share/doc/weka/examples/credit-g.arff.gz")
    .find(p => new java.io.File(p).exists).getOrElse("/dbfs/FileStore/credit-g.arff"))
val outDir = sys.props.getOrElse("spark.sam.notebook.out", "/tmp/spark-sam-notebooks/multiplicity")

// COMMAND ----------

// MAGIC %md
// MAGIC ## Read and encode the data
// MAGIC `ArffReader` keeps the declared attribute types; `TabularEncoder` one-hot encodes the nominal columns
// MAGIC and standardises the numeric ones with MLlib transformers (`StringIndexer`, `OneHotEncoder`,
// MAGIC `StandardScaler`, `VectorAssembler`), and maps the label to 0/1 in its declared order
// MAGIC (here `good` = 0, `bad` = 1).

// COMMAND ----------

val credit = ArffReader.read(spark, arff)
println(s"${credit.numRows} rows, ${credit.attributes.size} attributes, relation ${credit.relation}")
val encoded = TabularEncoder.encode(credit.frame, credit.attributes.asScala.last.name, true)
println(s"${encoded.featureNames.size} encoded features; classes ${encoded.classNames.asScala.mkString(" = 0, ")} = 1")
display(encoded.frame.select("id", "label").groupBy("label").count())

// COMMAND ----------

// MAGIC %md
// MAGIC ## Exact viable prediction ranges
// MAGIC Two tolerances: models within 0.01 and within 0.05 nats of mean training log-loss of the optimum
// MAGIC (a logistic model with a small L2 penalty). In a small run only the first 100 applicants are targets.

// COMMAND ----------

val job = new PredictiveMultiplicityJob()
  .setMethod("exact").setModel("logistic").setL2(0.001)
  .setEpsilons(0.01, 0.05)
  .setMaxTargets(if (small) 100 else 0)
val report = job.run(encoded.frame)
val ranges = report.ranges.cache()
display(ranges.orderBy($"width".desc).limit(10))

// COMMAND ----------

// MAGIC %md
// MAGIC ## Summary per epsilon
// MAGIC `passesPerTargetRow` shows the cost: many target rows share every pass over the data (all their
// MAGIC candidate weight vectors go through one matrix multiplication per block).

// COMMAND ----------

report.summaries.asScala.foreach { s =>
  val m = s.asScala
  println(f"epsilon ${m("epsilon")}: ambiguity ${m("ambiguity")}, discrepancy >= ${m("discrepancy")}, " +
    s"passes ${m.getOrElse("passes", "?")}, passes per target row ${m.getOrElse("passesPerTargetRow", "?")}")
}
display(ranges.groupBy("epsilon").agg(
  org.apache.spark.sql.functions.avg("width").as("meanWidth"),
  org.apache.spark.sql.functions.avg(org.apache.spark.sql.functions.col("ambiguous").cast("double")).as("ambiguity")))

// COMMAND ----------

// MAGIC %md
// MAGIC ## How wide are the ranges?
// MAGIC A histogram of range widths per epsilon (a `display` chart on Databricks, a PNG locally).

// COMMAND ----------

val widths = ranges.select("epsilon", "width").collect().map(r => (r.getDouble(0), r.getDouble(1)))
if (onDatabricks) display(ranges.select("epsilon", "width"))
else {
  import org.jfree.chart.{ChartFactory, ChartUtils}
  import org.jfree.chart.plot.PlotOrientation
  import org.jfree.data.statistics.HistogramDataset
  val hist = new HistogramDataset()
  widths.groupBy(_._1).toSeq.sortBy(_._1).foreach { case (eps, ws) => hist.addSeries(s"epsilon $eps", ws.map(_._2), 20, 0.0, 1.0) }
  val chart = ChartFactory.createHistogram("viable prediction range widths", "max - min of P(bad)", "applicants",
    hist, PlotOrientation.VERTICAL, true, false, false)
  new java.io.File(outDir).mkdirs()
  ChartUtils.saveChartAsPNG(new java.io.File(outDir, "range-widths.png"), chart, 800, 500)
  println(s"wrote $outDir/range-widths.png")
}

// COMMAND ----------

// MAGIC %md
// MAGIC ## Reading the result
// MAGIC * An applicant flagged `ambiguous` could be approved by one near-optimal model and rejected by
// MAGIC   another; an audit should report how many there are before a score is used for decisions.
// MAGIC * The ranges grow quickly with epsilon: "near-optimal" must be defined before the audit.
// MAGIC * For non-convex models (MLPs), `setMethod("sampled")` retrains models with different seeds,
// MAGIC   bootstrap weights or sharpness-aware rules and reports lower bounds of the same measures.
