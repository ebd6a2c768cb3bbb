package io.github.sparksam.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdxReaderTest {

    private final Configuration conf = new Configuration();

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void readsHeaderAndSeeksToRecords(boolean gzip) throws Exception {
        Path f = IdxTestFiles.writeImages(tmp.resolve("img"), 7, 3, 2, gzip);
        IdxReader.Header h = IdxReader.readHeader(conf, f.toString());
        assertEquals(gzip, h.gzip());
        assertArrayEquals(new int[]{7, 3, 2}, h.dims());
        assertEquals(7, h.numRecords());
        assertEquals(6, h.recordSize());
        assertEquals(16, h.dataOffset());
        for (int r : new int[]{0, 4, 6}) {
            try (DataInputStream in = IdxReader.openAtRecord(conf, h, r)) {
                byte[] buf = new byte[6];
                IdxReader.readRecord(in, buf, h, r);
                for (int j = 0; j < 6; j++) {
                    assertEquals(IdxTestFiles.pixel(r, j), buf[j] & 0xff);
                }
            }
        }
    }

    @Test
    void detectsGzipByContentNotName() throws Exception {
        Path f = IdxTestFiles.writeLabels(tmp.resolve("labels.gz"), 5, 3, false);  // plain file named .gz
        IdxReader.Header h = IdxReader.readHeader(conf, f.toString());
        assertFalse(h.gzip());
        Path g = IdxTestFiles.writeLabels(tmp.resolve("labels-noext"), 5, 3, true);
        assertTrue(IdxReader.readHeader(conf, g.toString()).gzip());
    }

    @Test
    void badMagicNamesTheFile() throws Exception {
        Path f = tmp.resolve("bad.idx");
        Files.write(f, new byte[]{0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 5});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IdxReader.readHeader(conf, f.toString()));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not an IDX file"), e.getMessage());
    }

    @Test
    void unsupportedDtypeNamesTheFile() throws Exception {
        Path f = tmp.resolve("float.idx");
        Files.write(f, new byte[]{0, 0, 0x0D, 0x01, 0, 0, 0, 1, 0, 0, 0, 0});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IdxReader.readHeader(conf, f.toString()));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("0x0d"), e.getMessage());
    }

    @Test
    void plainFileLengthMismatchIsReported() throws Exception {
        Path f = tmp.resolve("short.idx");
        // header says 4 records of 1 byte, only 3 follow
        Files.write(f, new byte[]{0, 0, 0x08, 0x01, 0, 0, 0, 4, 1, 2, 3});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IdxReader.readHeader(conf, f.toString()));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("does not match"), e.getMessage());
    }

    @Test
    void truncatedGzipFailsWhenReading() throws Exception {
        Path f = IdxTestFiles.writeIdx(tmp.resolve("trunc.gz"), new int[]{4}, new byte[]{1, 2, 3}, true);
        IdxReader.Header h = IdxReader.readHeader(conf, f.toString());
        try (DataInputStream in = IdxReader.openAtRecord(conf, h, 2)) {
            byte[] one = new byte[1];
            IdxReader.readRecord(in, one, h, 2);
            java.io.EOFException e = assertThrows(java.io.EOFException.class, () -> IdxReader.readRecord(in, one, h, 3));
            assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("truncated"), e.getMessage());
        }
    }
}
