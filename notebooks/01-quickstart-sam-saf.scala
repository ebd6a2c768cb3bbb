// Databricks notebook source
// MAGIC %md
// MAGIC # spark-sam quick start: SGD vs SAM vs SAF on Fashion-MNIST
// MAGIC
// MAGIC This notebook trains the same small MLP (784-128-10, ReLU) three ways on Fashion-MNIST with
// MAGIC spark-sam's `SharpnessAwareClassifier`:
// MAGIC
// MAGIC * **SGD**: the base optimizer alone;
// MAGIC * **SAM** (Foret et al. 2021): each step takes the gradient at a worst-case nearby point
// MAGIC   (per partition, m-SAM: one Spark job per step);
// MAGIC * **SAF** (Du et al. 2022): a trajectory loss against the model's own outputs from earlier epochs,
// MAGIC   almost free.
// MAGIC
// MAGIC Then it plots their loss curves and compares how *sharp* the three minima are (the top Hessian
// MAGIC eigenvalue and the worst-case adaptive sharpness, with the `SharpnessEvaluator`). Two regimes follow:
// MAGIC training on **noisy labels** (40% of the training labels flipped), where it watches per epoch how
// MAGIC much of the noise SGD and SAM memorize, and a small **convolutional network** (`modelType` `cnn`)
// MAGIC saved and loaded as a Pipeline stage.
// MAGIC
// MAGIC **Setup.** Attach `spark-sam-core-<version>.jar` to the cluster (Databricks Runtime 16+ for
// MAGIC Java 17 and Spark 3.5). The data are the Fashion-MNIST IDX files (Debian package
// MAGIC `dataset-fashion-mnist`, or copy the four `.gz` files to DBFS and set `dataDir`). When run by
// MAGIC `ci/notebooks.sh` the notebook uses a small subset so that it finishes in minutes.

// COMMAND ----------

import io.github.sparksam.data.FashionMnist
import io.github.sparksam.ml.{SharpnessAwareClassifier, SharpnessAwareClassificationModel, SharpnessEvaluator}
import scala.collection.JavaConverters._

val small = sys.props.get("spark.sam.notebook.small").contains("true")
val onDatabricks = sys.env.contains("DATABRICKS_RUNTIME_VERSION")
val dataDir = sys.props.getOrElse("spark.sam.notebook.data", FashionMnist.DEFAULT_DIR)
val outDir = sys.props.getOrElse("spark.sam.notebook.out", "/tmp/spark-sam-notebooks/quickstart")
val trainRows = if (small) 3000 else 0      // 0 = all 60000
val epochs = if (small) 2 else 10

// COMMAND ----------

// MAGIC %md
// MAGIC ## Load the data
// MAGIC `FashionMnist.loadTrain` parses the IDX files inside Spark tasks; each row has a stable example
// MAGIC `id`, a `features` vector scaled to [0, 1] and a `label` 0-9.

// COMMAND ----------

val parts = spark.sparkContext.defaultParallelism
val train = FashionMnist.loadTrain(spark, dataDir, parts, trainRows).cache()
val test = FashionMnist.loadTest(spark, dataDir, parts, if (small) 1000 else 0).cache()
println(s"${train.count()} training rows, ${test.count()} test rows in $parts partitions")
display(train.groupBy("label").count().orderBy("label"))

// COMMAND ----------

// MAGIC %md
// MAGIC ## Train with SGD, SAM and SAF
// MAGIC The three estimators differ only in `rule`. Everything else, including the seed and therefore the
// MAGIC initial weights and the batches of every step, is the same. `aggregation` is left at its default,
// MAGIC `auto`: each epoch runs as one barrier stage whose tasks add their gradients with an authenticated
// MAGIC all-reduce when the cluster has a slot per partition and no dynamic allocation; otherwise a Spark job
// MAGIC per step, the sums combined in a fixed tree when many partitions of a large model would flood the
// MAGIC driver, else collected by it. The weights are the same; the all-reduce takes about 10x less time per
// MAGIC epoch. The summary records what ran (the `aggregation` column below).

// COMMAND ----------

def estimator(rule: String): SharpnessAwareClassifier =
  new SharpnessAwareClassifier()
    .setModelType("mlp").setHiddenLayers(Array(128)).setActivation("relu")
    .setOptimizer("sgd").setLearningRate(0.2).setLrSchedule("cosine")
    .setBatchSize(128).setEpochs(epochs).setSeed(42)
    .setRule(rule).setRho(0.05).setMicroBatchSize(64)
    .setSafLambda(0.3).setSafLag(1).setKlStartEpoch(0)

