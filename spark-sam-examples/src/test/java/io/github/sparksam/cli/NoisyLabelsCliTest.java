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

/** {@code train --label-noise ... --eval-test-every-epoch}: memorization per epoch, test per epoch, the peak. */
class NoisyLabelsCliTest {
  @TempDir Path tmp;

  private static int cli(StringWriter out, StringWriter err, String... args) {
    return SparkSamCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
  }

  @Test
  void noisyRunReportsMemorizationAndTestEveryEpoch() throws Exception {
    Path data = IdxTestFiles.writeFashionLike(tmp.resolve("data"), 300, 100, 7);
    Path out = tmp.resolve("run");
    StringWriter o = new StringWriter(), e = new StringWriter();
    int rc = cli(o, e, "train", "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--data", data.toString(),
        "--out", out.toString(), "--model", "softmax", "--epochs", "3", "--batch-size", "32", "--partitions", "2",
        "--label-noise", "symmetric", "--noise-rate", "0.4", "--eval-test-every-epoch");
    assertEquals(0, rc, o + "\n" + e);
    JsonNode s = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    assertEquals("symmetric", s.get("config").get("labelNoise").asText());
    assertEquals(3, s.get("epochs").size());
    for (JsonNode ep : s.get("epochs")) {
      JsonNode ev = ep.get("evaluation");
      assertEquals(0.4, ev.get("flipFraction").asDouble(), 0.1, ev.toString());
      for (String k : new String[] {"flippedNoisyLabelAccuracy", "flippedCleanLabelAccuracy"}) {
        double v = ev.get(k).asDouble();
        assertTrue(v >= 0 && v <= 1, k + " = " + v);
      }
    }
    JsonNode t = s.get("testEveryEpoch");
    assertEquals(3, t.size());
    double peak = -1;
    int peakEpoch = -1;
    for (JsonNode x : t) {
      if (x.get("testAccuracy").asDouble() > peak) {
        peak = x.get("testAccuracy").asDouble();
        peakEpoch = x.get("epoch").asInt();
      }
    }
    assertEquals(peak, s.get("peakTestAccuracy").asDouble(), 0.0);
    assertEquals(peakEpoch, s.get("peakTestEpoch").asInt());
    // the last epoch's weights are the model's: its test accuracy is the final one (the test set is never corrupted)
    assertEquals(s.get("final").get("testAccuracy").asDouble(), t.get(2).get("testAccuracy").asDouble(), 1e-12);

    StringWriter o2 = new StringWriter(), e2 = new StringWriter();
    rc = cli(o2, e2, "train", "--data", data.toString(), "--out", tmp.resolve("x").toString(), "--label-noise",
        "symmetric", "--noise-rate", "1.5");
    assertEquals(2, rc, e2.toString());
    assertTrue(e2.toString().contains("--noise-rate must be in [0, 1)"), e2.toString());
  }
}
