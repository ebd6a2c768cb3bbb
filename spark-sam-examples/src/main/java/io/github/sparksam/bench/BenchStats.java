package io.github.sparksam.bench;

import java.util.Arrays;

/** Medians and spreads of repeated timings. */
public record BenchStats(double median, double min, double max, int n) {

  public static BenchStats of(double[] values) {
    if (values.length == 0) return new BenchStats(Double.NaN, Double.NaN, Double.NaN, 0);
    double[] s = values.clone();
    Arrays.sort(s);
    double med = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    return new BenchStats(med, s[0], s[s.length - 1], s.length);
  }

  /** The per-epoch times to summarise: epochs 2..N (the first includes JIT warm-up) when there are several. */
  public static double[] steadyEpochs(double[] epochSeconds) {
    return epochSeconds.length > 1 ? Arrays.copyOfRange(epochSeconds, 1, epochSeconds.length) : epochSeconds;
  }

  @Override public String toString() {
    return String.format(java.util.Locale.ROOT, "%.3f [%.3f-%.3f] n=%d", median, min, max, n);
  }
}
