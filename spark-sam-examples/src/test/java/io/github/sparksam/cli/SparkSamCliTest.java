package io.github.sparksam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.imageio.ImageIO;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.data.IdxTestFiles;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;

/**
 * Runs the CLI in-process (SparkSamCli.run, no System.exit). Each command creates and stops its own local[2] session.
 */
class SparkSamCliTest {

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
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = SparkSamCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(rc, out.toString(), err.toString());
    }

    private static String[] with(String[] head, String... tail) {
        List<String> all = new ArrayList<>(List.of(head));
        all.addAll(List.of(tail));
        return all.toArray(String[]::new);
    }

    @Test
    void unknownOptionExits2WithOneLine() {
        Run r = cli("train", "--bogus", "1", "--out", tmp.toString());
        assertEquals(2, r.rc());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("spark-sam: error: "), r.err());
        assertTrue(r.err().contains("--bogus"), r.err());
    }

    @Test
    void badValuesExit2WithOneLine() {
        for (String[] args : new String[][]{
                {"train", "--epochs", "abc", "--out", "x"},
                {"train", "--model", "resnet", "--out", "x"},
                {"train", "--lr", "-1", "--out", "x"},
                {"train"},                                  // --out is required
                {},                                         // no command
                {"train", "--conf", "novalue", "--out", "x", "--data", "/nonexistent"}}) {
            Run r = cli(args);
            assertEquals(2, r.rc(), String.join(" ", args) + " -> " + r.err());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().startsWith("spark-sam: error: "), r.err());
        }
    }

    @Test
    void missingDataExits2WithInstallHint() {
        String dir = tmp.resolve("no-data").toString();
        for (String cmd : new String[]{"train", "demo"}) {
            Run r = cli(cmd, "--data", dir, "--out", tmp.resolve("out").toString());
            assertEquals(2, r.rc(), r.err());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().startsWith("spark-sam: error: Fashion-MNIST not found: " + dir), r.err());
            assertTrue(r.err().contains("install it with: sudo apt-get install dataset-fashion-mnist"), r.err());
            assertTrue(r.err().contains("--data DIR"), r.err());
        }
        Run r = cli("evaluate", "--model", tmp.toString(), "--data", dir);
        assertEquals(2, r.rc(), r.err());
        assertTrue(r.err().contains("install it with"), r.err());
    }

    @Test
    void helpExits0() {
        Run r = cli("train", "--help");
        assertEquals(0, r.rc());
        assertTrue(r.out().contains("--optimizer"), r.out());
    }

    @Test
    void trainWritesSummaryPngAndModelAndLoadReproducesTestAccuracy() throws Exception {
        Path data = IdxTestFiles.writeFashionLike(tmp.resolve("data"), 600, 200, 11);
        Path out = tmp.resolve("run");
        Run train = cli(with(new String[]{"train"}, with(SPARK, "--data", data.toString(), "--out", out.toString(),
                "--epochs", "2", "--batch-size", "32", "--partitions", "2", "--hidden", "16", "--lr", "0.1")));
        assertEquals(0, train.rc(), train.out() + train.err());
        assertTrue(train.out().contains("test accuracy"), train.out());

        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        List<String> keys = new ArrayList<>();
        s.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("config", "epochs", "final", "wallTimeSeconds", "blas", "recovery"), keys);
        JsonNode config = s.get("config");
        assertEquals("mlp", config.get("model").asText());
        assertEquals(16, config.get("hidden").get(0).asInt());
        assertEquals(2, config.get("partitions").asInt());
        assertEquals(600, config.get("trainRows").asLong());
        assertEquals(200, config.get("testRows").asLong());
        assertEquals(2, s.get("epochs").size());
        List<String> epochKeys = new ArrayList<>();
        s.get("epochs").get(0).fieldNames().forEachRemaining(epochKeys::add);
        assertEquals(List.of("epoch", "steps", "trainLoss", "trainAccuracy", "seconds", "stepsPerSecond"), epochKeys);
        assertEquals(1, s.get("epochs").get(0).get("epoch").asInt());
        assertTrue(s.get("epochs").get(0).get("steps").asLong() > 0);
        JsonNode fin = s.get("final");
        List<String> finKeys = new ArrayList<>();
        fin.fieldNames().forEachRemaining(finKeys::add);
        assertEquals(List.of("trainAccuracy", "testAccuracy", "trainLoss", "testLoss"), finKeys);
        double testAcc = fin.get("testAccuracy").asDouble();
        assertTrue(testAcc > 0.5, "the generated classes are easy to separate; test accuracy " + testAcc);
        assertTrue(fin.get("testLoss").asDouble() > 0 && Double.isFinite(fin.get("testLoss").asDouble()));
        assertTrue(s.get("wallTimeSeconds").asDouble() > 0);
        assertFalse(s.get("blas").asText().isBlank());

        BufferedImage png = ImageIO.read(out.resolve("training-curves.png").toFile());
        assertEquals(900, png.getWidth());
        assertEquals(700, png.getHeight());
        assertTrue(Files.isDirectory(out.resolve("model").resolve("metadata")));

        // a reloaded model gives exactly the test accuracy of summary.json, in-process ...
        SparkSession spark = SparkSession.builder().master("local[2]").config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1").getOrCreate();
        try {
            SharpnessAwareClassificationModel model = SharpnessAwareClassificationModel.load(out.resolve("model").toString());
            Evaluation.Metrics m = Evaluation.evaluate(model, FashionMnist.loadTest(spark, data.toString(), 3, 0));
            assertEquals(200, m.rows());
            assertEquals(testAcc, m.accuracy(), 0.0);
            assertEquals(fin.get("testLoss").asDouble(), m.loss(), 1e-9);
        } finally {
            spark.stop();
        }
        // ... and through the evaluate command
        Path evalJson = tmp.resolve("eval.json");
        Run eval = cli(with(new String[]{"evaluate"}, with(SPARK, "--model", out.resolve("model").toString(),
                "--data", data.toString(), "--out", evalJson.toString())));
        assertEquals(0, eval.rc(), eval.out() + eval.err());
        JsonNode e = new ObjectMapper().readTree(evalJson.toFile());
        assertEquals(testAcc, e.get("accuracy").asDouble(), 0.0);
        assertEquals(200, e.get("rows").asLong());
    }
}
