package io.github.sparksam.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.math3.stat.StatUtils;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.data.IdxTestFiles;

/**
 * {@code compare} over seeds (#14 item 5), end to end on a small Fashion-MNIST look-alike: every number of
 * {@code compare.json} is checked against the runs' own {@code summary.json} (per-seed values, mean and std computed
 * here), the grid choice is the argmax of validation accuracy, and a different test set changes the test accuracies
 * but not one number the selection saw.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompareCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] SPARK = {"compare", "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--partitions", "2"};

    @TempDir
    Path tmp;
    Path data;
    /** The same training files as {@link #data}; test labels r % 10, unrelated to the images. */
    Path otherTest;

    @BeforeAll
    void writeData(@TempDir Path dir) throws Exception {
        data = IdxTestFiles.writeFashionLike(dir.resolve("data"), 400, 100, 11);
        otherTest = Files.createDirectories(dir.resolve("other-test"));
        for (String f : new String[] {FashionMnist.TRAIN_IMAGES, FashionMnist.TRAIN_LABELS, FashionMnist.TEST_IMAGES}) {
            Files.copy(data.resolve(f + ".gz"), otherTest.resolve(f + ".gz"));
        }
        IdxTestFiles.writeLabels(otherTest.resolve(FashionMnist.TEST_LABELS + ".gz"), 100, 10, true);
    }

    private record Run(int rc, String out, String err) {
    }

    private static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = SparkSamCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(rc, out.toString(), err.toString());
    }

    private static String[] cat(String[] a, String... b) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of(b));
        return all.toArray(String[]::new);
    }

    private static JsonNode read(Path p) throws Exception {
        return JSON.readTree(p.toFile());
    }

    private static double[] doubles(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).mapToDouble(JsonNode::asDouble).toArray();
    }

    private static double std(double[] v) {
        return v.length > 1 ? Math.sqrt(StatUtils.variance(v)) : 0.0;
    }

    /** The MLP comparison with label noise and a two-value rho grid, on {@code dataDir}. */
    private JsonNode noisyMlp(Path dataDir, Path out, String rules) throws Exception {
        Run r = cli(cat(SPARK, "--data", dataDir.toString(), "--out", out.toString(), "--epochs", "2",
                "--seeds", "0,1", "--rules", rules, "--sam-rho", "0.05,3", "--hidden", "8", "--batch-size", "32",
                "--lr", "0.05", "--micro-batch", "16", "--label-noise", "symmetric", "--noise-rate", "0.3",
                "--validation-fraction", "0.25"));
        assertEquals(0, r.rc(), r.out() + "\n" + r.err());
        for (String f : new String[] {"compare.json", "compare.md", "compare.png"}) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        return read(out.resolve("compare.json"));
    }

    @Test
    void seedsGridAndNoiseReportWhatTheRunsMeasuredAndSelectOnValidationOnly() throws Exception {
        Path out = tmp.resolve("mlp");
        JsonNode c = noisyMlp(data, out, "sgd,sam");
        JsonNode rules = c.get("rules");
        assertEquals(2, rules.size());
        assertEquals("SGD", rules.get(0).get("label").asText());
        assertEquals("m-SAM", rules.get(1).get("label").asText());
        assertEquals(List.of(0L, 1L), List.of(c.get("settings").get("seeds").get(0).asLong(),
                c.get("settings").get("seeds").get(1).asLong()));
        long heldOut = c.get("settings").get("validationRows").asLong();
        assertTrue(heldOut > 50 && heldOut < 150, "about 25% of 400 rows held out: " + heldOut);
        assertEquals(400 - heldOut, c.get("settings").get("trainingRows").asLong());

        for (JsonNode rule : rules) {
            JsonNode seeds = rule.get("seeds");
            assertEquals(2, seeds.size());
            List<double[]> testCurves = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                JsonNode s = seeds.get(i);
                assertEquals(i, s.get("seed").asLong());
                JsonNode summary = read(Path.of(s.get("out").asText()).resolve("summary.json"));
                assertEquals(i, summary.get("config").get("seed").asLong());
                assertEquals(CompareCommand.VALIDATION_COL, summary.get("config").get("validationIndicatorCol").asText());
                assertEquals(400, summary.get("config").get("trainRows").asLong(), "the rows before the split");
                assertEquals(summary.get("final").get("testAccuracy").asDouble(), s.get("finalTestAccuracy").asDouble(), 0.0);
                assertEquals(summary.get("final").get("trainLoss").asDouble(), s.get("finalTrainLoss").asDouble(), 0.0);
                double[] test = doubles(s.get("testAccuracyByEpoch"));
                double[] fromSummary = StreamSupport.stream(summary.get("testEveryEpoch").spliterator(), false)
                        .mapToDouble(e -> e.get("testAccuracy").asDouble()).toArray();
                assertArrayEquals(fromSummary, test, 0.0);
                assertEquals(2, test.length);
                assertEquals(StatUtils.max(test), s.get("peakTestAccuracy").asDouble(), 0.0);
                assertEquals(summary.get("peakTestAccuracy").asDouble(), s.get("peakTestAccuracy").asDouble(), 0.0);
                testCurves.add(test);
                JsonNode epochs = summary.get("epochs");
                double[] val = StreamSupport.stream(epochs.spliterator(), false)
                        .mapToDouble(e -> e.get("evaluation").get("validationAccuracy").asDouble()).toArray();
                assertArrayEquals(val, doubles(s.get("validationAccuracyByEpoch")), 0.0);
                assertEquals(val[1], s.get("finalValidationAccuracy").asDouble(), 0.0);
                double[] memorized = StreamSupport.stream(epochs.spliterator(), false)
                        .mapToDouble(e -> e.get("evaluation").get("flippedNoisyLabelAccuracy").asDouble()).toArray();
                assertArrayEquals(memorized, doubles(s.get("flippedNoisyLabelAccuracyByEpoch")), 0.0);
                assertEquals(2, doubles(s.get("flippedCleanLabelAccuracyByEpoch")).length);
                assertEquals((epochs.get(1).get("seconds").asDouble()), s.get("secondsPerEpoch").asDouble(), 1e-12);
            }
            // mean and std over the seeds, recomputed from the per-seed numbers
            for (String q : new String[] {"finalTestAccuracy", "peakTestAccuracy", "finalValidationAccuracy",
                    "finalTrainLoss", "secondsPerEpoch"}) {
                double[] v = {seeds.get(0).get(q).asDouble(), seeds.get(1).get(q).asDouble()};
                assertEquals(StatUtils.mean(v), rule.get("mean").get(q).asDouble(), 1e-12, q);
                assertEquals(std(v), rule.get("std").get(q).asDouble(), 1e-12, q);
            }
            JsonNode band = rule.get("byEpoch").get("testAccuracy");
            for (int e = 0; e < 2; e++) {
                double[] v = {testCurves.get(0)[e], testCurves.get(1)[e]};
                assertEquals(StatUtils.mean(v), band.get("mean").get(e).asDouble(), 1e-12);
                assertEquals(StatUtils.min(v), band.get("min").get(e).asDouble(), 0.0);
                assertEquals(StatUtils.max(v), band.get("max").get(e).asDouble(), 0.0);
            }
            assertEquals(100 * (rule.get("mean").get("finalTestAccuracy").asDouble()
                            - rules.get(0).get("mean").get("finalTestAccuracy").asDouble()),
                    rule.get("finalTestVsBasePoints").asDouble(), 1e-9);
        }
        // a seed flips the same rows for every rule
        for (int i = 0; i < 2; i++) {
            assertEquals(flipFraction(rules.get(0).get("seeds").get(i)), flipFraction(rules.get(1).get("seeds").get(i)), 0.0);
        }

        // SGD: nothing to select; m-SAM: each rho trained under the first seed, the argmax of validation accuracy kept
        assertFalse(rules.get(0).get("selected").asBoolean());
        assertEquals(0, rules.get(0).get("grid").size());
        JsonNode sam = rules.get(1);
        assertTrue(sam.get("selected").asBoolean());
        JsonNode grid = sam.get("grid");
        assertEquals(2, grid.size());
        int best = 0;
        double[] scores = new double[2];
        for (int g = 0; g < 2; g++) {
            JsonNode runs = grid.get(g).get("runs");
            assertEquals(1, runs.size());
            assertEquals(0, runs.get(0).get("seed").asLong());
            JsonNode summary = read(Path.of(runs.get(0).get("out").asText()).resolve("summary.json"));
            assertEquals(grid.get(g).get("value").asDouble(), summary.get("config").get("rho").asDouble(), 0.0);
            scores[g] = summary.get("epochs").get(1).get("evaluation").get("validationAccuracy").asDouble();
            assertEquals(scores[g], grid.get(g).get("validationAccuracy").asDouble(), 0.0);
            if (scores[g] > scores[best]) {
                best = g;
            }
        }
        assertEquals(grid.get(best).get("value").asDouble(), sam.get("value").asDouble(), 0.0);
        for (int g = 0; g < 2; g++) {
            assertEquals(g == best, grid.get(g).get("chosen").asBoolean());
        }
        // the chosen value's seed-0 grid run is the reported seed-0 run; seed 1 ran the chosen value only
        assertEquals(grid.get(best).get("runs").get(0).get("out").asText(), sam.get("seeds").get(0).get("out").asText());
        JsonNode seed1 = read(Path.of(sam.get("seeds").get(1).get("out").asText()).resolve("summary.json"));
        assertEquals(sam.get("value").asDouble(), seed1.get("config").get("rho").asDouble(), 0.0);

        String md = Files.readString(out.resolve("compare.md"));
        assertTrue(md.contains("| SGD | - |") && md.contains("| m-SAM | ") && md.contains("(selected)"), md);
        assertTrue(md.contains("Reproduce: `bin/spark-sam compare --master 'local[2]' --conf") && md.contains("--sam-rho 0.05,3"), md);
        assertEquals(c.get("command").asText(), md.substring(md.indexOf('`') + 1, md.lastIndexOf('`')));

        // another test set: other test accuracies, the same selection from the same validation numbers
        JsonNode c2 = noisyMlp(otherTest, tmp.resolve("other"), "sam");
        JsonNode sam2 = c2.get("rules").get(0);
        assertEquals(sam.get("value").asDouble(), sam2.get("value").asDouble(), 0.0);
        for (int g = 0; g < 2; g++) {
            assertEquals(grid.get(g).get("validationAccuracy").asDouble(),
                    sam2.get("grid").get(g).get("validationAccuracy").asDouble(), 0.0);
        }
        for (int i = 0; i < 2; i++) {
            JsonNode a = sam.get("seeds").get(i);
            JsonNode b = sam2.get("seeds").get(i);
            assertArrayEquals(doubles(a.get("validationAccuracyByEpoch")), doubles(b.get("validationAccuracyByEpoch")), 0.0);
            assertArrayEquals(doubles(a.get("flippedNoisyLabelAccuracyByEpoch")),
                    doubles(b.get("flippedNoisyLabelAccuracyByEpoch")), 0.0, "the same training");
            assertNotEquals(a.get("finalTestAccuracy").asDouble(), b.get("finalTestAccuracy").asDouble());
        }
    }

    private static double flipFraction(JsonNode seedEntry) throws Exception {
        JsonNode summary = read(Path.of(seedEntry.get("out").asText()).resolve("summary.json"));
        return summary.get("epochs").get(0).get("evaluation").get("flipFraction").asDouble();
    }

    @Test
    void cnnGridSelectedOnEverySeed() throws Exception {
        Path out = tmp.resolve("cnn");
        Run r = cli(cat(SPARK, "--data", data.toString(), "--out", out.toString(), "--epochs", "2",
                "--seeds", "3,4", "--rules", "sam-global,asam", "--asam-rho", "0.5,1", "--select-on", "all",
                "--model", "cnn", "--layers", "conv 2 3x3 stride 2, maxpool 2", "--batch-size", "64", "--lr", "0.05",
                "--limit", "300", "--validation-fraction", "0.2"));
        assertEquals(0, r.rc(), r.out() + "\n" + r.err());
        JsonNode c = read(out.resolve("compare.json"));
        assertEquals("cnn", c.get("settings").get("model").asText());
        JsonNode global = c.get("rules").get(0);
        assertEquals("global SAM", global.get("label").asText());
        assertFalse(global.get("selected").asBoolean());
        JsonNode g0 = read(Path.of(global.get("seeds").get(0).get("out").asText()).resolve("summary.json"));
        assertEquals("global", g0.get("config").get("perturbation").asText());
        assertEquals("cnn", g0.get("config").get("model").asText());
        assertTrue(g0.get("config").get("network").asText().contains("conv 2 3x3 stride 2"), g0.get("config").toString());
        assertFalse(global.has("finalTestVsBasePoints"), "no base optimizer ran");
        assertFalse(global.get("seeds").get(0).has("flippedNoisyLabelAccuracyByEpoch"), "clean labels");

        JsonNode asam = c.get("rules").get(1);
        JsonNode grid = asam.get("grid");
        assertEquals(2, grid.size());
        double[] scores = new double[2];
        for (int g = 0; g < 2; g++) {
            JsonNode runs = grid.get(g).get("runs");
            assertEquals(2, runs.size(), "--select-on all trains each value under every seed");
            scores[g] = (runs.get(0).get("finalValidationAccuracy").asDouble()
                    + runs.get(1).get("finalValidationAccuracy").asDouble()) / 2;
            assertEquals(scores[g], grid.get(g).get("validationAccuracy").asDouble(), 1e-12);
        }
        int best = scores[1] > scores[0] ? 1 : 0;
        assertEquals(grid.get(best).get("value").asDouble(), asam.get("value").asDouble(), 0.0);
        for (int i = 0; i < 2; i++) {   // the reported runs are the chosen value's grid runs
            assertEquals(grid.get(best).get("runs").get(i).get("out").asText(), asam.get("seeds").get(i).get("out").asText());
        }
        assertTrue(Files.exists(out.resolve("asam/rho-1/seed-4/summary.json")));
        assertTrue(Files.exists(out.resolve("sam-global/seed-3/summary.json")));
    }

    @Test
    void badOptionsFailBeforeSparkWithOneLine() {
        String d = data.toString();
        String o = tmp.resolve("bad").toString();
        String[][] cases = {
                {"--seeds", "1,1"}, {"--seeds", "distinct"},
                {"--seeds", "1,x"}, {"--seeds", "x"},
                {"--seed", "1", "--seeds", "1,2"}, {"--seed or --seeds"},
                {"--sam-rho", "0.05,0"}, {"--sam-rho", "> 0"},
                {"--asam-rho", "-1"}, {"--asam-rho"},
                {"--saf-lambda", "0.3,0.3"}, {"--saf-lambda", "twice"},
                {"--sam-rho", "0.02,0.05", "--validation-fraction", "0"}, {"--validation-fraction", "rho grid of sam"},
                {"--validation-fraction", "1"}, {"--validation-fraction"},
                {"--select-on", "best"}, {"--select-on", "best"},
                {"--rules", "sam,sam"}, {"--rules", "twice"},
                {"--rules", "gsam"}, {"--rules", "gsam"},
                {"--aggregation", "ring"}, {"aggregation", "ring"},
                {"--model", "cnn", "--layers", "conv 4 3x3, blur 2"}, {"blur"},
                {"--label-noise", "symmetric"}, {"--noise-rate"},
                {"--optimizer", "lbfgs"}, {"lbfgs"},
        };
        for (int i = 0; i < cases.length; i += 2) {
            Run r = cli(cat(new String[] {"compare", "--data", d, "--out", o}, cases[i]));
            assertEquals(2, r.rc(), String.join(" ", cases[i]) + ": " + r.err());
            assertEquals(1, r.err().lines().filter(l -> !l.isBlank()).count(), r.err());
            for (String s : cases[i + 1]) {
                assertTrue(r.err().contains(s), String.join(" ", cases[i]) + " should mention '" + s + "': " + r.err());
            }
        }
        assertFalse(Files.exists(tmp.resolve("bad")), "nothing ran");
    }

    @Test
    void defaultsRunTheSixRulesUnderOneSeed() {
        CompareCommand c = new CompareCommand();
        new CommandLine(c).parseArgs("--out", "x");
        assertEquals(List.of(CompareRule.values()), c.validate());
        assertEquals(List.of(42L), c.seeds());
        assertEquals(List.of("SGD", "m-SAM", "global SAM", "ASAM", "SAF", "MESA"),
                c.validate().stream().map(r -> r.label("sgd")).toList());
        CompareCommand one = new CompareCommand();
        new CommandLine(one).parseArgs("--out", "x", "--seed", "7", "--sam-rho", "0.02,0.1");
        one.validate();
        assertEquals(List.of(7L), one.seeds());
        assertEquals(List.of(0.02, 0.1), one.gridOf(CompareRule.SAM_GLOBAL), "the --sam-rho list replaces the default");
        assertEquals(List.of(7L), one.selectionSeeds());
    }
}