val rules = Seq("none", "sam", "saf")
val models: Map[String, SharpnessAwareClassificationModel] = rules.map(r => r -> estimator(r).fit(train)).toMap

// COMMAND ----------

// MAGIC %md
// MAGIC ## Accuracy and time
// MAGIC `summary()` holds what the trainer measured in each epoch (the running loss and accuracy of the
// MAGIC batches it trained on, wall time, steps per second, and the rule's own metrics such as SAM's mean
// MAGIC perturbation norm or SAF's record coverage).

// COMMAND ----------

import spark.implicits._
/** Accuracy on the (never corrupted) test rows of a fitted model or pipeline. */
def testAccuracy(m: org.apache.spark.ml.Transformer): Double =
  m.transform(test).filter("prediction = label").count().toDouble / test.count()
def ruleName(r: String): String = if (r == "none") "sgd" else r
val rows = rules.map { r =>
  val m = models(r)
  val acc = testAccuracy(m)
  val last = m.summary.epochs.asScala.last
  val secs = m.summary.epochs.asScala.drop(1).map(_.seconds).sum / math.max(1, epochs - 1)
  (ruleName(r), acc, last.loss, secs, m.summary.aggregation)
}
val table = rows.toDF("rule", "testAccuracy", "finalTrainLoss", "secondsPerEpoch", "aggregation")
display(table)

// COMMAND ----------

// MAGIC %md
// MAGIC ## Loss curves
// MAGIC On Databricks the curves are a DataFrame for `display` (choose a line chart); locally they are
// MAGIC written as a PNG with JFreeChart.

// COMMAND ----------

val curves = rules.flatMap { r =>
  models(r).summary.epochs.asScala.map(e => (ruleName(r), e.epoch, e.loss, e.accuracy))
}.toDF("rule", "epoch", "trainLoss", "trainAccuracy")

/** Writes one line per named series of (x, y) points as a PNG under outDir (JFreeChart). */
def lineChart(file: String, title: String, xLabel: String, yLabel: String, series: Seq[(String, Seq[(Double, Double)])]): Unit = {
  import org.jfree.chart.{ChartFactory, ChartUtils}
  import org.jfree.chart.plot.PlotOrientation
  import org.jfree.data.xy.{XYSeries, XYSeriesCollection}
  val ds = new XYSeriesCollection()
  for ((name, points) <- series) {
    val s = new XYSeries(name)
    points.foreach { case (x, y) => s.add(x, y) }
    ds.addSeries(s)
  }
  val chart = ChartFactory.createXYLineChart(title, xLabel, yLabel, ds, PlotOrientation.VERTICAL, true, false, false)
  new java.io.File(outDir).mkdirs()
  ChartUtils.saveChartAsPNG(new java.io.File(outDir, file), chart, 800, 500)
  println(s"wrote $outDir/$file")
}

if (onDatabricks) display(curves)
else lineChart("loss-curves.png", "training loss per epoch", "epoch", "cross-entropy",
  rules.map(r => ruleName(r) -> models(r).summary.epochs.asScala.map(e => (e.epoch.toDouble, e.loss)).toSeq))

// COMMAND ----------

// MAGIC %md
// MAGIC ## How sharp are the three minima?
// MAGIC The `SharpnessEvaluator` follows MLlib's `Evaluator` contract, so it works on a transformed
// MAGIC DataFrame (and inside `CrossValidator`). Lower is flatter. We measure on training rows: the top
// MAGIC eigenvalue of the loss Hessian (Lanczos, each Hessian-vector product one distributed pass) and the
// MAGIC worst-case adaptive l-infinity sharpness of Andriushchenko et al. (2023).

// COMMAND ----------

val probe = train.limit(if (small) 512 else 4096).cache()
val sharpness = rules.map { r =>
  val scored = models(r).transform(probe)
  val top = new SharpnessEvaluator().setMetricName("topEigenvalue").setSeed(1).evaluate(scored)
  val worst = new SharpnessEvaluator().setMetricName("worstCaseAdaptiveLinf").setSampleSize(if (small) 256 else 1024)
    .setSeed(1).evaluate(scored)
  (ruleName(r), top, worst)
}.toDF("rule", "topHessianEigenvalue", "worstCaseAdaptiveLinf")
display(sharpness)

// COMMAND ----------

