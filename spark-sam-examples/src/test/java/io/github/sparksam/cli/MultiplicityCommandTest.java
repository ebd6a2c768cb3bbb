package io.github.sparksam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code spark-sam multiplicity} in-process on a small ARFF file: outputs, summary.json contract, bad input. */
class MultiplicityCommandTest {

    private static final String[] SPARK = {"--master", "local[2]", "--conf", "spark.ui.enabled=false",
            "--conf", "spark.sql.shuffle.partitions=2"};

    @TempDir
    Path tmp;

    private record Run(int rc, String out, String err) {
    }

    private static Run cli(List<String> args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = SparkSamCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args.toArray(String[]::new));
        return new Run(rc, out.toString(), err.toString());
    }

    private static List<String> args(String... a) {
        List<String> l = new ArrayList<>(List.of(a));
        l.addAll(List.of(SPARK));
        return l;
    }

    /** 50 rows: a numeric column, a nominal column with quoted values, a nominal class last. */
    private Path arff(int rows) throws Exception {
        StringBuilder sb = new StringBuilder("@relation tiny\n@attribute x numeric\n@attribute colour {red, 'light blue', green}\n"
                + "@attribute class {no, yes}\n@data\n");
        SplittableRandom r = new SplittableRandom(1);
        String[] colours = {"red", "'light blue'", "green"};
        for (int i = 0; i < rows; i++) {
            double x = r.nextDouble() * 4 - 2;
            boolean yes = x + 0.8 * (r.nextDouble() * 2 - 1) > 0;
            sb.append(String.format(java.util.Locale.ROOT, "%.4f,%s,%s%n", x, colours[i % 3], yes ? "yes" : "no"));
        }
        Path f = tmp.resolve("tiny.arff");
        Files.writeString(f, sb.toString());
        return f;
    }

    @Test
    void exactRunWritesRangesSummaryAndHistogram() throws Exception {
        Path out = tmp.resolve("out");
        Run r = cli(args("multiplicity", "--data", arff(50).toString(), "--epsilon", "0.02", "--out", out.toString(),
                "--l2", "0.01"));
        assertEquals(0, r.rc(), r.err());
        JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
        double amb = s.get("ambiguity").asDouble();
        double dis = s.get("discrepancy").asDouble();
        assertTrue(s.get("ambiguity").isNumber() && s.get("discrepancy").isNumber());
        assertTrue(dis <= amb && amb <= 1 && dis >= 0);
        assertTrue(s.get("discrepancyIsLowerBound").asBoolean());
        assertTrue(s.get("capacity").get("mean").asDouble() >= 1);
        assertEquals("class", s.get("data").get("label").asText());
        assertEquals("yes", s.get("data").get("classes").get(1).asText());
        assertEquals(1, s.get("results").size());
        assertTrue(s.get("results").get(0).get("passesPerTargetRow").asDouble() > 0);
        List<String> csv = Files.readAllLines(out.resolve("ranges.csv"));
        assertEquals(51, csv.size());
        assertTrue(csv.get(0).startsWith("epsilon,id,label,baseline,min,max,width,ambiguous,flippable,rashomonCapacity"));
        assertEquals(50, Files.readAllLines(out.resolve("ranges.json")).size());
        assertTrue(Files.isDirectory(out.resolve("ranges.parquet")));
        assertTrue(Files.size(out.resolve("range-widths.png")) > 1000);
        assertTrue(r.out().contains("ambiguity"), r.out());
    }

    @Test
    void badInputExits2WithAClearMessage() throws Exception {
        Path data = arff(20);
        Run r = cli(args("multiplicity", "--data", data.toString(), "--epsilon", "0", "--out", tmp.resolve("o1").toString()));
        assertEquals(2, r.rc());
        assertTrue(r.err().contains("--epsilon must be > 0"), r.err());
        r = cli(args("multiplicity", "--data", data.toString(), "--epsilon", "0.1", "--model", "mlp", "--method", "exact",
                "--out", tmp.resolve("o2").toString()));
        assertEquals(2, r.rc());
        assertTrue(r.err().contains("needs a convex model"), r.err());
        Path empty = tmp.resolve("empty.arff");
        Files.writeString(empty, "@relation e\n@attribute x numeric\n@attribute class {a, b}\n@data\n");
        r = cli(args("multiplicity", "--data", empty.toString(), "--epsilon", "0.1", "--out", tmp.resolve("o3").toString()));
        assertEquals(2, r.rc(), r.err());
        assertTrue(r.err().startsWith(SparkSamCli.PREFIX), r.err());
        assertTrue(r.err().contains("empty") || r.err().contains("0 rows") || r.err().contains("classes"), r.err());
    }
}
