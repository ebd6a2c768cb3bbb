package io.github.sparksam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sparksam.data.IdxTestFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --optimizer lbfgs}: trains softmax regression full-batch; a sharpness-aware rule is refused up front. */
class LbfgsCliTest {
  @TempDir Path tmp;

  private static int cli(StringWriter out, StringWriter err, String... args) {
    return SparkSamCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
  }

  @Test
  void trainWithLbfgs() throws Exception {
    Path data = IdxTestFiles.writeFashionLike(tmp.resolve("data"), 300, 100, 7);
    Path out = tmp.resolve("run");
    StringWriter o = new StringWriter(), e = new StringWriter();
    int rc = cli(o, e, "train", "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--data", data.toString(),
        "--out", out.toString(), "--model", "softmax", "--optimizer", "lbfgs", "--epochs", "15", "--tol", "1e-5",
        "--lbfgs-history", "5", "--weight-decay", "1e-3", "--partitions", "2");
    assertEquals(0, rc, o + "\n" + e);
    JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    assertEquals("lbfgs", s.get("config").get("optimizer").asText());
    assertEquals(1e-5, s.get("config").get("tol").asDouble());
    assertEquals(5, s.get("config").get("lbfgsHistory").asInt());
    int iters = s.get("epochs").size();
    assertTrue(iters >= 1 && iters <= 15, "iterations " + iters);
    double first = s.get("epochs").get(0).get("trainLoss").asDouble();
    double last = s.get("epochs").get(iters - 1).get("trainLoss").asDouble();
    assertTrue(last < first, "training loss " + first + " -> " + last);
    assertTrue(s.get("final").get("testAccuracy").asDouble() > 0.5, s.get("final").toString());

    StringWriter o2 = new StringWriter(), e2 = new StringWriter();
    rc = cli(o2, e2, "train", "--data", data.toString(), "--out", tmp.resolve("x").toString(), "--optimizer", "lbfgs",
        "--rule", "sam");
    assertEquals(2, rc, e2.toString());
    assertTrue(e2.toString().contains("--rule sam cannot be combined with --optimizer lbfgs"), e2.toString());
  }
}
