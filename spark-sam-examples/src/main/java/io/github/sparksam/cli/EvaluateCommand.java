package io.github.sparksam.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.data.IdxReader;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spark-sam evaluate}: loads a saved model and measures accuracy and cross-entropy on a Fashion-MNIST split, the
 * same way {@code train} computes its {@code final} numbers, so a reloaded model can be checked against summary.json.
 */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a saved model on Fashion-MNIST (accuracy and mean cross-entropy).")
public class EvaluateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "A model saved by train (its model/ folder).")
    String modelDir;

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder. Default: ${DEFAULT-VALUE}")
    String data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--split", description = "test | train. Default: ${DEFAULT-VALUE}")
    String split = "test";

    @Option(names = "--limit", paramLabel = "N", description = "Use the first N rows of the split; 0 = all. Default: ${DEFAULT-VALUE}")
    int limit = 0;

    @Option(names = "--partitions", description = "0 = Spark's default parallelism. Default: ${DEFAULT-VALUE}")
    int partitions = 0;

    @Option(names = "--out", paramLabel = "FILE", description = "Also write the result as JSON to this file.")
    String outFile;

    @Option(names = "--compare-model", paramLabel = "DIR",
            description = "Another saved model: also report the largest absolute and relative weight difference "
                    + "(e.g. a cluster run against the same run in local mode).")
    String compareDir;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        TrainCommand.oneOf("--split", split, java.util.List.of("test", "train"));
        if (limit < 0 || partitions < 0) {
            throw new IllegalArgumentException("--limit and --partitions must be >= 0");
        }
        common.confMap();  // a malformed --conf fails before anything starts
        DataChecks.requireFashionMnistBeforeSpark(data);
        SparkSession spark = common.createSession("spark-sam evaluate");
        try {
            Configuration hconf = spark.sparkContext().hadoopConfiguration();
            if (!IdxReader.exists(hconf, modelDir + "/metadata")) {
                throw new IllegalArgumentException("not a saved model: " + modelDir + " (no metadata/ folder)");
            }
            FashionMnist.requireAvailable(hconf, data);
            SharpnessAwareClassificationModel model = SharpnessAwareClassificationModel.load(modelDir);
            int parts = partitions > 0 ? partitions : spark.sparkContext().defaultParallelism();
            Dataset<Row> df = split.equals("test") ? FashionMnist.loadTest(spark, data, parts, limit)
                    : FashionMnist.loadTrain(spark, data, parts, limit);
            Evaluation.Metrics m = Evaluation.evaluate(model, df);
            console.printf(Locale.ROOT, "spark-sam evaluate: %s accuracy %.4f, %s loss %.6f (%d rows, model %s)%n",
                    split, m.accuracy(), split, m.loss(), m.rows(), modelDir);
            double[] diff = null;
            if (compareDir != null) {
                if (!IdxReader.exists(hconf, compareDir + "/metadata")) {
                    throw new IllegalArgumentException("not a saved model: " + compareDir + " (no metadata/ folder)");
                }
                diff = weightDifference(model, SharpnessAwareClassificationModel.load(compareDir));
                console.printf(Locale.ROOT, "spark-sam evaluate: weights vs %s: max |difference| %.3e, max relative %.3e%s%n",
                        compareDir, diff[0], diff[1], diff[0] == 0 ? " (bit-identical)" : "");
            }
            if (outFile != null) {
                ObjectNode json = SummaryWriter.object();
                json.put("model", modelDir);
                json.put("data", data);
                json.put("split", split);
                json.put("rows", m.rows());
                json.put("accuracy", m.accuracy());
                json.put("loss", m.loss());
                if (diff != null) {
                    json.put("compareModel", compareDir);
                    json.put("maxAbsWeightDifference", diff[0]);
                    json.put("maxRelWeightDifference", diff[1]);
                }
                org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(outFile);
                OutputDir dir = new OutputDir(p.getParent() == null ? "." : p.getParent().toString(), hconf);
                SummaryWriter.write(dir, p.getName(), json);
                console.printf("spark-sam evaluate: wrote %s%n", outFile);
            }
            console.flush();
            return 0;
        } finally {
            spark.stop();
        }
    }

    /** {max |a - b|, max |a - b| / max(|a|, |b|)} over the weights; models of different shapes are an error. */
    static double[] weightDifference(SharpnessAwareClassificationModel a, SharpnessAwareClassificationModel b) {
        if (!a.network().toString().equals(b.network().toString())) {
            throw new IllegalArgumentException("the models differ in architecture: " + a.network() + " vs " + b.network());
        }
        double[] wa = a.weights(), wb = b.weights();
        double abs = 0, rel = 0;
        for (int i = 0; i < wa.length; i++) {
            double d = Math.abs(wa[i] - wb[i]);
            abs = Math.max(abs, d);
            double scale = Math.max(Math.abs(wa[i]), Math.abs(wb[i]));
            if (scale > 0) rel = Math.max(rel, d / scale);
        }
        return new double[] {abs, rel};
    }
}
