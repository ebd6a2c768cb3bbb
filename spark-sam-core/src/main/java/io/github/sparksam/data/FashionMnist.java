package io.github.sparksam.data;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 60000 training and 10000 test images of 28x28 grey pixels in 10
 * classes, in the IDX format. On Debian/Ubuntu the package {@code dataset-fashion-mnist} installs the four files under
 * {@link #DEFAULT_DIR}.
 *
 * <p>A folder holds {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}
 * and {@code t10k-labels-idx1-ubyte}, each gzip-compressed ({@code .gz}, preferred when both exist) or plain. The
 * folder can be any Hadoop path ({@code hdfs://...}, {@code s3a://...}). Loading is done by {@link IdxDataset}: parsed
 * inside the partitions, with columns {@code id}, {@code features}, {@code label}.
 */
public final class FashionMnist {

    /** Where the Debian package {@code dataset-fashion-mnist} puts the files. */
    public static final String DEFAULT_DIR = "/usr/share/datasets/fashion-mnist";

    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

    public static final int NUM_FEATURES = 28 * 28;
    public static final int NUM_CLASSES = 10;

    /** The hint appended to every "not found" message. */
    public static final String INSTALL_HINT =
            "install it with: sudo apt-get install dataset-fashion-mnist (Debian/Ubuntu) or pass --data DIR";

    private FashionMnist() {
    }

    /** Loads images and labels from the given files ({@link IdxDataset#load}); a missing file gets the install hint. */
    public static Dataset<Row> load(SparkSession spark, String imagesPath, String labelsPath, int numPartitions, int limit) {
        return load(spark, imagesPath, labelsPath, numPartitions, limit, FeatureFormat.VECTOR);
    }

    public static Dataset<Row> load(SparkSession spark, String imagesPath, String labelsPath, int numPartitions, int limit,
                                    FeatureFormat format) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        for (String p : new String[]{imagesPath, labelsPath}) {
            if (!IdxReader.exists(conf, p)) {
                throw notFound(p);
            }
        }
        return IdxDataset.load(spark, imagesPath, labelsPath, numPartitions, limit, format);
    }

    /** The 60000 training rows (or the first {@code limit}), Vector features. */
    public static Dataset<Row> loadTrain(SparkSession spark, String dir, int numPartitions, int limit) {
        return loadTrain(spark, dir, numPartitions, limit, FeatureFormat.VECTOR);
    }

    public static Dataset<Row> loadTrain(SparkSession spark, String dir, int numPartitions, int limit, FeatureFormat format) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        return load(spark, resolve(conf, dir, TRAIN_IMAGES), resolve(conf, dir, TRAIN_LABELS), numPartitions, limit, format);
    }

    /** The 10000 test rows (or the first {@code limit}), Vector features. */
    public static Dataset<Row> loadTest(SparkSession spark, String dir, int numPartitions, int limit) {
        return loadTest(spark, dir, numPartitions, limit, FeatureFormat.VECTOR);
    }

    public static Dataset<Row> loadTest(SparkSession spark, String dir, int numPartitions, int limit, FeatureFormat format) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        return load(spark, resolve(conf, dir, TEST_IMAGES), resolve(conf, dir, TEST_LABELS), numPartitions, limit, format);
    }

    /** Whether all four files exist in {@code dir} (gzip or plain). Uses the active session's Hadoop conf if any. */
    public static boolean isAvailable(String dir) {
        Configuration conf = SparkSession.getActiveSession().isDefined()
                ? SparkSession.getActiveSession().get().sparkContext().hadoopConfiguration()
                : new Configuration();
        for (String name : new String[]{TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS}) {
            if (find(conf, dir, name) == null) {
                return false;
            }
        }
        return true;
    }

    /**
     * Throws the {@link DataNotFoundException} a caller should show when the data is missing from {@code dir}
     * (checks all four files); returns normally when they are all there.
     */
    public static void requireAvailable(Configuration conf, String dir) {
        for (String name : new String[]{TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS}) {
            resolve(conf, dir, name);
        }
    }

    /** {@code dir/name.gz} if it exists, else {@code dir/name} if it exists, else a {@link DataNotFoundException}. */
    static String resolve(Configuration conf, String dir, String name) {
        String found = find(conf, dir, name);
        if (found == null) {
            throw notFound(join(dir, name) + ".gz");
        }
        return found;
    }

    private static String find(Configuration conf, String dir, String name) {
        String gz = join(dir, name) + ".gz";
        if (IdxReader.exists(conf, gz)) {
            return gz;
        }
        String plain = join(dir, name);
        return IdxReader.exists(conf, plain) ? plain : null;
    }

    private static String join(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }

    private static DataNotFoundException notFound(String path) {
        return new DataNotFoundException(path, "Fashion-MNIST not found: " + path + " does not exist; " + INSTALL_HINT);
    }
}
