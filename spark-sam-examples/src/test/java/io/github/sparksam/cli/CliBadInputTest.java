package io.github.sparksam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import io.github.sparksam.data.IdxTestFiles;

/**
 * Bad input in every subcommand (train, compare, bench, demo, evaluate): exit code 2 and exactly one readable line
 * on stderr that names the option or path at fault; a stack trace only with --verbose. Also train's checkpoint
 * options end to end: a resumed run reports the same final accuracy and records where it resumed from.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliBadInputTest {

    private static final String[] SPARK = {"--master", "local[2]", "--conf", "spark.ui.enabled=false",
            "--conf", "spark.sql.shuffle.partitions=2"};

    @TempDir
    Path tmp;
    Path data;

    @BeforeAll
    void writeData(@TempDir Path dir) throws Exception {
        data = IdxTestFiles.writeFashionLike(dir.resolve("data"), 300, 100, 3);
    }

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

    private static String[] cat(String[]... parts) {
        List<String> all = new ArrayList<>();
        for (String[] p : parts) all.addAll(List.of(p));
        return all.toArray(String[]::new);
    }

    /** Exit 2, one line starting with the prefix, containing every {@code mustContain}. */
    private static void assertBadInput(Run r, String... mustContain) {
        assertEquals(2, r.rc(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith(SparkSamCli.PREFIX), r.err());
        for (String s : mustContain) assertTrue(r.err().contains(s), "should mention '" + s + "': " + r.err());
        assertTrue(!r.err().contains("\tat "), r.err());
    }

    @Test
    void everySubcommandRejectsUnknownOptionsAndBadValuesWithOneLine() {
        String out = tmp.resolve("o").toString();
        String d = data.toString();
        for (String cmd : List.of("train", "compare", "bench", "demo")) {
            assertBadInput(cli(cmd, "--no-such-option", "--out", out), "--no-such-option");
        }
        assertBadInput(cli("evaluate", "--no-such-option", "--model", out), "--no-such-option");
        String[][] cases = {
                {"train", "--data", d, "--out", out, "--batch-size", "0"}, {"--batch-size"},
                {"train", "--data", d, "--out", out, "--epochs", "-1"}, {"--epochs"},
                {"train", "--data", d, "--out", out, "--lr", "NaN"}, {"--lr"},
                {"train", "--data", d, "--out", out, "--rule", "gsam"}, {"--rule", "gsam"},
                {"train", "--data", d, "--out", out, "--hidden", "16,0"}, {"--hidden"},
                {"train", "--data", d, "--out", out, "--momentum", "1.5"}, {"--momentum"},
                {"train", "--data", d, "--out", out, "--partitions", "-2"}, {"--partitions"},
                {"train", "--data", d, "--out", out, "--checkpoint-every", "2"}, {"--checkpoint-every", "--checkpoint-dir"},
                {"train", "--data", d, "--out", out, "--checkpoint-every", "-1", "--checkpoint-dir", out}, {"--checkpoint-every"},
                {"train", "--data", d, "--out", out, "--epochs", "two"}, {"--epochs", "two"},
                {"compare", "--data", d, "--out", out, "--rules", "none,foo"}, {"--rules", "foo"},
                {"compare", "--data", d, "--out", out, "--epochs", "1"}, {"--epochs"},
                {"compare", "--data", d, "--out", out, "--lr", "-0.1"}, {"--lr"},
                {"compare", "--data", d, "--out", out, "--batch-size", "0"}, {"--batch-size"},
                {"bench", "--data", d, "--out", out, "--cases", "nope"}, {"--cases", "nope"},
                {"bench", "--data", d, "--out", out, "--batch-size", "0"}, {"--batch-size"},
                {"bench", "--data", d, "--out", out, "--limit", "-5"}, {"--limit"},
                {"bench", "--data", d, "--out", out, "--repeats", "0"}, {"--repeats"},
                {"demo", "--data", d, "--out", out, "--epochs", "0"}, {"--epochs"},
                {"demo", "--data", d, "--out", out, "--limit", "-1"}, {"--limit"},
                {"evaluate", "--model", out, "--data", d, "--split", "validation"}, {"--split", "validation"},
                {"evaluate", "--model", out, "--data", d, "--limit", "-1"}, {"--limit"},
                {"evaluate", "--data", d}, {"--model"},
                {"train", "--data", d, "--out", out, "--conf", "spark.ui.enabled"}, {"--conf", "KEY=VALUE"},
        };
        for (int i = 0; i < cases.length; i += 2) {
            Run r = cli(cases[i]);
            assertBadInput(r, cases[i + 1]);
        }
    }

    @Test
    void missingDataInEverySubcommandNamesThePath() {
        String missing = tmp.resolve("no-data").toString();
        String out = tmp.resolve("o").toString();
        for (String[] args : new String[][]{
                {"train", "--data", missing, "--out", out}, {"compare", "--data", missing, "--out", out},
                {"bench", "--data", missing, "--out", out}, {"demo", "--data", missing, "--out", out},
                {"evaluate", "--model", out, "--data", missing}}) {
            assertBadInput(cli(args), missing, "install it with");
        }
    }

    @Test
    void verboseAddsTheStackTrace() {
        Run r = cli("train", "--data", data.toString(), "--out", tmp.resolve("o").toString(), "--lr", "-1", "--verbose");
        assertEquals(2, r.rc());
        assertTrue(r.err().startsWith(SparkSamCli.PREFIX + "--lr"), r.err());
        assertTrue(r.errLines().size() > 3 && r.err().contains("\tat "), r.err());
    }

    @Test
    void evaluateRejectsMissingAndForeignModelFolders() throws Exception {
        String missing = tmp.resolve("no-model").toString();
        assertBadInput(cli(cat(new String[]{"evaluate", "--model", missing, "--data", data.toString()}, SPARK)), missing);
        // a folder that holds something else than a saved model
        Path junk = Files.createDirectories(tmp.resolve("junk").resolve("metadata"));
        Files.writeString(junk.resolve("part-00000"), "{\"class\":\"org.apache.spark.ml.classification.LogisticRegressionModel\"}");
        Run r = cli(cat(new String[]{"evaluate", "--model", junk.getParent().toString(), "--data", data.toString()}, SPARK));
        assertEquals(2, r.rc(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains(junk.getParent().toString()), r.err());
    }

    @Test
    void trainCheckpointsAndResumesWithTheSameResult() throws Exception {
        Path ck = tmp.resolve("ck");
        Path out1 = tmp.resolve("full");
        String[] common = {"--data", data.toString(), "--epochs", "2", "--batch-size", "50", "--partitions", "2",
                "--hidden", "8", "--precision", "float64", "--optimizer", "adam", "--lr", "0.01"};
        Run full = cli(cat(new String[]{"train", "--out", out1.toString(), "--checkpoint-dir", ck.toString(),
                "--checkpoint-every", "1"}, common, SPARK));
        assertEquals(0, full.rc(), full.err());
        JsonNode s1 = new ObjectMapper().readTree(out1.resolve("summary.json").toFile());
        assertEquals(2, s1.get("recovery").get("checkpoints").size());
        assertEquals(0, s1.get("recovery").get("failedTaskAttempts").asLong());
        // resume from the directory: the newest checkpoint is after epoch 2, so nothing is left to train;
        // resume from the file after epoch 1 instead
        String afterEpoch1 = s1.get("recovery").get("checkpoints").get(0).asText();
        Path out2 = tmp.resolve("resumed");
        Run resumed = cli(cat(new String[]{"train", "--out", out2.toString(), "--resume-from", afterEpoch1}, common, SPARK));
        assertEquals(0, resumed.rc(), resumed.err());
        JsonNode s2 = new ObjectMapper().readTree(out2.resolve("summary.json").toFile());
        assertEquals(s1.get("final").get("testAccuracy").asDouble(), s2.get("final").get("testAccuracy").asDouble(), 0.0);
        assertEquals(s1.get("final").get("testLoss").asDouble(), s2.get("final").get("testLoss").asDouble(), 0.0);
        assertEquals(afterEpoch1, s2.get("recovery").get("resumedFrom").asText());
        assertEquals(2, s2.get("epochs").size());
        // a missing checkpoint, or one of another model: exit 2, one line naming the path / the difference
        String missing = tmp.resolve("nothing-here").toString();
        assertBadInput(cli(cat(new String[]{"train", "--out", tmp.resolve("x").toString(), "--resume-from", missing},
                common, SPARK)), missing, "does not exist");
        assertBadInput(cli(cat(new String[]{"train", "--out", tmp.resolve("y").toString(), "--resume-from", afterEpoch1},
                common, new String[]{"--hidden", "9"}, SPARK)), "resumeFrom", "number of weights");
    }
}
