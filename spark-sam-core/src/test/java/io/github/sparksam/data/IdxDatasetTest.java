package io.github.sparksam.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IdxDatasetTest {

    private static final int N = 23;
    private static final int ROWS = 3;
    private static final int COLS = 4;

    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("IdxDatasetTest")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    private static Path[] files(boolean gzip) throws Exception {
        Path dir = tmp.resolve(gzip ? "gz" : "plain");
        if (!Files.exists(dir)) {
            Files.createDirectories(dir);
            IdxTestFiles.writeImages(dir.resolve("images"), N, ROWS, COLS, gzip);
            IdxTestFiles.writeLabels(dir.resolve("labels"), N, 5, gzip);
        }
        return new Path[]{dir.resolve("images"), dir.resolve("labels")};
    }

    private static void checkRows(List<Row> rows, int n) {
        assertEquals(n, rows.size());
        for (int r = 0; r < n; r++) {
            Row row = rows.get(r);
            assertEquals(r, row.getLong(0), "ids are the row indices, in order");
            Vector v = (Vector) row.get(1);
            assertEquals(ROWS * COLS, v.size());
            for (int j = 0; j < v.size(); j++) {
                assertEquals(IdxTestFiles.pixel(r, j) / 255.0, v.apply(j), 0.0);
            }
            assertEquals(r % 5, row.getDouble(2), 0.0);
        }
    }

    @ParameterizedTest(name = "gzip={0}, partitions={1}")
    @CsvSource({"false,1", "false,3", "true,1", "true,3"})
    void readsAllRowsWithAnyPartitioning(boolean gzip, int partitions) throws Exception {
        Path[] f = files(gzip);
        Dataset<Row> df = IdxDataset.load(spark, f[0].toString(), f[1].toString(), partitions, 0);
        assertEquals(partitions, df.rdd().getNumPartitions());
        assertEquals(DataTypes.LongType, df.schema().apply("id").dataType());
        assertEquals(SQLDataTypes.VectorType(), df.schema().apply("features").dataType());
        assertEquals(DataTypes.DoubleType, df.schema().apply("label").dataType());
        checkRows(df.collectAsList(), N);   // collect keeps partition order, so rows come back in file order
    }

    @Test
    void limitKeepsTheFirstRows() throws Exception {
        Path[] f = files(true);
        Dataset<Row> df = IdxDataset.load(spark, f[0].toString(), f[1].toString(), 3, 10);
        checkRows(df.collectAsList(), 10);
        // more partitions than rows: clamped to the number of rows
        Dataset<Row> tiny = IdxDataset.load(spark, f[0].toString(), f[1].toString(), 8, 2);
        assertEquals(2, tiny.rdd().getNumPartitions());
        checkRows(tiny.collectAsList(), 2);
        // limit above n: everything
        checkRows(IdxDataset.load(spark, f[0].toString(), f[1].toString(), 2, 1000).collectAsList(), N);
    }

    @Test
    void defaultPartitionsIsDefaultParallelism() throws Exception {
        Path[] f = files(false);
        Dataset<Row> df = IdxDataset.load(spark, f[0].toString(), f[1].toString(), 0, 0);
        assertEquals(spark.sparkContext().defaultParallelism(), df.rdd().getNumPartitions());
    }

    @Test
    void arrayFloatFormat() throws Exception {
        Path[] f = files(true);
        Dataset<Row> df = IdxDataset.load(spark, f[0].toString(), f[1].toString(), 3, 0, FeatureFormat.ARRAY_FLOAT);
        assertEquals(DataTypes.createArrayType(DataTypes.FloatType, false), df.schema().apply("features").dataType());
        List<Row> rows = df.collectAsList();
        assertEquals(N, rows.size());
        for (int r = 0; r < N; r++) {
            List<Float> v = rows.get(r).getList(1);
            float[] expected = new float[ROWS * COLS];
            float[] actual = new float[ROWS * COLS];
            for (int j = 0; j < expected.length; j++) {
                expected[j] = (float) (IdxTestFiles.pixel(r, j) / 255.0);
                actual[j] = v.get(j);
            }
            assertArrayEquals(expected, actual);
            assertEquals(r, rows.get(r).getLong(0));
        }
        assertEquals(FeatureFormat.ARRAY_FLOAT, FeatureFormat.parse("array-float"));
        assertThrows(IllegalArgumentException.class, () -> FeatureFormat.parse("csv"));
    }

    @Test
    void badMagicFailsOnTheDriverNamingTheFile() throws Exception {
        Path bad = tmp.resolve("bad-magic");
        Files.write(bad, new byte[]{0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0});
        Path[] f = files(false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IdxDataset.load(spark, bad.toString(), f[1].toString(), 2, 0));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
    }

    @Test
    void mismatchedCountsAreReported() throws Exception {
        Path labels = IdxTestFiles.writeLabels(tmp.resolve("labels-short"), N - 1, 5, false);
        Path[] f = files(false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IdxDataset.load(spark, f[0].toString(), labels.toString(), 2, 0));
        assertTrue(e.getMessage().contains("do not match") && e.getMessage().contains(labels.toString()), e.getMessage());
        // swapped files: the labels file is 1-d
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> IdxDataset.load(spark, f[1].toString(), f[0].toString(), 2, 0));
        assertTrue(e2.getMessage().contains(f[1].toString()), e2.getMessage());
    }

    @Test
    void missingFileIsDataNotFound() {
        String missing = tmp.resolve("nope/images").toString();
        DataNotFoundException e = assertThrows(DataNotFoundException.class,
                () -> IdxDataset.load(spark, missing, missing, 2, 0));
        assertEquals(missing, e.missingPath());
        assertTrue(e.getMessage().contains(missing));
    }
}
