package io.github.sparksam.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

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

    @Mixin
    SavedModelAndSplit in = new SavedModelAndSplit("test");

    @Option(names = "--out", paramLabel = "FILE", description = "Also write the result as JSON to this file.")
    String outFile;

    @Option(names = "--compare-model", paramLabel = "DIR",
            description = "Another saved model: also report the largest absolute and relative weight difference "
                    + "(e.g. a cluster run against the same run in local mode).")
    String compareDir;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        in.validateBeforeSpark();
        common.confMap();  // a malformed --conf fails before anything starts
        SparkSession spark = common.createSession("spark-sam evaluate");
        try {
            Configuration hconf = spark.sparkContext().hadoopConfiguration();
            SharpnessAwareClassificationModel model = in.model(spark);
            Dataset<Row> df = in.rows(spark);
            Evaluation.Metrics m = Evaluation.evaluate(model, df);
            console.printf(Locale.ROOT, "spark-sam evaluate: %s accuracy %.4f, %s loss %.6f (%d rows, model %s)%n",
                    in.split, m.accuracy(), in.split, m.loss(), m.rows(), in.modelDir);
            double[] diff = null;
            if (compareDir != null) {
                diff = weightDifference(model, SavedModelAndSplit.load(hconf, compareDir));
                console.printf(Locale.ROOT, "spark-sam evaluate: weights vs %s: max |difference| %.3e, max relative %.3e%s%n",
                        compareDir, diff[0], diff[1], diff[0] == 0 ? " (bit-identical)" : "");
            }
            if (outFile != null) {
                ObjectNode json = SummaryWriter.object();
                json.put("model", in.modelDir);
                json.put("data", in.data);
                json.put("split", in.split);
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
