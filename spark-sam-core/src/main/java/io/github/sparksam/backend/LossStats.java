package io.github.sparksam.backend;

import java.io.Serializable;

/** Weighted sums of loss and accuracy over examples; merged across blocks, tasks and steps. */
public final class LossStats implements Serializable {
  private static final long serialVersionUID = 1L;

  public double lossSum;
  public double weightSum;
  public double correctWeight;
  public long count;
  /** Named sums a rule adds (e.g. its extra loss term, records found/missing); merged by addition. */
  private java.util.TreeMap<String, Double> metrics;

  public LossStats merge(LossStats o) {
    lossSum += o.lossSum;
    weightSum += o.weightSum;
    correctWeight += o.correctWeight;
    count += o.count;
    if (o.metrics != null) o.metrics.forEach(this::add);
    return this;
  }

  /** Adds {@code v} to the named sum. */
  public void add(String name, double v) {
    if (metrics == null) metrics = new java.util.TreeMap<>();
    metrics.merge(name, v, Double::sum);
  }

  /** The named sum, 0 if never added. */
  public double metric(String name) {
    return metrics == null ? 0.0 : metrics.getOrDefault(name, 0.0);
  }

  /** All named sums (read-only view). */
  public java.util.Map<String, Double> metrics() {
    return metrics == null ? java.util.Map.of() : java.util.Collections.unmodifiableMap(metrics);
  }

  public void reset() {
    lossSum = 0;
    weightSum = 0;
    correctWeight = 0;
    count = 0;
    metrics = null;
  }

  /** Weighted mean loss, NaN when no weight was seen. */
  public double meanLoss() { return lossSum / weightSum; }

  /** Weighted accuracy, NaN when no weight was seen. */
  public double accuracy() { return correctWeight / weightSum; }

  /** A compact byte form (exact doubles) for collectives; {@link #fromBytes} reads it back. */
  public byte[] toBytes() {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream(64);
    try (java.io.DataOutputStream out = new java.io.DataOutputStream(b)) {
      out.writeDouble(lossSum);
      out.writeDouble(weightSum);
      out.writeDouble(correctWeight);
      out.writeLong(count);
      out.writeInt(metrics == null ? 0 : metrics.size());
      if (metrics != null) {
        for (java.util.Map.Entry<String, Double> e : metrics.entrySet()) {
          out.writeUTF(e.getKey());
          out.writeDouble(e.getValue());
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return b.toByteArray();
  }

  /** Reads {@link #toBytes}. */
  public static LossStats fromBytes(byte[] bytes) {
    LossStats s = new LossStats();
    try (java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
      s.lossSum = in.readDouble();
      s.weightSum = in.readDouble();
      s.correctWeight = in.readDouble();
      s.count = in.readLong();
      int n = in.readInt();
      for (int i = 0; i < n; i++) s.add(in.readUTF(), in.readDouble());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("corrupt loss statistics", e);
    }
    return s;
  }

  @Override public String toString() {
    return String.format(java.util.Locale.ROOT, "LossStats(n=%d, loss=%.6f, acc=%.4f)", count, meanLoss(), accuracy());
  }
}
