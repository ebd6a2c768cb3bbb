package io.github.sparksam.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.testutil.SparkTestBase;
import java.io.BufferedReader;
import java.io.File;
import java.io.StringReader;
import java.nio.file.Files;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ARFF parsing (quotes, missing values, sparse rows, errors) and the Debian weka example files. */
class ArffReaderTest extends SparkTestBase {

  static final String WEKA = "/usr/share/doc/weka/examples/";

  static final String SMALL = String.join("\n",
      "% a comment",
      "@RELATION 'tiny one'",
      "",
      "@attribute 'num x' numeric",
      "@attribute colour {red, 'light blue', \"dark,green\"}",
      "@attribute note string",
      "@attribute class {no, yes}   % trailing comment",
      "@data",
      "1.5, red, 'it''s', no".replace("''", "\\'"),
      "-2,'light blue',plain,yes",
      "3, \"dark,green\", 'a, b', yes % comment",
      "?, red, x, no",
      "{0 7, 1 'light blue', 3 yes}",
      "");

  static ArffReader.Parsed parse(String text, ArffReader.Missing m) throws Exception {
    return ArffReader.parse(new BufferedReader(new StringReader(text)), "test.arff", m);
  }

  @Test
  void parsesQuotesMissingAndSparseRows() throws Exception {
    ArffReader.Parsed p = parse(SMALL, ArffReader.Missing.DROP);
    assertEquals("tiny one", p.relation());
    assertEquals(4, p.attributes().size());
    assertEquals("num x", p.attributes().get(0).name());
    assertEquals(List.of("red", "light blue", "dark,green"), p.attributes().get(1).values());
    assertEquals("string", p.attributes().get(2).type());
    assertEquals(4, p.rows().size());
    assertEquals(1, p.dropped());
    Object[] r0 = p.rows().get(0);
    assertEquals(0L, r0[0]);
    assertEquals(1.5, r0[1]);
    assertEquals("it's", r0[3]);
    Object[] r2 = p.rows().get(2);
    assertEquals("dark,green", r2[2]);
    assertEquals("a, b", r2[3]);
    Object[] sparse = p.rows().get(3);
    assertEquals(4L, sparse[0], "ids count the dropped row");
    assertEquals(7.0, sparse[1]);
    assertEquals("light blue", sparse[2]);
    assertEquals("", sparse[3]);
    assertEquals("yes", sparse[4]);
  }

  @Test
  void clearErrors() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> parse(SMALL, ArffReader.Missing.ERROR));
    assertTrue(e.getMessage().contains("line 12") && e.getMessage().contains("'num x'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> parse("@attribute a numeric\n@data\nx\n", ArffReader.Missing.DROP));
    assertTrue(e.getMessage().contains("numeric but the value is 'x'"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> parse("@attribute a {p,q}\n@data\nr\n", ArffReader.Missing.DROP));
    assertTrue(e.getMessage().contains("not among its declared values"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> parse("@attribute a numeric\n@attribute b numeric\n@data\n1\n",
        ArffReader.Missing.DROP));
    assertTrue(e.getMessage().contains("has 1 values but 2 attributes"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> parse("@attribute a relational\n@data\n", ArffReader.Missing.DROP));
    assertTrue(e.getMessage().contains("unsupported type"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> parse("@attribute a numeric\n", ArffReader.Missing.DROP));
    assertTrue(e.getMessage().contains("no @data"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ArffReader.read(spark, "/nonexistent/x.arff"));
  }

  @Test
  void readsGzipAndEncodes(@TempDir File dir) throws Exception {
    File f = new File(dir, "tiny.arff.gz");
    try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(f.toPath()))) {
      out.write(SMALL.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    ArffReader.ArffData d = ArffReader.read(spark, new File(dir, "tiny.arff").getPath());   // finds the .gz
    assertEquals(4, d.numRows());
    TabularEncoder.Encoded enc = TabularEncoder.encode(d.frame().drop("note"), d.last().name(), true);
    assertEquals(List.of("no", "yes"), enc.classNames());
    List<Row> rows = enc.frame().orderBy("id").collectAsList();
    assertEquals(1 + 2, rows.get(0).<Vector>getAs("features").size(), "1 numeric + 3 colours - 1 dropped");
    assertEquals(0.0, rows.get(0).getDouble(2));
    assertEquals(1.0, rows.get(1).getDouble(2));
  }

  @Test
  void wekaExamples() {
    boolean present = new File(WEKA + "credit-g.arff").exists() || new File(WEKA + "credit-g.arff.gz").exists();
    if (!present) System.out.println("SKIPPED ArffReaderTest.wekaExamples: " + WEKA + " is missing (apt-get install weka)");
    Assumptions.assumeTrue(present, WEKA + "credit-g.arff is missing; install the Debian package weka");
    ArffReader.ArffData credit = ArffReader.read(spark, WEKA + "credit-g.arff");
    assertEquals(21, credit.attributes().size());
    assertEquals(1000, credit.numRows());
    assertEquals("class", credit.last().name());
    TabularEncoder.Encoded enc = TabularEncoder.encode(credit.frame(), "class", true);
    assertEquals(List.of("good", "bad"), enc.classNames());
    assertEquals(300, enc.frame().filter("label = 1.0").count(), "credit-g has 300 bad credits");
    // 7 numeric + the 54 categories that occur (purpose 'vacation' and personal_status 'female single' never do)
    // - 13 dropped reference categories
    assertEquals(7 + 54 - 13, enc.frame().first().<Vector>getAs("features").size());
    assertEquals(enc.frame().first().<Vector>getAs("features").size(), enc.featureNames().size());

    ArffReader.ArffData diabetes = ArffReader.read(spark, WEKA + "diabetes.arff");
    assertEquals(768, diabetes.numRows());
    assertEquals(List.of("tested_negative", "tested_positive"), diabetes.last().values());

    ArffReader.ArffData bc = ArffReader.read(spark, WEKA + "breast-cancer.arff");
    assertEquals(277, bc.numRows(), "286 rows, 9 with a missing value dropped");
    assertEquals(9, bc.droppedRows());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ArffReader.read(spark, WEKA + "breast-cancer.arff", ArffReader.Missing.ERROR));
    assertTrue(e.getMessage().contains("missing value"), e.getMessage());
  }
}
