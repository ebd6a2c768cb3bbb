package io.github.sparksam.data;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Reproducible distribution shifts of square grey images with pixels in [0, 1] (Fashion-MNIST's 28x28): Gaussian
 * noise, Gaussian blur, contrast reduction, rotation and translation, each at severities 1-5, in the spirit of
 * CIFAR-10-C / MNIST-C (Hendrycks and Dietterich 2019; Mu and Gilmer 2019) but defined here, not copied.
 *
 * <p>Every function is pure: the output depends only on the image, the corruption, the example's stable id and a
 * seed. The randomness of an example (its noise, the sign of its rotation, the direction of its shift) comes from a
 * generator seeded with a hash of (seed, kind, severity, id), so a corrupted test set is the same whatever the
 * partitioning, the row order or the machine, and anyone can regenerate it ({@link #apply(Dataset, String, String,
 * Corruption, long)}). Outputs are clipped to [0, 1]; areas that move in from outside the image are 0 (background).
 *
 * <table>
 *   <caption>Parameters by severity 1..5</caption>
 *   <tr><th>kind</th><th>parameter</th><th>1</th><th>2</th><th>3</th><th>4</th><th>5</th></tr>
 *   <tr><td>gaussianNoise</td><td>noise std</td><td>0.08</td><td>0.12</td><td>0.18</td><td>0.26</td><td>0.38</td></tr>
 *   <tr><td>blur</td><td>kernel std (px)</td><td>0.5</td><td>0.75</td><td>1.0</td><td>1.5</td><td>2.0</td></tr>
 *   <tr><td>contrast</td><td>factor c in mean + c (x - mean)</td><td>0.5</td><td>0.4</td><td>0.3</td><td>0.2</td><td>0.1</td></tr>
 *   <tr><td>rotate</td><td>angle (degrees, random sign)</td><td>10</td><td>20</td><td>30</td><td>40</td><td>50</td></tr>
 *   <tr><td>shift</td><td>distance (px, random direction)</td><td>2</td><td>3</td><td>4</td><td>5</td><td>6</td></tr>
 * </table>
 */
public final class Corruptions {

    /** The corruption families. */
    public enum Kind {
        GAUSSIAN_NOISE("gaussianNoise"), BLUR("blur"), CONTRAST("contrast"), ROTATE("rotate"), SHIFT("shift");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        public static Kind parse(String s) {
            for (Kind k : values()) {
                if (k.label.equalsIgnoreCase(s.trim()) || k.name().equalsIgnoreCase(s.trim())) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown corruption '" + s + "'; valid: gaussianNoise, blur, contrast, rotate, shift");
        }
    }

    /** One corruption at one severity (1..5); written {@code kind:severity}, e.g. {@code blur:3}. */
    public record Corruption(Kind kind, int severity) implements Serializable {
        public Corruption {
            if (kind == null) {
                throw new IllegalArgumentException("corruption kind is null");
            }
            if (severity < 1 || severity > 5) {
                throw new IllegalArgumentException("corruption severity must be 1..5, got " + severity);
            }
        }

        /** {@code kind-severity}, e.g. {@code blur-3} (a column-name friendly label). */
        public String name() {
            return kind.label() + "-" + severity;
        }

        @Override
        public String toString() {
            return kind.label() + ":" + severity;
        }

