package io.github.sparksam.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.sparksam.data.IdxTestFiles;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train --model cnn} (issue #14): a bad {@code --layers} or {@code --input-shape} exits 2
 * with one line naming the bad token before Spark starts; a run prints the architecture, writes it
 * to summary.json and saves a model that loads with it.
 */
class CnnCommandTest {

  @TempDir Path tmp;

  private record Run(int rc, String out, String err) {}

  private static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int rc = SparkSamCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(rc, out.toString(), err.toString());
  }

  @Test
  void badLayersAndShapesExit2NamingTheToken() {
    String out = tmp.resolve("o").toString();
    Run r = cli("train", "--model", "cnn", "--layers", "conv 8 5x5, maxpul 2", "--out", out);
    assertEquals(2, r.rc(), r.err());
    assertTrue(r.err().contains("bad token 'maxpul'"), r.err());
    assertEquals(1, r.err().lines().filter(l -> !l.isBlank()).count(), r.err());
    r = cli("train", "--model", "cnn", "--input-shape", "1,28", "--out", out);
    assertEquals(2, r.rc(), r.err());
    assertTrue(r.err().contains("channels,height,width"), r.err());
  }

  @Test
  void trainsPrintsAndPersistsTheArchitecture() throws Exception {
    Path data = IdxTestFiles.writeFashionLike(tmp.resolve("data"), 300, 100, 3);
    Path out = tmp.resolve("run");
    Run r = cli("train", "--master", "local[2]", "--conf", "spark.ui.enabled=false", "--data", data.toString(),
        "--out", out.toString(), "--model", "cnn", "--layers", "conv 4 3x3 stride 2 pad 1, maxpool 2, dense 16",
        "--epochs", "1", "--batch-size", "50", "--partitions", "2");
    assertEquals(0, r.rc(), r.out() + r.err());
    String network = "CNN(1x28x28: conv 4 3x3 stride 2 pad 1, maxpool 2, dense 16 -> 10, relu)";
    assertTrue(r.out().contains("model " + network), r.out());
    JsonNode config = new ObjectMapper().readTree(out.resolve("summary.json").toFile()).get("config");
    assertEquals("cnn", config.get("model").asText());
    assertEquals("conv 4 3x3 stride 2 pad 1, maxpool 2, dense 16", config.get("layers").asText());
    assertEquals("1,28,28", config.get("inputShape").asText());
    assertTrue(config.get("network").asText().startsWith(network), config.toString());
    SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false").getOrCreate();
    try {
      assertTrue(io.github.sparksam.ml.SharpnessAwareClassificationModel.load(out.resolve("model").toString()).network()
          .toString().startsWith(network));
    } finally {
      spark.stop();
    }
  }
}
