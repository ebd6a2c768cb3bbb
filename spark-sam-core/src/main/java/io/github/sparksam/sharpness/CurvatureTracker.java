package io.github.sparksam.sharpness;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.nn.Network;
import io.github.sparksam.train.EpochListener;
import io.github.sparksam.train.EpochMetrics;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * Tracks the top Hessian eigenvalue of the training loss during training, for edge-of-stability
 * plots (Cohen et al. 2021: full-batch GD sharpens until {@code lambda_max ~ 2/lr}; their code
 * measures on the first 5000 training examples). An {@link EpochListener}: every {@code every}
 * epochs it runs {@link Lanczos} ({@code lanczosIters} steps at most, one distributed pass each) on
 * the first {@code rows} rows of the training DataFrame, blockified once in float64 and cached.
 * Driver-side only; call {@link #close} to release the cache.
 */
public final class CurvatureTracker implements EpochListener, AutoCloseable {
  private static final long serialVersionUID = 1L;

  /** One measurement. */
  public record Point(int epoch, double topEigenvalue, double trainLoss, long passes, double seconds) {}

  private final transient Dataset<Row> data;
  private final transient InputColumns cols;
  private final int rows;
  private final int every;
  private final int lanczosIters;
  private final long seed;
  private transient JavaRDD<BlockedPartition> blocks;
  private final List<Point> points = new ArrayList<>();

  public CurvatureTracker(Dataset<Row> trainingData, InputColumns cols, int rows, int every, int lanczosIters, long seed) {
    if (rows < 1 || every < 1 || lanczosIters < 1) {
      throw new IllegalArgumentException("curvature tracking needs rows, every and lanczosIters >= 1");
    }
    this.data = trainingData;
    this.cols = cols;
    this.rows = rows;
    this.every = every;
    this.lanczosIters = lanczosIters;
    this.seed = seed;
  }

  @Override public void onEpochEnd(EpochMetrics metrics, Network network, double[] params) {
    if (metrics.epoch() % every != 0) return;
    if (blocks == null) {
      blocks = Blockifier.blockify(data.limit(rows), cols, Precision.FLOAT64, 0, -1).persist(StorageLevel.MEMORY_AND_DISK());
    }
    long t0 = System.nanoTime();
    DistributedObjective obj = new DistributedObjective(blocks, network, RowSelection.all());
    Lanczos.TopEigen top = Lanczos.topEigenvalue(obj.hessianAt(params), lanczosIters, 1e-4, seed);
    points.add(new Point(metrics.epoch(), top.value(), metrics.loss(), top.passes(), (System.nanoTime() - t0) / 1e9));
  }

  public List<Point> points() { return Collections.unmodifiableList(points); }

  public int rows() { return rows; }

  @Override public void close() {
    if (blocks != null) blocks.unpersist(false);
    blocks = null;
  }
}
