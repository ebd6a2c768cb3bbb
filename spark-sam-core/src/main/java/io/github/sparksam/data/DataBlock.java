package io.github.sparksam.data;

import io.github.sparksam.backend.Buf;
import java.io.Serializable;

/**
 * Up to {@link #MAX_ROWS} training rows stacked for BLAS: features as a dense
 * {@code numFeatures x numRows} column-major matrix (each row contiguous), with labels, weights
 * (null when all are 1) and each row's stable example id.
 */
public final class DataBlock implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Rows per block (a power of two so a partition-local row index splits into block and row). */
  public static final int ROW_BITS = 12;
  public static final int MAX_ROWS = 1 << ROW_BITS;

  public final int numRows;
  public final int numFeatures;
  public final Buf features;
  public final double[] labels;
  public final double[] weights;
  public final long[] ids;
  /** #14: the clean labels when {@link #labels} carry injected label noise ({@link LabelNoise}); else null. */
  public final double[] cleanLabels;

  public DataBlock(int numRows, int numFeatures, Buf features, double[] labels, double[] weights, long[] ids) {
    this(numRows, numFeatures, features, labels, weights, ids, null);
  }

  /** #14: with the clean labels of noisy {@code labels} (null: the labels are clean). */
  public DataBlock(int numRows, int numFeatures, Buf features, double[] labels, double[] weights, long[] ids,
                   double[] cleanLabels) {
    this.numRows = numRows;
    this.numFeatures = numFeatures;
    this.features = features;
    this.labels = labels;
    this.weights = weights;
    this.ids = ids;
    this.cleanLabels = cleanLabels;
  }

  /** #14: whether row {@code row}'s training label was flipped by label noise. */
  public boolean flipped(int row) { return cleanLabels != null && cleanLabels[row] != labels[row]; }

  public double weight(int row) { return weights == null ? 1.0 : weights[row]; }
}
