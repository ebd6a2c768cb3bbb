package io.github.sparksam.data;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;

/**
 * What a pass over the blocked data found: rows, feature size, largest label, total weight, rows
 * per partition. Computing it also materialises the cache.
 */
public record DataSummary(long numRows, int numFeatures, double maxLabel, double weightSum, long[] rowsPerPartition)
    implements Serializable {

  /** One Spark job over the blocked partitions; fails clearly on empty data or mixed feature sizes. */
  public static DataSummary of(JavaRDD<BlockedPartition> blocked, String featuresCol) {
    List<long[]> parts = blocked.map(p -> new long[] {p.index, p.numRows, p.numFeatures,
        Double.doubleToLongBits(p.maxLabel), Double.doubleToLongBits(p.weightSum)}).collect();
    long n = 0;
    int d = -1;
    double maxLabel = -1, wsum = 0;
    long[] perPart = new long[parts.size()];
    for (long[] p : parts) {
      perPart[(int) p[0]] = p[1];
      if (p[1] == 0) continue;
      n += p[1];
      if (d >= 0 && d != p[2]) {
        throw new IllegalArgumentException("features column '" + featuresCol + "' has rows with " + d + " and rows with "
            + p[2] + " features; all rows must have the same feature size");
      }
      d = (int) p[2];
      maxLabel = Math.max(maxLabel, Double.longBitsToDouble(p[3]));
      wsum += Double.longBitsToDouble(p[4]);
    }
    if (n == 0) throw new IllegalArgumentException("the training data is empty (0 rows)");
    if (!(wsum > 0)) throw new IllegalArgumentException("the sum of the example weights is 0; at least one weight must be > 0");
    return new DataSummary(n, d, maxLabel, wsum, perPart);
  }
}
