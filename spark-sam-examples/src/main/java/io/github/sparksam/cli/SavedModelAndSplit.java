package io.github.sparksam.cli;

import java.util.List;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.data.IdxReader;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import picocli.CommandLine.Option;

/**
 * The options of commands that read a model saved by {@code train} and a Fashion-MNIST split ({@code evaluate},
 * {@code sharpness}), and loading both. A picocli mixin; the default split is the command's.
 */
public class SavedModelAndSplit {

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "A model saved by train (its model/ folder).")
    String modelDir;

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder. Default: ${DEFAULT-VALUE}")
    String data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--split", description = "test | train. Default: ${DEFAULT-VALUE}")
    String split;

    @Option(names = "--limit", paramLabel = "N", description = "Use the first N rows of the split; 0 = all. Default: ${DEFAULT-VALUE}")
    int limit = 0;

    @Option(names = "--partitions", description = "0 = Spark's default parallelism. Default: ${DEFAULT-VALUE}")
    int partitions = 0;

    SavedModelAndSplit(String defaultSplit) {
        this.split = defaultSplit;
    }

    /** Checks the option values and that the data exist, before Spark starts (an IllegalArgumentException: exit 2). */
    void validateBeforeSpark() {
        TrainCommand.oneOf("--split", split, List.of("test", "train"));
        if (limit < 0 || partitions < 0) {
            throw new IllegalArgumentException("--limit and --partitions must be >= 0");
        }
        DataChecks.requireFashionMnistBeforeSpark(data);
    }

    /** The partitions the split is read into. */
    int partitions(SparkSession spark) {
        return partitions > 0 ? partitions : spark.sparkContext().defaultParallelism();
    }

    /** The model of --model. */
    SharpnessAwareClassificationModel model(SparkSession spark) {
        return load(spark.sparkContext().hadoopConfiguration(), modelDir);
    }

    /** The rows of --split (first --limit of them). */
    Dataset<Row> rows(SparkSession spark) {
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        FashionMnist.requireAvailable(hconf, data);
        int parts = partitions(spark);
        return split.equals("test") ? FashionMnist.loadTest(spark, data, parts, limit)
                : FashionMnist.loadTrain(spark, data, parts, limit);
    }

    /** A saved model, with a one-line error when {@code dir} is not one. */
    static SharpnessAwareClassificationModel load(Configuration hconf, String dir) {
        if (!IdxReader.exists(hconf, dir + "/metadata")) {
            throw new IllegalArgumentException("not a saved model: " + dir + " (no metadata/ folder)");
        }
        return SharpnessAwareClassificationModel.load(dir);
    }
}
