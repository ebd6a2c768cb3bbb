package io.github.sparksam.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.SparkSession;

import io.github.sparksam.data.IdxReader;
import io.github.sparksam.export.OnnxExporter;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spark-sam export} (#17): writes a saved model in a format for serving outside Spark, through the
 * model's MLlib writer ({@code model.write().format("onnx").save(file)}); docs/SERVING.md shows how to serve it.
 */
@Command(name = "export", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Export a saved model for serving outside Spark (ONNX; see docs/SERVING.md).")
public class ExportCommand implements Callable<Integer> {

    static final List<String> FORMATS = List.of("onnx");

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--model", paramLabel = "DIR", required = true, description = "A model saved by train (its model/ folder).")
    String modelDir;

    @Option(names = "--format", description = "onnx. Default: ${DEFAULT-VALUE}")
    String format = "onnx";

    @Option(names = "--out", paramLabel = "FILE", required = true, description = "The file to write (any Hadoop file system).")
    String out;

    @Option(names = "--overwrite", description = "Replace --out if it exists.")
    boolean overwrite;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        TrainCommand.oneOf("--format", format, FORMATS);
        if (out.isBlank()) {
            throw new IllegalArgumentException("--out must not be empty");
        }
        common.confMap();  // a malformed --conf fails before anything starts
        SparkSession spark = common.createSession("spark-sam export");
        try {
            Configuration hconf = spark.sparkContext().hadoopConfiguration();
            if (!overwrite && IdxReader.exists(hconf, out)) {
                throw new IllegalArgumentException("--out " + out + " already exists; add --overwrite to replace it");
            }
            SharpnessAwareClassificationModel model = SavedModelAndSplit.load(hconf, modelDir);
            MLWriter w = model.write().format(format);
            if (overwrite) {
                w.overwrite();
            }
            w.save(out);
            console.printf("spark-sam export: wrote %s (%s; ONNX opset %d, input '%s' float32 [batch, %d], outputs '%s', "
                            + "'%s' float32 [batch, %d] and '%s' int64 [batch])%n", out, model.network(), OnnxExporter.OPSET,
                    OnnxExporter.INPUT, model.numFeatures(), OnnxExporter.RAW, OnnxExporter.PROBABILITY, model.numClasses(),
                    OnnxExporter.PREDICTION);
            console.flush();
            return 0;
        } finally {
            spark.stop();
        }
    }
}
