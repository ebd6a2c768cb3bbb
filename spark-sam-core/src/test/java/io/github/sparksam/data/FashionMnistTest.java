package io.github.sparksam.data;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.apache.spark.ml.functions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    private static SparkSession spark;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() {
        spark = SparkSession.builder().master("local[2]").appName("FashionMnistTest")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2").getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void missingDirectoryGivesTheInstallHint() {
        String dir = tmp.resolve("no-such-dir").toString();
        assertFalse(FashionMnist.isAvailable(dir));
        DataNotFoundException e = assertThrows(DataNotFoundException.class,
                () -> FashionMnist.loadTest(spark, dir, 2, 0));
        assertTrue(e.getMessage().contains(dir + "/t10k-images-idx3-ubyte.gz"), e.getMessage());
        assertTrue(e.getMessage().contains("install it with: sudo apt-get install dataset-fashion-mnist"), e.getMessage());
        assertTrue(e.getMessage().contains("--data DIR"), e.getMessage());
    }

    @Test
    void generatedLookAlikeLoadsFromADirectory() throws Exception {
        Path dir = IdxTestFiles.writeFashionLike(tmp.resolve("fake"), 50, 20, 7);
        assertTrue(FashionMnist.isAvailable(dir.toString()));
        Dataset<Row> train = FashionMnist.loadTrain(spark, dir.toString(), 2, 0);
        Dataset<Row> test = FashionMnist.loadTest(spark, dir.toString(), 3, 0);
        assertEquals(50, train.count());
        assertEquals(20, test.count());
        assertEquals(FashionMnist.NUM_FEATURES, ((org.apache.spark.ml.linalg.Vector) test.first().get(1)).size());
    }

    @Test
    void realTestSet() {
        Assumptions.assumeTrue(FashionMnist.isAvailable(FashionMnist.DEFAULT_DIR),
                "SKIPPED: Fashion-MNIST not installed at " + FashionMnist.DEFAULT_DIR + "; " + FashionMnist.INSTALL_HINT);
        Dataset<Row> test = FashionMnist.loadTest(spark, FashionMnist.DEFAULT_DIR, 2, 0);
        Dataset<Row> arr = test.select(col("id"), functions.vector_to_array(col("features"), "float64").as("a"), col("label"));
        Row stats = arr.selectExpr("count(*) as n", "min(size(a)) as dmin", "max(size(a)) as dmax",
                        "min(array_min(a)) as vmin", "max(array_max(a)) as vmax", "min(id) as idmin", "max(id) as idmax",
                        "count(distinct id) as ids")
                .first();
        assertEquals(10000L, stats.getLong(0));
        assertEquals(784, stats.getInt(1));
        assertEquals(784, stats.getInt(2));
        assertTrue(stats.getDouble(3) >= 0.0);
        assertEquals(1.0, stats.getDouble(4), 0.0, "some pixel is 255");
        assertEquals(0L, stats.getLong(5));
        assertEquals(9999L, stats.getLong(6));
        assertEquals(10000L, stats.getLong(7));
        Row labels = test.agg(min("label"), max("label"), countDistinct("label")).first();
        assertEquals(0.0, labels.getDouble(0));
        assertEquals(9.0, labels.getDouble(1));
        assertEquals(10L, labels.getLong(2));
        // Fashion-MNIST's test set is balanced: 1000 per class
        assertEquals(1000L, test.filter(col("label").equalTo(3.0)).count());
    }
}