        /** Parses {@code kind:severity}. */
        public static Corruption parse(String s) {
            String[] p = s.trim().split("[:\\-]");
            if (p.length != 2) {
                throw new IllegalArgumentException("corruption must be kind:severity, e.g. blur:3; got '" + s + "'");
            }
            try {
                return new Corruption(Kind.parse(p[0]), Integer.parseInt(p[1].trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("corruption must be kind:severity, e.g. blur:3; got '" + s + "'");
            }
        }
    }

    private static final double[] NOISE = {0.08, 0.12, 0.18, 0.26, 0.38};
    private static final double[] BLUR = {0.5, 0.75, 1.0, 1.5, 2.0};
    private static final double[] CONTRAST = {0.5, 0.4, 0.3, 0.2, 0.1};
    private static final double[] ANGLE = {10, 20, 30, 40, 50};
    private static final double[] SHIFT = {2, 3, 4, 5, 6};

    private Corruptions() {
    }

    /** Every kind at each of the given severities (kind-major order). */
    public static List<Corruption> all(int... severities) {
        List<Corruption> l = new ArrayList<>();
        for (Kind k : Kind.values()) {
            for (int s : severities) {
                l.add(new Corruption(k, s));
            }
        }
        return l;
    }

    /** The default set of the correlation job: all five kinds at severities 1, 3 and 5. */
    public static List<Corruption> defaults() {
        return all(1, 3, 5);
    }

    /** The numeric parameter of a corruption (see the class table). */
    public static double parameter(Corruption c) {
        int i = c.severity() - 1;
        return switch (c.kind()) {
            case GAUSSIAN_NOISE -> NOISE[i];
            case BLUR -> BLUR[i];
            case CONTRAST -> CONTRAST[i];
            case ROTATE -> ANGLE[i];
            case SHIFT -> SHIFT[i];
        };
    }

    /** The per-example generator: a SplitMix64 hash of (seed, kind, severity, id). */
    static SplittableRandom rng(Corruption c, long id, long seed) {
        long h = mix(seed ^ 0x5DEECE66DL);
        h = mix(h + c.kind().ordinal() * 0x9E3779B97F4A7C15L);
        h = mix(h + c.severity() * 0xC2B2AE3D27D4EB4FL);
        h = mix(h + id * 0xBF58476D1CE4E5B9L);
        return new SplittableRandom(h);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * The corrupted copy of one image ({@code image} is not modified): {@code side x side} pixels in row-major order,
     * side = sqrt(length).
     */
    public static double[] apply(double[] image, Corruption c, long id, long seed) {
        int side = side(image.length);
        double[] out = new double[image.length];
        applyInto(image, 0, out, c, id, seed, side);
        return out;
    }

    /** As {@link #apply(double[], Corruption, long, long)}, reading {@code side*side} values of {@code src} from {@code off}. */
    public static void applyInto(double[] src, int off, double[] out, Corruption c, long id, long seed, int side) {
        int n = side * side;
        double p = parameter(c);
        switch (c.kind()) {
            case GAUSSIAN_NOISE -> {
                SplittableRandom r = rng(c, id, seed);
                for (int i = 0; i < n; i++) {
                    out[i] = clip(src[off + i] + p * gauss(r));
                }
            }
            case CONTRAST -> {
                double mean = 0;
                for (int i = 0; i < n; i++) {
                    mean += src[off + i];
                }
                mean /= n;
                for (int i = 0; i < n; i++) {
                    out[i] = clip(mean + p * (src[off + i] - mean));
                }
            }
            case BLUR -> blur(src, off, out, side, p);
            case ROTATE -> {
                SplittableRandom r = rng(c, id, seed);
                double deg = r.nextBoolean() ? p : -p;
                double a = Math.toRadians(deg);
                warp(src, off, out, side, Math.cos(a), Math.sin(a), 0, 0);
            }
            case SHIFT -> {
                SplittableRandom r = rng(c, id, seed);
                double theta = 2 * Math.PI * r.nextDouble();
                long dx = Math.round(p * Math.cos(theta));
                long dy = Math.round(p * Math.sin(theta));
                for (int y = 0; y < side; y++) {
                    for (int x = 0; x < side; x++) {
                        long sx = x - dx;
                        long sy = y - dy;
                        out[y * side + x] = sx < 0 || sy < 0 || sx >= side || sy >= side ? 0.0 : src[off + (int) (sy * side + sx)];
                    }
                }
            }
            default -> throw new IllegalStateException(c.toString());
        }
    }

    /** Separable Gaussian blur with std {@code sigma}, radius ceil(3 sigma), edges clamped; then clipped. */
    private static void blur(double[] src, int off, double[] out, int side, double sigma) {
        int rad = (int) Math.ceil(3 * sigma);
        double[] k = new double[2 * rad + 1];
        double sum = 0;
        for (int i = -rad; i <= rad; i++) {
            k[i + rad] = Math.exp(-0.5 * i * i / (sigma * sigma));
            sum += k[i + rad];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= sum;
        }
        double[] tmp = new double[side * side];
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                double s = 0;
                for (int i = -rad; i <= rad; i++) {
                    int xx = Math.min(side - 1, Math.max(0, x + i));
                    s += k[i + rad] * src[off + y * side + xx];
                }
                tmp[y * side + x] = s;
            }
        }
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                double s = 0;
                for (int i = -rad; i <= rad; i++) {
                    int yy = Math.min(side - 1, Math.max(0, y + i));
                    s += k[i + rad] * tmp[yy * side + x];
                }
                out[y * side + x] = clip(s);
            }
        }
    }

