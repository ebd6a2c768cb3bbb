package io.github.sparksam.collective;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test hook ({@link CollectiveSession#WIRE_CAPTURE_KEY}): records what a connection writes, in
 * {@code DIR/NAME.wire} the bytes handed to the socket (handshake and, when encrypting,
 * ciphertext) and in {@code DIR/NAME.plain} the payload before encryption, the first
 * {@link #CAP_BYTES} of each. Tests and
 * ci/cluster-e2e.sh compare the two to show that the sums do not cross the wire in the clear. Off
 * (no wrapping at all) unless the key is set.
 */
final class WireCapture {
  private WireCapture() {}

  private static final AtomicLong CONNECTIONS = new AtomicLong();
  /** What a file records at most: enough to check many steps, small enough to check quickly. */
  static final long CAP_BYTES = 4L << 20;

  /** A name for one connection's files: its role, this process and a counter. */
  static String name(String role) {
    return role + "-" + ProcessHandle.current().pid() + "-" + CONNECTIONS.incrementAndGet();
  }

  /**
   * {@code out}, or {@code out} that also records to {@code dir/file} when {@code dir} is set (the
   * file is flushed with {@code out}).
   */
  static OutputStream tap(OutputStream out, String dir, String file) {
    if (dir == null) return out;
    Path p = Path.of(dir, file);
    OutputStream rec;
    try {
      Files.createDirectories(p.getParent());
      rec = new BufferedOutputStream(Files.newOutputStream(p), 1 << 16);
    } catch (IOException e) {
      throw new UncheckedIOException("wire capture: cannot create " + p, e);
    }
    return new OutputStream() {
      private long recorded;

      @Override public void write(int b) throws IOException { write(new byte[] {(byte) b}, 0, 1); }

      @Override public void write(byte[] b, int off, int len) throws IOException {
        out.write(b, off, len);
        int keep = (int) Math.min(len, CAP_BYTES - recorded);
        if (keep <= 0) return;
        rec.write(b, off, keep);
        recorded += keep;
      }

      @Override public void flush() throws IOException {
        out.flush();
        rec.flush();
      }

      @Override public void close() throws IOException {
        try {
          out.close();
        } finally {
          rec.close();
        }
      }
    };
  }
}
