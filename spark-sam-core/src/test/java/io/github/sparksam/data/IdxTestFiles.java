package io.github.sparksam.data;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * Writes small IDX files for tests (also used by spark-sam-examples through the core test-jar).
 */
public final class IdxTestFiles {

    private IdxTestFiles() {
    }

    /** Writes an IDX ubyte file with the given dims and data (row-major), gzip-compressed or plain. */
    public static Path writeIdx(Path file, int[] dims, byte[] data, boolean gzip) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(0);
            out.writeByte(0);
            out.writeByte(IdxReader.DTYPE_UBYTE);
            out.writeByte(dims.length);
            for (int d : dims) {
                out.writeInt(d);
            }
            out.write(data);
        }
        try (OutputStream os = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
            os.write(bytes.toByteArray());
        }
        return file;
    }

    /** The pixel value the deterministic test images use: row r, feature j. */
    public static int pixel(long r, int j) {
        return (int) ((r * 31 + j * 7) % 256);
    }

    /** Writes {@code n} images of {@code rows x cols} with {@link #pixel} values. */
    public static Path writeImages(Path file, int n, int rows, int cols, boolean gzip) throws IOException {
        int d = rows * cols;
        byte[] data = new byte[n * d];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < d; j++) {
                data[r * d + j] = (byte) pixel(r, j);
            }
        }
        return writeIdx(file, new int[]{n, rows, cols}, data, gzip);
    }

    /** Writes {@code n} labels {@code r % numClasses}. */
    public static Path writeLabels(Path file, int n, int numClasses, boolean gzip) throws IOException {
        byte[] data = new byte[n];
        for (int r = 0; r < n; r++) {
            data[r] = (byte) (r % numClasses);
        }
        return writeIdx(file, new int[]{n}, data, gzip);
    }

    /**
     * Writes a learnable 10-class, 28x28 Fashion-MNIST look-alike (the four files, gzip) into {@code dir}: class k
     * lights up horizontal band k of the image, plus noise. Returns {@code dir}.
     */
    public static Path writeFashionLike(Path dir, int nTrain, int nTest, long seed) throws IOException {
        Files.createDirectories(dir);
        Random rnd = new Random(seed);
        writeSplit(dir, FashionMnist.TRAIN_IMAGES, FashionMnist.TRAIN_LABELS, nTrain, rnd);
        writeSplit(dir, FashionMnist.TEST_IMAGES, FashionMnist.TEST_LABELS, nTest, rnd);
        return dir;
    }

    private static void writeSplit(Path dir, String imagesName, String labelsName, int n, Random rnd) throws IOException {
        int d = 28 * 28;
        byte[] images = new byte[n * d];
        byte[] labels = new byte[n];
        for (int r = 0; r < n; r++) {
            int k = rnd.nextInt(10);
            labels[r] = (byte) k;
            for (int j = 0; j < d; j++) {
                int row = j / 28;
                boolean band = row >= 2 + 2 * k && row < 4 + 2 * k;
                int v = (band ? 160 : 0) + rnd.nextInt(96);
                images[r * d + j] = (byte) v;
            }
        }
        writeIdx(dir.resolve(imagesName + ".gz"), new int[]{n, 28, 28}, images, true);
        writeIdx(dir.resolve(labelsName + ".gz"), new int[]{n}, labels, true);
    }
}
