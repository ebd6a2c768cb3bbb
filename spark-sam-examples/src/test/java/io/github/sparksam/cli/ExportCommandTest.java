package io.github.sparksam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.data.IdxTestFiles;
import io.github.sparksam.export.OnnxRuntimeCheck;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;

/**
 * {@code spark-sam export} (#17): a model saved by {@code train} (an MLP or a convolutional network) becomes an ONNX file that ONNX Runtime runs with the
 * model's probabilities and classes; bad input exits 2 with one line naming the option or path at fault.
 */
class ExportCommandTest {

    private static final String[] SPARK = {"--master", "local[2]", "--conf", "spark.ui.enabled=false",
            "--conf", "spark.sql.shuffle.partitions=2"};

    @TempDir
    Path tmp;

    private record Run(int rc, String out, String err) {
        List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank()).toList();
        }
    }

    private static Run cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(SPARK));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = SparkSamCli.run(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
        return new Run(rc, out.toString(), err.toString());
    }

    private static void assertBadInput(Run r, String... mustContain) {
        assertEquals(2, r.rc(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith(SparkSamCli.PREFIX), r.err());
        for (String s : mustContain) assertTrue(r.err().contains(s), "should mention '" + s + "': " + r.err());
    }

    /** Trains with {@code trainArgs}, exports the model folder and checks the file in ONNX Runtime; returns the folder. */
    private String trainExportAndCompare(Path data, Path onnx, String... trainArgs) throws Exception {
        Path run = tmp.resolve("run-" + onnx.getFileName());
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--out", run.toString(),
                "--epochs", "1", "--batch-size", "50", "--partitions", "2"));
        args.addAll(List.of(trainArgs));
        Run train = cli(args.toArray(String[]::new));
        assertEquals(0, train.rc(), train.err());
        String model = run.resolve("model").toString();

        Run export = cli("export", "--model", model, "--out", onnx.toString());
        assertEquals(0, export.rc(), export.err());
        assertTrue(export.out().contains("wrote " + onnx) && export.out().contains("opset 13"), export.out());
        byte[] bytes = Files.readAllBytes(onnx);

        SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").getOrCreate();
        try {
            SharpnessAwareClassificationModel m = SharpnessAwareClassificationModel.load(model);
            OnnxRuntimeCheck.assertMatches(bytes, m.transform(FashionMnist.loadTest(spark, data.toString(), 2, 0)),
                    "features", FashionMnist.NUM_FEATURES, FashionMnist.NUM_CLASSES);
        } finally {
            spark.stop();
        }
        return model;
    }

    @Test
    void exportsATrainedModelThatOnnxRuntimeRunsLikeTransform() throws Exception {
        Path data = IdxTestFiles.writeFashionLike(tmp.resolve("data"), 200, 60, 5);
        Path onnx = tmp.resolve("out").resolve("model.onnx");
        String model = trainExportAndCompare(data, onnx, "--hidden", "8");

        // bad input: one line, exit 2
        assertBadInput(cli("export", "--model", model, "--out", onnx.toString()), onnx.toString(), "--overwrite");
        assertBadInput(cli("export", "--model", model, "--format", "pmml", "--out", tmp.resolve("x").toString()),
                "--format", "onnx", "pmml");
        String missing = tmp.resolve("no-model").toString();
        assertBadInput(cli("export", "--model", missing, "--out", tmp.resolve("y").toString()), missing);
        assertBadInput(cli("export", "--model", model), "--out");
        // --overwrite replaces the file
        Files.writeString(onnx, "stale");
        Run again = cli("export", "--model", model, "--out", onnx.toString(), "--overwrite");
        assertEquals(0, again.rc(), again.err());
        assertTrue(Files.size(onnx) > 1000);
    }

    @Test
    void exportsAConvolutionalNetwork() throws Exception {
        Path data = IdxTestFiles.writeFashionLike(tmp.resolve("data"), 200, 60, 6);
        trainExportAndCompare(data, tmp.resolve("cnn.onnx"), "--model", "cnn", "--input-shape", "1,28,28",
                "--layers", "conv 2 3x3 pad 1, maxpool 2, conv 3 3x3 stride 2, avgpool 2, dense 8");
    }
}
