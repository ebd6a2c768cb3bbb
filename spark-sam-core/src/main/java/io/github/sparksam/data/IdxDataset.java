package io.github.sparksam.data;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.util.SerializableConfiguration;
import org.apache.spark.util.TaskCompletionListener;

/**
 * Turns a pair of IDX files (images, labels) into a DataFrame, parsing inside the partitions.
 *
 * <p>Columns: {@value #ID_COL} (long, the row's index in the file: a stable example id), {@value #FEATURES_COL}
 * (dense ml {@code Vector} or {@code array<float>}, each byte divided by 255, so in [0, 1]) and {@value #LABEL_COL}
 * (double).
 *
 * <p>How it is distributed: the driver reads only the two headers. Partition {@code i} of {@code p} owns the rows
 * {@code [i*n/p, (i+1)*n/p)}; its task opens both files itself, positions them at its first row and parses its rows as
 * the iterator is consumed (nothing is collected on the driver, nothing big is shipped in a closure). Plain files seek;
 * gzip files cannot, so a task skips its prefix by decompressing and discarding it: task {@code i} reads
 * {@code (i+1)/p} of the stream. With the 2-4 partitions that suit a file of this size that is cheap (decompressing
 * all of Fashion-MNIST's training images takes ~0.3 s); for many partitions, store the files uncompressed or
 * {@code repartition} after loading. The result is not cached; cache it if you use it more than once.
 */
public final class IdxDataset {

    public static final String ID_COL = "id";
    public static final String FEATURES_COL = "features";
    public static final String LABEL_COL = "label";

    private IdxDataset() {
    }

    /** The schema {@link #load} produces for a given feature format. */
    public static StructType schema(FeatureFormat format) {
        return new StructType(new StructField[]{
                DataTypes.createStructField(ID_COL, DataTypes.LongType, false),
                DataTypes.createStructField(FEATURES_COL, format == FeatureFormat.VECTOR
                        ? SQLDataTypes.VectorType()
                        : DataTypes.createArrayType(DataTypes.FloatType, false), false),
                DataTypes.createStructField(LABEL_COL, DataTypes.DoubleType, false)});
    }

    /** {@link #load(SparkSession, String, String, int, int, FeatureFormat)} with Vector features. */
    public static Dataset<Row> load(SparkSession spark, String imagesPath, String labelsPath, int numPartitions, int limit) {
        return load(spark, imagesPath, labelsPath, numPartitions, limit, FeatureFormat.VECTOR);
    }

