package io.github.sparksam.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Reads files in the IDX format of the MNIST family (http://yann.lecun.com/exdb/mnist/), through a Hadoop
 * {@link FileSystem}, so {@code file:}, {@code hdfs:}, {@code s3a:} ... paths all work.
 *
 * <p>Format: a 4-byte magic {@code 0x00 0x00 <dtype> <ndims>}, then {@code ndims} big-endian 32-bit sizes, then the
 * data in row-major order. Only dtype {@code 0x08} (unsigned byte) is supported, which is what (Fashion-)MNIST uses.
 * The file may be gzip-compressed or plain; this is detected from the first two bytes (gzip magic {@code 1f 8b}),
 * not from the file name.
 *
 * <p>Random access: a plain file is positioned with {@code seek}; a gzip stream cannot seek, so
 * {@link #openAtRecord} reads and discards the bytes before the wanted record. For a few partitions per file
 * (the Fashion-MNIST case: 47 MB of pixels uncompressed) that costs well under a second per task.
 */
public final class IdxReader {

    /** IDX dtype code of unsigned bytes. */
    public static final int DTYPE_UBYTE = 0x08;

    private static final int GZIP_MAGIC_0 = 0x1f;
    private static final int GZIP_MAGIC_1 = 0x8b;
    private static final int BUFFER_SIZE = 1 << 16;

    private IdxReader() {
    }

    /**
     * The header of an IDX file.
     *
     * @param path       the file, as given
     * @param gzip       whether the file is gzip-compressed
     * @param dims       the sizes of all dimensions; {@code dims[0]} is the number of records
     * @param dataOffset the offset of the first data byte in the (uncompressed) stream
     */
    public record Header(String path, boolean gzip, int[] dims, long dataOffset) implements java.io.Serializable {
        /** Number of records (the first dimension). */
        public long numRecords() {
            return dims[0];
        }

        /** Bytes per record: the product of all dimensions but the first (1 for a 1-d file). */
        public int recordSize() {
            long s = 1;
            for (int i = 1; i < dims.length; i++) {
                s *= dims[i];
            }
            if (s > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("IDX file " + path + ": record size " + s + " is too large");
            }
            return (int) s;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Header h && h.path.equals(path) && h.gzip == gzip && Arrays.equals(h.dims, dims)
                    && h.dataOffset == dataOffset;
        }

        @Override
        public int hashCode() {
            return 31 * path.hashCode() + Arrays.hashCode(dims);
        }

        @Override
        public String toString() {
            return "IdxHeader[" + path + (gzip ? " (gzip)" : "") + ", dims=" + Arrays.toString(dims) + "]";
        }
    }

    /** Whether {@code path} exists (through its Hadoop file system). */
    public static boolean exists(Configuration conf, String path) {
        try {
            Path p = new Path(path);
            return p.getFileSystem(conf).exists(p);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Reads and validates the header of an IDX file.
     *
     * @throws IllegalArgumentException when the magic number, the dtype or a dimension is invalid, or when a plain
     *                                  (uncompressed) file's length does not match its header; the message names the file
     * @throws UncheckedIOException     on I/O errors (including a missing file)
     */
    public static Header readHeader(Configuration conf, String path) {
        Path p = new Path(path);
        try {
            FileSystem fs = p.getFileSystem(conf);
            boolean gzip;
            try (FSDataInputStream raw = fs.open(p)) {
                gzip = isGzip(raw);
            }
            try (InputStream in = openStream(fs, p, gzip)) {
                Header h = parseHeader(path, gzip, new DataInputStream(in));
                if (!gzip) {
                    FileStatus st = fs.getFileStatus(p);
                    long expected = h.dataOffset() + h.numRecords() * (long) h.recordSize();
                    if (st.getLen() != expected) {
                        throw new IllegalArgumentException("IDX file " + path + ": length " + st.getLen()
                                + " bytes does not match its header " + Arrays.toString(h.dims())
                                + " (expected " + expected + " bytes)");
                    }
                }
                return h;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read IDX file " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * Opens the file and positions the stream at the start of record {@code record} (0-based). The caller closes it.
     * Plain files seek; gzip files skip by reading and discarding (see the class comment).
     */
    public static DataInputStream openAtRecord(Configuration conf, Header header, long record) throws IOException {
        if (record < 0 || record > header.numRecords()) {
            throw new IllegalArgumentException("IDX file " + header.path() + ": record " + record
                    + " is outside 0.." + header.numRecords());
        }
        Path p = new Path(header.path());
        FileSystem fs = p.getFileSystem(conf);
        long offset = header.dataOffset() + record * (long) header.recordSize();
        if (!header.gzip()) {
            FSDataInputStream raw = fs.open(p, BUFFER_SIZE);
            try {
                raw.seek(offset);
            } catch (IOException | RuntimeException e) {
                raw.close();
                throw e;
            }
            return new DataInputStream(new BufferedInputStream(raw, BUFFER_SIZE));
        }
        DataInputStream in = new DataInputStream(openStream(fs, p, true));
        try {
            skipFully(in, offset, header.path());
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
        return in;
    }

    /** Reads exactly {@code buf.length} bytes; a short file gives an {@link EOFException} naming it. */
    public static void readRecord(DataInputStream in, byte[] buf, Header header, long record) throws IOException {
        try {
            in.readFully(buf);
        } catch (EOFException e) {
            throw new EOFException("IDX file " + header.path() + " ends inside record " + record
                    + " (header says " + header.numRecords() + " records): the file is truncated");
        }
    }

    private static boolean isGzip(InputStream in) throws IOException {
        int b0 = in.read();
        int b1 = in.read();
        return b0 == GZIP_MAGIC_0 && b1 == GZIP_MAGIC_1;
    }

    private static InputStream openStream(FileSystem fs, Path p, boolean gzip) throws IOException {
        FSDataInputStream raw = fs.open(p, BUFFER_SIZE);
        if (!gzip) {
            return new BufferedInputStream(raw, BUFFER_SIZE);
        }
        try {
            return new BufferedInputStream(new GZIPInputStream(raw, BUFFER_SIZE), BUFFER_SIZE);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    static Header parseHeader(String path, boolean gzip, DataInputStream in) throws IOException {
        int[] magic = new int[4];
        for (int i = 0; i < 4; i++) {
            magic[i] = in.read();
            if (magic[i] < 0) {
                throw new IllegalArgumentException("IDX file " + path + " is too short to hold an IDX header");
            }
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw new IllegalArgumentException(String.format(
                    "not an IDX file: %s (magic bytes %02x %02x %02x %02x, expected 00 00 <dtype> <ndims>)",
                    path, magic[0], magic[1], magic[2], magic[3]));
        }
        if (magic[2] != DTYPE_UBYTE) {
            throw new IllegalArgumentException(String.format(
                    "IDX file %s has dtype 0x%02x; only unsigned bytes (0x08) are supported", path, magic[2]));
        }
        int ndims = magic[3];
        if (ndims < 1) {
            throw new IllegalArgumentException("IDX file " + path + " declares " + ndims + " dimensions");
        }
        int[] dims = new int[ndims];
        for (int i = 0; i < ndims; i++) {
            try {
                dims[i] = in.readInt();
            } catch (EOFException e) {
                throw new IllegalArgumentException("IDX file " + path + " ends inside its header", e);
            }
            if (dims[i] < 0 || (i > 0 && dims[i] == 0)) {
                throw new IllegalArgumentException("IDX file " + path + ": dimension " + i + " has invalid size "
                        + Integer.toUnsignedString(dims[i]));
            }
        }
        return new Header(path, gzip, dims, 4L + 4L * ndims);
    }

    private static void skipFully(InputStream in, long n, String path) throws IOException {
        byte[] scratch = new byte[BUFFER_SIZE];
        long left = n;
        while (left > 0) {
            int r = in.read(scratch, 0, (int) Math.min(scratch.length, left));
            if (r < 0) {
                throw new EOFException("IDX file " + path + " ends after " + (n - left) + " of " + n
                        + " bytes to skip: the file is truncated");
            }
            left -= r;
        }
    }
}