    /**
     * Inverse-mapped rotation about the image centre (cos, sin of the angle) plus a translation, bilinear
     * interpolation, 0 outside.
     */
    private static void warp(double[] src, int off, double[] out, int side, double cos, double sin, double tx, double ty) {
        double c = (side - 1) / 2.0;
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                double u = x - c - tx;
                double v = y - c - ty;
                double sx = cos * u + sin * v + c;    // inverse rotation
                double sy = -sin * u + cos * v + c;
                out[y * side + x] = clip(bilinear(src, off, side, sx, sy));
            }
        }
    }

    private static double bilinear(double[] src, int off, int side, double x, double y) {
        int x0 = (int) Math.floor(x);
        int y0 = (int) Math.floor(y);
        double fx = x - x0;
        double fy = y - y0;
        return (1 - fx) * (1 - fy) * px(src, off, side, x0, y0) + fx * (1 - fy) * px(src, off, side, x0 + 1, y0)
                + (1 - fx) * fy * px(src, off, side, x0, y0 + 1) + fx * fy * px(src, off, side, x0 + 1, y0 + 1);
    }

    private static double px(double[] src, int off, int side, int x, int y) {
        return x < 0 || y < 0 || x >= side || y >= side ? 0.0 : src[off + y * side + x];
    }

    private static double clip(double v) {
        return v < 0 ? 0 : (v > 1 ? 1 : v);
    }

    private static double gauss(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** The side of a square image with {@code n} pixels; an IllegalArgumentException when n is not a square. */
    public static int side(int n) {
        int s = (int) Math.round(Math.sqrt(n));
        if (s * s != n || s < 2) {
            throw new IllegalArgumentException("corruptions need square images; " + n + " features is not a square");
        }
        return s;
    }

    /**
     * The corrupted copy of a data set: the same columns, with {@code featuresCol} (an ml Vector) replaced by its
     * corruption; {@code idCol} (long) is the stable example id that seeds each row. Runs inside the partitions; the
     * result does not depend on the partitioning.
     */
    public static Dataset<Row> apply(Dataset<Row> data, String idCol, String featuresCol, Corruption c, long seed) {
        StructType schema = data.schema();
        int fi = schema.fieldIndex(featuresCol);
        int ii = schema.fieldIndex(idCol);
        if (!schema.fields()[fi].dataType().equals(SQLDataTypes.VectorType())) {
            throw new IllegalArgumentException("column '" + featuresCol + "' must be an ml Vector, got "
                    + schema.fields()[fi].dataType().simpleString());
        }
        StructField idf = schema.fields()[ii];
        if (!idf.dataType().equals(DataTypes.LongType) && !idf.dataType().equals(DataTypes.IntegerType)) {
            throw new IllegalArgumentException("id column '" + idCol + "' must be long or int, got " + idf.dataType().simpleString());
        }
        return data.map((org.apache.spark.api.java.function.MapFunction<Row, Row>) row -> {
            Object[] vals = new Object[row.length()];
            for (int i = 0; i < vals.length; i++) {
                vals[i] = row.get(i);
            }
            long id = ((Number) row.get(ii)).longValue();
            double[] x = ((Vector) row.get(fi)).toArray();
            vals[fi] = Vectors.dense(apply(x, c, id, seed));
            return RowFactory.create(vals);
        }, org.apache.spark.sql.Encoders.row(schema));
    }

    /** A short description of a corruption's parameter, for reports. */
    public static String describe(Corruption c) {
        double p = parameter(c);
        return switch (c.kind()) {
            case GAUSSIAN_NOISE -> String.format(Locale.ROOT, "additive Gaussian noise, std %.2f", p);
            case BLUR -> String.format(Locale.ROOT, "Gaussian blur, std %.2f px", p);
            case CONTRAST -> String.format(Locale.ROOT, "contrast x%.1f around the image mean", p);
            case ROTATE -> String.format(Locale.ROOT, "rotation by +-%.0f degrees (random sign)", p);
            case SHIFT -> String.format(Locale.ROOT, "translation by %.0f px (random direction)", p);
        };
    }
}