    /**
     * Loads an images file (IDX, ubyte, dims {@code [n, ...]}) and a labels file (IDX, ubyte, dims {@code [n]}).
     *
     * @param numPartitions partitions of the result; {@code <= 0} means Spark's default parallelism. Never more than the
     *                      number of rows.
     * @param limit         keep only the first {@code limit} rows; {@code <= 0} means all
     * @throws DataNotFoundException    when a file does not exist
     * @throws IllegalArgumentException when a header is invalid or the two files do not match (message names the files)
     */
    public static Dataset<Row> load(SparkSession spark, String imagesPath, String labelsPath, int numPartitions,
                                    int limit, FeatureFormat format) {
        Configuration conf = spark.sparkContext().hadoopConfiguration();
        for (String p : new String[]{imagesPath, labelsPath}) {
            if (!IdxReader.exists(conf, p)) {
                throw new DataNotFoundException(p, "IDX file not found: " + p);
            }
        }
        IdxReader.Header images = IdxReader.readHeader(conf, imagesPath);
        IdxReader.Header labels = IdxReader.readHeader(conf, labelsPath);
        if (images.dims().length < 2) {
            throw new IllegalArgumentException("IDX images file " + imagesPath + " has dims "
                    + java.util.Arrays.toString(images.dims()) + "; expected at least 2 ([rows, features...])");
        }
        if (labels.dims().length != 1) {
            throw new IllegalArgumentException("IDX labels file " + labelsPath + " has dims "
                    + java.util.Arrays.toString(labels.dims()) + "; expected 1 ([rows])");
        }
        if (images.numRecords() != labels.numRecords()) {
            throw new IllegalArgumentException("IDX files do not match: " + imagesPath + " has " + images.numRecords()
                    + " rows but " + labelsPath + " has " + labels.numRecords());
        }
        long n = limit > 0 ? Math.min(limit, images.numRecords()) : images.numRecords();
        int p = numPartitions > 0 ? numPartitions : spark.sparkContext().defaultParallelism();
        p = (int) Math.max(1, Math.min(p, n));

        List<Integer> slices = new ArrayList<>(p);
        for (int i = 0; i < p; i++) {
            slices.add(i);
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        // a broadcast, not a field: every job over data derived from these rows (each training step) serializes
        // the lineage with its tasks, and a Hadoop Configuration costs milliseconds to write and read each time
        Broadcast<SerializableConfiguration> sharedConf = jsc.broadcast(new SerializableConfiguration(conf));
        SliceParser parser = new SliceParser(sharedConf, images, labels, n, p, format);
        JavaRDD<Row> rows = jsc.parallelize(slices, p).mapPartitions(parser);
        rows.setName("IDX " + imagesPath + " (" + n + " rows, " + p + " partitions)");
        return spark.createDataFrame(rows, schema(format));
    }

    /** First row of slice {@code i} of {@code p} over {@code n} rows. */
    static long sliceStart(long n, int p, int i) {
        return n * i / p;
    }

    /** Runs in the task: parses the rows of the slices it is given (one per partition). */
    private static final class SliceParser implements FlatMapFunction<Iterator<Integer>, Row> {
        private static final long serialVersionUID = 1L;
        private final Broadcast<SerializableConfiguration> conf;
        private final IdxReader.Header images;
        private final IdxReader.Header labels;
        private final long n;
        private final int p;
        private final FeatureFormat format;

        SliceParser(Broadcast<SerializableConfiguration> conf, IdxReader.Header images, IdxReader.Header labels, long n, int p,
                    FeatureFormat format) {
            this.conf = conf;
            this.images = images;
            this.labels = labels;
            this.n = n;
            this.p = p;
            this.format = format;
        }

        @Override
        public Iterator<Row> call(Iterator<Integer> slices) {
            List<Integer> mine = new ArrayList<>(1);
            slices.forEachRemaining(mine::add);
            if (mine.isEmpty()) {
                return java.util.Collections.emptyIterator();
            }
            if (mine.size() != 1) {  // parallelize(0..p-1, p) gives one slice per partition; stay correct anyway
                List<Row> all = new ArrayList<>();
                for (int s : mine) {
                    new RowIterator(conf.value().value(), images, labels, sliceStart(n, p, s), sliceStart(n, p, s + 1), format)
                            .forEachRemaining(all::add);
                }
                return all.iterator();
            }
            int s = mine.get(0);
            return new RowIterator(conf.value().value(), images, labels, sliceStart(n, p, s), sliceStart(n, p, s + 1), format);
        }
    }

    /** Streams rows [start, end) from the two files; closes them at the end or when the task completes. */
    private static final class RowIterator implements Iterator<Row> {
        private static final double[] SCALE_D = new double[256];
        private static final float[] SCALE_F = new float[256];

        static {
            for (int b = 0; b < 256; b++) {
                SCALE_D[b] = b / 255.0;
                SCALE_F[b] = (float) (b / 255.0);
            }
        }

        private final Configuration conf;
        private final IdxReader.Header images;
        private final IdxReader.Header labels;
        private final long end;
        private final FeatureFormat format;
        private final byte[] buf;
        private final byte[] labelBuf = new byte[1];
        private long next;
        private DataInputStream imageIn;
        private DataInputStream labelIn;

        RowIterator(Configuration conf, IdxReader.Header images, IdxReader.Header labels, long start, long end,
                    FeatureFormat format) {
            this.conf = conf;
            this.images = images;
            this.labels = labels;
            this.next = start;
            this.end = end;
            this.format = format;
            this.buf = new byte[images.recordSize()];
        }

        @Override
        public boolean hasNext() {
            if (next < end) {
                return true;
            }
            close();
            return false;
        }

        @Override
        public Row next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            try {
                if (imageIn == null) {
                    open();
                }
                IdxReader.readRecord(imageIn, buf, images, next);
                IdxReader.readRecord(labelIn, labelBuf, labels, next);
            } catch (IOException e) {
                close();
                throw new UncheckedIOException(e.getMessage(), e);
            }
            Object features;
            if (format == FeatureFormat.VECTOR) {
                double[] v = new double[buf.length];
                for (int j = 0; j < buf.length; j++) {
                    v[j] = SCALE_D[buf[j] & 0xff];
                }
                features = new DenseVector(v);
            } else {
                float[] v = new float[buf.length];
                for (int j = 0; j < buf.length; j++) {
                    v[j] = SCALE_F[buf[j] & 0xff];
                }
                features = v;
            }
            Row row = RowFactory.create(next, features, (double) (labelBuf[0] & 0xff));
            next++;
            return row;
        }

        private void open() throws IOException {
            imageIn = IdxReader.openAtRecord(conf, images, next);
            labelIn = IdxReader.openAtRecord(conf, labels, next);
            TaskContext tc = TaskContext.get();
            if (tc != null) {
                tc.addTaskCompletionListener((TaskCompletionListener) ctx -> close());
            }
        }

        private void close() {
            for (DataInputStream in : new DataInputStream[]{imageIn, labelIn}) {
                if (in != null) {
                    try {
                        in.close();
                    } catch (IOException ignored) {
                        // nothing useful to do: the rows were read
                    }
                }
            }
            imageIn = null;
            labelIn = null;
        }
    }
}
