package io.github.sparksam.train;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;

/**
 * A {@code double[]} as little-endian bytes, for task results: Java serialization writes a
 * {@code byte[]} as one block but a {@code double[]} value by value, which made (de)serializing a
 * 100k-weight gradient a visible part of each training step. Exact: the bits are kept.
 */
final class PackedDoubles implements Serializable {
  private static final long serialVersionUID = 1L;
  private final byte[] bytes;

  private PackedDoubles(byte[] bytes) { this.bytes = bytes; }

  static PackedDoubles of(double[] v) {
    byte[] b = new byte[v.length * 8];
    view(b).put(v);
    return new PackedDoubles(b);
  }

  /** The values of {@code b}, widened to float64 exactly (no intermediate array). */
  static PackedDoubles of(io.github.sparksam.backend.Buf b) {
    byte[] bytes = new byte[b.length() * 8];
    DoubleBuffer d = view(bytes);
    if (b instanceof io.github.sparksam.backend.Buf.FloatBuf f) {
      for (int i = 0; i < f.a.length; i++) d.put(i, f.a[i]);
    } else if (b instanceof io.github.sparksam.backend.Buf.DoubleBuf db) {
      d.put(db.a);
    } else {
      for (int i = 0; i < b.length(); i++) d.put(i, b.get(i));
    }
    return new PackedDoubles(bytes);
  }

  int length() { return bytes.length / 8; }

  double[] toArray() {
    double[] v = new double[length()];
    view(bytes).get(v);
    return v;
  }

  /** {@code total[i] += this[i]}. */
  void addTo(double[] total) {
    DoubleBuffer d = view(bytes);
    if (d.remaining() != total.length) {
      throw new IllegalStateException("a partition returned " + d.remaining() + " values, expected " + total.length);
    }
    for (int i = 0; i < total.length; i++) total[i] += d.get(i);
  }

  private static DoubleBuffer view(byte[] b) { return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer(); }
}
