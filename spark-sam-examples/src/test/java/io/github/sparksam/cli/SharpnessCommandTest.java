package io.github.sparksam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.github.sparksam.data.IdxTestFiles;

/** {@code train --curvature-every} and {@code sharpness} end to end on tiny Fashion-MNIST-like files. */
class SharpnessCommandTest {

    @TempDir
    Path tmp;

    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = SparkSamCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new String[]{String.valueOf(rc), out.toString(), err.toString()};
    }

    @Test
    void trainRecordsCurvatureAndSharpnessWritesItsReport() throws Exception {
        Path data = IdxTestFiles.writeFashionLike(tmp.resolve("data"), 300, 50, 5);
        Path out = tmp.resolve("run");
        String[] t = run("train", "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--data", data.toString(),
                "--out", out.toString(), "--epochs", "1", "--batch-size", "50", "--hidden", "8", "--partitions", "2",
                "--curvature-every", "1", "--curvature-rows", "100", "--lr", "0.1");
        assertEquals("0", t[0], t[1] + t[2]);
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals(1, s.get("curvature").size());
        assertTrue(s.get("curvature").get(0).get("topEigenvalue").asDouble() > 0);
        // #16: the threshold follows the (default cosine) schedule: 6 steps, measured after step 6 (index 5)
        double lr5 = 0.1 * 0.5 * (1 + Math.cos(Math.PI * 5 / 6));
        assertEquals(lr5, s.get("curvature").get(0).get("learningRate").asDouble(), 1e-15);
        assertEquals(2 / lr5, s.get("curvature").get(0).get("stabilityThreshold").asDouble(), 1e-9);
        assertEquals("2 / lr_t", s.get("stabilityThreshold").get("formula").asText());
        assertTrue(s.get("stabilityThreshold").get("comparableToTopEigenvalue").asBoolean());
        assertTrue(Files.size(out.resolve("edge-of-stability.png")) > 1000);
        // Adam: the threshold is labelled as one on the preconditioned sharpness
        Path adam = tmp.resolve("adam");
        String[] ta = run("train", "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--data", data.toString(),
                "--out", adam.toString(), "--epochs", "1", "--batch-size", "100", "--hidden", "4", "--partitions", "1",
                "--curvature-every", "1", "--curvature-rows", "50", "--lr", "0.01", "--optimizer", "adam",
                "--schedule", "constant");
        assertEquals("0", ta[0], ta[1] + ta[2]);
        JsonNode sa = new ObjectMapper().readTree(adam.resolve("summary.json").toFile());
        assertEquals(3.8 / (0.1 * 0.01), sa.get("curvature").get(0).get("stabilityThreshold").asDouble(), 1e-6);
        assertFalse(sa.get("stabilityThreshold").get("comparableToTopEigenvalue").asBoolean());
        assertTrue(sa.get("stabilityThreshold").get("formula").asText().contains("preconditioned"));
        // --clipping ascent without SAM is refused before Spark starts
        String[] badClip = run("train", "--data", data.toString(), "--out", adam.toString(), "--clipping", "ascent",
                "--max-grad-norm", "1");
        assertEquals("2", badClip[0]);
        assertTrue(badClip[2].contains("--rule sam or asam"), badClip[2]);

        Path sh = tmp.resolve("sharp");
        String[] r = run("sharpness", "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--data", data.toString(),
                "--model", out.resolve("model").toString(), "--out", sh.toString(), "--sample-size", "64",
                "--batch-size", "32", "--worst-iters", "5", "--draws", "4", "--measure", "worst:linf:adaptive:0.01",
                "--measure", "average:l2:standard:0.05", "--lanczos-iters", "5", "--density-runs", "1", "--density-iters", "4",
                "--hessian", "topEigenvalue,spectralDensity");
        assertEquals("0", r[0], r[1] + r[2]);
        JsonNode j = new ObjectMapper().readTree(sh.resolve("sharpness.json").toFile());
        assertEquals("train", j.get("input").get("split").asText());
        assertEquals(2, j.get("sharpness").get("definitions").size());
        assertEquals("worstCaseAdaptiveLinf", j.get("sharpness").get("definitions").get(0).get("metric").asText());
        assertEquals(2, j.get("sharpness").get("batches").asInt());
        JsonNode h = j.get("hessian");
        for (String k : new String[]{"topEigenvalue", "spectralDensity"}) {
            assertTrue(h.has(k), k);
        }
        assertEquals(300, h.get("rows").asLong());
        assertTrue(j.get("totalPasses").asLong() > 0);
        assertTrue(Files.size(sh.resolve("spectral-density.png")) > 1000);

        String[] bad = run("sharpness", "--model", out.resolve("model").toString(), "--data", data.toString(),
                "--out", sh.toString(), "--measure", "worst:l3:adaptive:1");
        assertEquals("2", bad[0]);
        assertTrue(bad[2].contains("kind:norm:scaling:rho"), bad[2]);
    }
}