// MAGIC %md
// MAGIC ## Noisy labels: who memorizes the noise?
// MAGIC Robustness to label noise is one of the two reasons people adopt sharpness-aware training (better
// MAGIC generalization is the other). The estimator can run that experiment:
// MAGIC
// MAGIC * `labelNoise` `symmetric` with `labelNoiseRate` 0.4 flips 40% of the *training* labels, each to one
// MAGIC   of the other nine classes, inside `fit`. Which rows flip is a seeded hash of the example id, so the
// MAGIC   same rows flip for every rule and any partitioning. The test set is never corrupted.
// MAGIC * `validationIndicatorCol` (as in MLlib's GBT estimators): rows where the column is true are held
// MAGIC   out of training (with their clean labels) and evaluated after every epoch.
// MAGIC
// MAGIC Each epoch of the training summary then holds (`EpochMetrics.evaluation`): on the flipped training
// MAGIC rows, the accuracy against the noisy labels the model is trained on (`flippedNoisyLabelAccuracy`:
// MAGIC **memorization**; a model that predicts the true class scores 0) and against their true labels
// MAGIC (`flippedCleanLabelAccuracy`), and the `validationAccuracy`. Plain SGD and SAM train the same MLP from
// MAGIC the same seed, with a constant learning rate and small batches, for long enough that SGD starts to
// MAGIC memorize. With `small` data (CI) that is 1600 training and 400 validation rows for 25 epochs.

// COMMAND ----------

import io.github.sparksam.train.EpochMetrics
import org.apache.spark.sql.functions.col

val noisyEpochs = if (small) 25 else 30
val noisyRules = Seq("none", "sam")
// every 5th example is a validation row (the same rows whatever the partitioning)
val noisyData = (if (small) train.filter(col("id") < 2000) else train)
  .withColumn("isValidation", col("id") % 5 === 0)

def noisyEstimator(rule: String): SharpnessAwareClassifier =
  new SharpnessAwareClassifier()
    .setModelType("mlp").setHiddenLayers(Array(128)).setActivation("relu")
    .setOptimizer("sgd").setLearningRate(0.1).setBatchSize(32).setEpochs(noisyEpochs).setSeed(42)
    .setRule(rule).setRho(0.1).setMicroBatchSize(32)
    .setLabelNoise("symmetric").setLabelNoiseRate(0.4)
    .setValidationIndicatorCol("isValidation")

val noisyModels = noisyRules.map(r => r -> noisyEstimator(r).fit(noisyData)).toMap

// COMMAND ----------

// MAGIC %md
// MAGIC ### Memorization per epoch
// MAGIC One row per rule and epoch, the latest epochs first (on Databricks choose a line chart of `memorized`
// MAGIC by `epoch`, grouped by `rule`; locally the notebook writes `memorization.png`). What to look for:
// MAGIC
// MAGIC * **Clean examples first.** In the first epochs `memorized` stays low while
// MAGIC   `flippedCleanLabelAccuracy` and validation accuracy rise: the network learns the signal shared by
// MAGIC   the 60% clean rows and predicts the *true* class of most flipped rows.
// MAGIC * **Memorization comes late.** Once the clean signal is fitted, the only way left to lower the training
// MAGIC   loss is to fit the flipped rows one by one: `memorized` climbs, `flippedCleanLabelAccuracy` falls and
// MAGIC   validation accuracy drops from its peak.
// MAGIC * **SAM resists.** Fitting flipped examples one by one carves sharp, narrow dips into the loss; SAM
// MAGIC   takes its gradient at the worst point within `rho` and so pushes against such dips: its `memorized`
// MAGIC   curve should rise later and slower than SGD's. Compare the columns in the tables rather than trust
// MAGIC   this: one seed on a small subset is an illustration, not a measurement of which rule is better.

// COMMAND ----------

val memorization = noisyRules.flatMap { r =>
  noisyModels(r).summary.epochs.asScala.map { e =>
    (ruleName(r), e.epoch, e.evaluation(EpochMetrics.FLIPPED_NOISY_ACCURACY),
      e.evaluation(EpochMetrics.FLIPPED_CLEAN_ACCURACY), e.evaluation(EpochMetrics.VALIDATION_ACCURACY), e.loss)
  }
}.toDF("rule", "epoch", "memorized", "flippedCleanLabelAccuracy", "validationAccuracy", "trainLossOnNoisyLabels")
display(memorization.orderBy($"epoch".desc, $"rule"))
if (!onDatabricks) {
  val curve = (r: String, metric: String) =>
    noisyModels(r).summary.epochs.asScala.map(e => (e.epoch.toDouble, e.evaluation(metric))).toSeq
  lineChart("memorization.png", "40% symmetric label noise", "epoch", "accuracy", noisyRules.flatMap { r =>
    Seq(s"${ruleName(r)}: flipped rows, noisy labels (memorized)" -> curve(r, EpochMetrics.FLIPPED_NOISY_ACCURACY),
      s"${ruleName(r)}: flipped rows, clean labels" -> curve(r, EpochMetrics.FLIPPED_CLEAN_ACCURACY),
      s"${ruleName(r)}: validation" -> curve(r, EpochMetrics.VALIDATION_ACCURACY))
  })
}

