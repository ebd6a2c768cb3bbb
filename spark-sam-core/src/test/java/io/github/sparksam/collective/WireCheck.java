package io.github.sparksam.collective;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The 8-byte words (at every offset: framing may shift them) of the ring connections' {@link
 * WireCapture} files of one kind ({@code .plain}: the payload before encryption, {@code .wire}: the
 * bytes on the socket), to look values up in.
 */
public record WireCheck(List<Path> files, long[] sortedWords) {

  public static WireCheck of(Path dir, String suffix) throws IOException {
    long[] w = windows(dir, suffix);
    Arrays.sort(w);
    return new WireCheck(files(dir, suffix), w);
  }

  /** How many of the 8-byte values in {@code values} occur somewhere in the files. */
  public int count(byte[] values) {
    ByteBuffer bb = ByteBuffer.wrap(values).order(ByteOrder.LITTLE_ENDIAN);
    int n = 0;
    for (int off = 0; off < values.length; off += 8) if (Arrays.binarySearch(sortedWords, bb.getLong(off)) >= 0) n++;
    return n;
  }

  /**
   * How many 8-byte words of the payload captured in {@code dir} ({@code ring-*.plain}: the doubles
   * of the sums, headers, loss statistics, at every 8th offset) occur anywhere on the wire ({@code
   * ring-*.wire}), and out of how many: {@code [found, total]}. Only words with at least 5 distinct
   * bytes count (zeros and small integers may occur anywhere by chance; a double of a sum has 8
   * bytes of noise).
   */
  public static long[] payloadWordsOnWire(Path dir) throws IOException {
    long[] wire = of(dir, ".wire").sortedWords();
    long found = 0, total = 0;
    for (Path f : files(dir, ".plain")) {
      ByteBuffer bb = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
      for (int off = 0; off + 8 <= bb.capacity(); off += 8) {
        long w = bb.getLong(off);
        if (distinctBytes(w) < 5) continue;
        total++;
        if (Arrays.binarySearch(wire, w) >= 0) found++;
      }
    }
    return new long[] {found, total};
  }

  private static List<Path> files(Path dir, String suffix) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("ring-") && p.toString().endsWith(suffix)).sorted()
          .toList();
    }
  }

  /** The 8-byte words at every offset of the files. */
  private static long[] windows(Path dir, String suffix) throws IOException {
    List<byte[]> all = new java.util.ArrayList<>();
    long n = 0;
    for (Path f : files(dir, suffix)) {
      byte[] b = Files.readAllBytes(f);
      all.add(b);
      n += Math.max(0, b.length - 7);
    }
    long[] w = new long[Math.toIntExact(n)];
    int k = 0;
    for (byte[] b : all) {
      ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
      for (int off = 0; off + 8 <= b.length; off++) w[k++] = bb.getLong(off);
    }
    return w;
  }

  private static int distinctBytes(long w) {
    long[] seen = new long[4];
    int n = 0;
    for (int i = 0; i < 8; i++) {
      int v = (int) ((w >>> (8 * i)) & 0xff);
      if ((seen[v >>> 6] & (1L << v)) == 0) n++;
      seen[v >>> 6] |= 1L << v;
    }
    return n;
  }

  /** {@code java -cp spark-sam-core/target/test-classes io.github.sparksam.collective.WireCheck DIR}: prints "found total". */
  public static void main(String[] args) throws IOException {
    long[] r = payloadWordsOnWire(Path.of(args[0]));
    System.out.println(r[0] + " " + r[1]);
  }
}
