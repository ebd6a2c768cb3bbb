package io.github.sparksam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.sparksam.data.IdxTestFiles;

/** {@code correlation} end to end on tiny Fashion-MNIST-like files: a 2-model grid plus a model saved by train. */
class CorrelationCommandTest {

    @TempDir
    Path tmp;

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = SparkSamCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new String[]{String.valueOf(rc), out.toString(), err.toString()};
    }

    @Test
    void gridPlusSavedModelWritesTablesPlotsAndReport() throws Exception {
        Path data = IdxTestFiles.writeFashionLike(tmp.resolve("data"), 200, 60, 5);
        Path trained = tmp.resolve("trained");
        String[] t = run("train", "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--data", data.toString(),
                "--out", trained.toString(), "--epochs", "1", "--batch-size", "50", "--hidden", "8", "--partitions", "2",
                "--rule", "sam", "--lr", "0.2", "--seed", "7");
        assertEquals("0", t[0], t[1] + t[2]);
        Path out = tmp.resolve("corr");
        String[] r = run("correlation", "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--data", data.toString(),
                "--limit", "0", "--ood-rows", "30", "--rule", "none", "--lr", "0.1,0.3", "--batch-size", "50", "--seed", "7",
                "--epochs", "1", "--hidden", "8", "--saved-model", trained.resolve("model").toString(),
                "--sample-size", "64", "--sample-batch", "32", "--worst-iters", "2", "--draws", "2", "--hessian-rows", "64",
                "--lanczos-iters", "3", "--probes", "2", "--measure", "worst:linf:adaptive:0.01", "--hessian", "topEigenvalue",
                "--corruption", "blur:2", "--corruption", "shift:1", "--bootstrap", "20", "--out", out.toString());
        assertEquals("0", r[0], r[1] + r[2]);
        List<String> csv = Files.readAllLines(out.resolve("models.csv"));
        assertEquals(4, csv.size());
        assertTrue(csv.get(3).startsWith("trained,loaded,sgd,sam,0.2,50,0.05,"), csv.get(3));
        JsonNode c = new ObjectMapper().readTree(out.resolve("correlations.json").toFile());
        assertEquals("worstCaseAdaptiveLinf", c.get("correlations").get(0).get("measure").asText());
        assertEquals(3, c.get("correlations").get(0).get("n").asInt());
        for (String f : List.of("models.json", "correlations.csv", "report.md", "sharpness-vs-test-error.png",
                "sharpness-vs-ood-error.png", "timeline.png")) {
            assertTrue(Files.size(out.resolve(f)) > 100, f);
        }
        assertTrue(Files.readString(out.resolve("report.md")).contains("Kendall tau-b"));
        assertTrue(Files.isDirectory(out.resolve("models").resolve("mlp8-sgd-none-lr0.1-bs50-rho0-wd0-s7-e1")));
    }

    @Test
    void badInputIsExitCodeTwoBeforeSpark() {
        assertEquals("2", run("correlation", "--rule", "bogus", "--out", tmp.toString())[0]);
        assertEquals("2", run("correlation", "--corruption", "fog:1", "--out", tmp.toString())[0]);
        assertEquals("2", run("correlation", "--no-grid", "--out", tmp.toString())[0]);
    }
}