// COMMAND ----------

// MAGIC %md
// MAGIC ### Peak, final and test accuracy
// MAGIC `flipFraction` is the realised noise rate. The validation peak is where early stopping would have
// MAGIC stopped; the gap between it and the final validation accuracy is what memorization cost. The test
// MAGIC accuracy is of the final model.

// COMMAND ----------

val noisySummary = noisyRules.map { r =>
  val epochs = noisyModels(r).summary.epochs.asScala
  val last = epochs.last
  val peak = epochs.maxBy(_.evaluation(EpochMetrics.VALIDATION_ACCURACY))
  (ruleName(r), last.evaluation(EpochMetrics.FLIP_FRACTION), last.evaluation(EpochMetrics.FLIPPED_NOISY_ACCURACY),
    last.evaluation(EpochMetrics.FLIPPED_CLEAN_ACCURACY), peak.evaluation(EpochMetrics.VALIDATION_ACCURACY), peak.epoch,
    last.evaluation(EpochMetrics.VALIDATION_ACCURACY), testAccuracy(noisyModels(r)))
}.toDF("rule", "flipFraction", "finalMemorized", "finalFlippedCleanLabelAccuracy", "peakValidationAccuracy",
  "peakEpoch", "finalValidationAccuracy", "testAccuracy")
display(noisySummary)

// COMMAND ----------

// MAGIC %md
// MAGIC ## A convolutional network on small data
// MAGIC `modelType` `cnn` trains a stack of layers written in `layers` (the grammar is in docs/CNN.md; the
// MAGIC output layer is appended) on rows whose features are `inputShape` = channels, height, width
// MAGIC (Fashion-MNIST: 1, 28, 28). Every rule works on it unchanged; here SAM, on the same small subset as
// MAGIC above, inside an MLlib `Pipeline` that is saved and loaded back. The reloaded pipeline must predict
// MAGIC exactly what the fitted one does (`changedPredictions` 0).

// COMMAND ----------

import org.apache.spark.ml.{Pipeline, PipelineModel, PipelineStage}

val cnnEpochs = if (small) 2 else 5
val cnn = new SharpnessAwareClassifier()
  .setModelType("cnn").setInputShape(Array(1, 28, 28))
  .setLayers("conv 8 5x5 pad 2, maxpool 2, dense 32")
  .setOptimizer("sgd").setLearningRate(0.1).setBatchSize(32).setEpochs(cnnEpochs).setSeed(42)
  .setRule("sam").setRho(0.05).setMicroBatchSize(32)
val cnnPipeline = new Pipeline().setStages(Array[PipelineStage](cnn)).fit(train)
val cnnModel = cnnPipeline.stages(0).asInstanceOf[SharpnessAwareClassificationModel]
println(cnnModel.network)

val cnnDir = new java.io.File(outDir, "cnn-pipeline").getPath
cnnPipeline.write.overwrite().save(cnnDir)
val reloaded = PipelineModel.load(cnnDir)
def testPredictions(m: org.apache.spark.ml.Transformer): Map[Long, Double] =
  m.transform(test).select($"id", $"prediction").as[(Long, Double)].collect().toMap
val reloadedPredictions = testPredictions(reloaded)
val changedPredictions = testPredictions(cnnPipeline).count { case (id, p) => reloadedPredictions(id) != p }

val cnnEpochRows = cnnModel.summary.epochs.asScala
display(Seq(("cnn + sam", cnnEpochs, cnnEpochRows.last.loss, cnnEpochRows.map(_.seconds).sum / cnnEpochs,
  testAccuracy(reloaded), changedPredictions))
  .toDF("model", "epochs", "finalTrainLoss", "secondsPerEpoch", "testAccuracy", "changedPredictions"))

// COMMAND ----------

// MAGIC %md
// MAGIC ## What to take away
// MAGIC * All three reach similar test accuracy on this small MLP; SAM costs a second forward/backward per
// MAGIC   micro-batch, SAF almost nothing.
// MAGIC * Whether the sharpness-aware runs end in flatter minima is measured above, not assumed: compare the
// MAGIC   eigenvalue and worst-case sharpness columns. The next notebook asks whether sharpness predicts
// MAGIC   generalization at all across many models.
// MAGIC * With noisy labels, the per-epoch `evaluation` metrics show when a run starts to memorize the flipped
// MAGIC   rows and what that costs on held-out data; `validationIndicatorCol` gives the peak to stop at.
// MAGIC * A CNN is the same estimator with `modelType` `cnn`, `layers` and `inputShape`, and persists like any
// MAGIC   MLlib stage.
