package io.github.sparksam.collective;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The 8-byte words (at every offset: framing may shift them) of the ring connections' {@link
 * WireCapture} files of one kind ({@code .plain}: the payload before encryption, {@code .wire}: the
 * bytes on the socket), to look values up in.
 */
public record WireCheck(List<Path> files, Set<Long> words) {

  public static WireCheck of(Path dir, String suffix) throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(p -> p.getFileName().toString().startsWith("ring-") && p.toString().endsWith(suffix)).toList();
    }
    Set<Long> words = new HashSet<>();
    for (Path f : files) {
      byte[] b = Files.readAllBytes(f);
      ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
      for (int off = 0; off + 8 <= b.length; off++) words.add(bb.getLong(off));
    }
    return new WireCheck(files, words);
  }

  /** How many of the 8-byte values in {@code values} occur somewhere in the files. */
  public int count(byte[] values) {
    ByteBuffer bb = ByteBuffer.wrap(values).order(ByteOrder.LITTLE_ENDIAN);
    int n = 0;
    for (int off = 0; off < values.length; off += 8) if (words.contains(bb.getLong(off))) n++;
    return n;
  }

  /**
   * How many words of the payload captured in {@code dir} ({@code .plain}, doubles of the sums,
   * headers, loss statistics) occur on the wire ({@code .wire}), and out of how many: {@code
   * [found, total]}. Only words with at least 5 distinct bytes count (zeros and small integers may
   * occur anywhere by chance; a double of a sum has 8 bytes of noise).
   */
  public static long[] payloadWordsOnWire(Path dir) throws IOException {
    WireCheck plain = of(dir, ".plain"), wire = of(dir, ".wire");
    long found = 0, total = 0;
    for (long w : plain.words()) {
      if (distinctBytes(w) < 5) continue;
      total++;
      if (wire.words().contains(w)) found++;
    }
    return new long[] {found, total};
  }

  private static int distinctBytes(long w) {
    Set<Long> b = new HashSet<>();
    for (int i = 0; i < 8; i++) b.add((w >>> (8 * i)) & 0xff);
    return b.size();
  }
}
