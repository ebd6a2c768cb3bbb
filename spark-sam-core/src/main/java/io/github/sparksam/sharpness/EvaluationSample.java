package io.github.sparksam.sharpness;

import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.DataBlock;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import org.apache.spark.api.java.JavaRDD;

/**
 * The fixed evaluation sample of the sharpness protocol (Andriushchenko et al. 2023, reference
 * code: the first 1024 training rows, in batches of 128): the {@code n} rows with the smallest
 * {@link RowSelection#key} (the first rows by example id when the seed is negative), in key
 * order, split into consecutive batches of {@code m}. Collected to the driver in one pass (each
 * partition sends at most {@code n} candidates); independent of the partitioning because keys are
 * functions of the stable example ids.
 */
public final class EvaluationSample implements Serializable {
  private static final long serialVersionUID = 1L;

  private final List<SampleBatch> batches;
  private final RowSelection selection;
  private final int numRows;

  private EvaluationSample(List<SampleBatch> batches, RowSelection selection, int numRows) {
    this.batches = batches;
    this.selection = selection;
    this.numRows = numRows;
  }

  public List<SampleBatch> batches() { return batches; }

  /** The rows of this sample as a selection over the cached data (for full-sample passes). */
  public RowSelection selection() { return selection; }

  public int numRows() { return numRows; }

  private record Candidate(long key, long id, double[] x, double label, double weight) implements Serializable {}

  private static final Comparator<Candidate> ORDER =
      Comparator.comparingLong(Candidate::key).thenComparingLong(Candidate::id);

  /**
   * @param n         rows in the sample (all rows when the data has fewer)
   * @param batchSize m: rows per batch (the last batch may be smaller)
   * @param seed      negative: the first rows by example id; else a seeded hash order
   */
  public static EvaluationSample collect(JavaRDD<BlockedPartition> data, int n, int batchSize, long seed) {
    if (n < 1) throw new IllegalArgumentException("sample size must be >= 1, got " + n);
    if (batchSize < 1) throw new IllegalArgumentException("sharpness batch size must be >= 1, got " + batchSize);
    List<List<Candidate>> parts = data.map(p -> top(p, n, seed)).collect();
    List<Candidate> all = new ArrayList<>();
    for (List<Candidate> c : parts) all.addAll(c);
    all.sort(ORDER);
    if (all.isEmpty()) throw new IllegalArgumentException("the data is empty (0 rows): nothing to measure sharpness on");
    List<Candidate> rows = all.subList(0, Math.min(n, all.size()));
    Candidate last = rows.get(rows.size() - 1);
    int d = rows.get(0).x().length;
    List<SampleBatch> batches = new ArrayList<>();
    for (int from = 0, b = 0; from < rows.size(); from += batchSize, b++) {
      int m = Math.min(batchSize, rows.size() - from);
      double[] x = new double[m * d];
      double[] y = new double[m];
      double[] w = new double[m];
      long[] ids = new long[m];
      boolean unit = true;
      for (int j = 0; j < m; j++) {
        Candidate c = rows.get(from + j);
        System.arraycopy(c.x(), 0, x, j * d, d);
        y[j] = c.label();
        w[j] = c.weight();
        ids[j] = c.id();
        unit &= c.weight() == 1.0;
      }
      batches.add(new SampleBatch(b, m, d, x, y, unit ? null : w, ids));
    }
    return new EvaluationSample(Collections.unmodifiableList(batches), RowSelection.upTo(seed, last.key(), last.id()),
        rows.size());
  }

  private static List<Candidate> top(BlockedPartition p, int n, long seed) {
    PriorityQueue<long[]> heap = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(b[0], a[0]) : Long.compare(b[1], a[1]));
    for (int r = 0; r < p.numRows; r++) {
      long id = p.id(r);
      long k = RowSelection.key(seed, id);
      if (heap.size() < n) {
        heap.add(new long[] {k, id, r});
      } else {
        long[] worst = heap.peek();
        if (k < worst[0] || (k == worst[0] && id < worst[1])) {
          heap.poll();
          heap.add(new long[] {k, id, r});
        }
      }
    }
    List<Candidate> out = new ArrayList<>(heap.size());
    int d = p.numFeatures;
    for (long[] e : heap) {
      int r = (int) e[2];
      DataBlock b = p.block(r);
      int row = BlockedPartition.rowInBlock(r);
      double[] x = new double[d];
      for (int i = 0; i < d; i++) x[i] = b.features.get(row * d + i);
      out.add(new Candidate(e[0], e[1], x, b.labels[row], b.weight(row)));
    }
    return out;
  }

  /**
   * The first {@code n} rows in key order as a selection (one pass that moves only keys and ids):
   * for Hessian measures on a fixed subset, such as the first 5000 training rows of the
   * edge-of-stability code (Cohen et al. 2021).
   */
  public static RowSelection selection(JavaRDD<BlockedPartition> data, int n, long seed) {
    List<long[]> keys = data.flatMap(p -> {
      PriorityQueue<long[]> heap = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(b[0], a[0]) : Long.compare(b[1], a[1]));
      for (int r = 0; r < p.numRows; r++) {
        long id = p.id(r);
        long k = RowSelection.key(seed, id);
        if (heap.size() < n) heap.add(new long[] {k, id});
        else if (k < heap.peek()[0] || (k == heap.peek()[0] && id < heap.peek()[1])) {
          heap.poll();
          heap.add(new long[] {k, id});
        }
      }
      return new ArrayList<>(heap).iterator();
    }).collect();
    if (keys.isEmpty()) throw new IllegalArgumentException("the data is empty (0 rows)");
    List<long[]> sorted = new ArrayList<>(keys);
    sorted.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    long[] last = sorted.get(Math.min(n, sorted.size()) - 1);
    return RowSelection.upTo(seed, last[0], last[1]);
  }
}
