package io.github.sparksam.multiplicity;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.DataBlock;
import java.io.Serializable;

/**
 * One partition's share of a batched evaluation of the logistic loss: for {@code B} weight vectors
 * at once it sums, over the partition's rows, the weighted losses, their gradients and (optionally)
 * their Hessians. Everything is BLAS-3: scores {@code Z = W^T X} are one GEMM for all B vectors,
 * gradients {@code X R^T} another, and the B Hessians {@code sum_i D_ji a_i a_i^T} a third, as
 * {@code K D^T} where column i of {@code K} holds the upper triangle of {@code a_i a_i^T}
 * ({@code a_i = [x_i; 1]}), built per chunk of rows.
 *
 * <p>Parameter layout is {@link io.github.sparksam.nn.Network#linear}'s for the binomial head: the
 * {@code d} coefficients, then the bias ({@code p = d + 1} entries). The weight matrix is
 * {@code p x B}, column-major. Labels must be 0 or 1. Double precision only: the exact viable
 * prediction range compares losses to about 1e-12.
 */
final class LogisticBatchKernel {
  private LogisticBatchKernel() {}

  /** Rows per chunk of the Hessian GEMM (bounds the scratch matrix K to p(p+1)/2 x CHUNK). */
  static final int CHUNK = 256;

  /** Unnormalised sums of one partition (or of all of them once merged in partition order). */
  static final class Sums implements Serializable {
    private static final long serialVersionUID = 1L;
    final int p;
    final int b;
    double weightSum;
    long rows;
    final double[] loss;      // B
    final double[] grad;      // p x B
    final double[] hess;      // P x B (packed upper triangles), or null

    Sums(int p, int b, boolean hessian) {
      this.p = p;
      this.b = b;
      loss = new double[b];
      grad = new double[p * b];
      hess = hessian ? new double[packedSize(p) * b] : null;
    }

    void merge(Sums o) {
      weightSum += o.weightSum;
      rows += o.rows;
      for (int i = 0; i < loss.length; i++) loss[i] += o.loss[i];
      for (int i = 0; i < grad.length; i++) grad[i] += o.grad[i];
      if (hess != null) for (int i = 0; i < hess.length; i++) hess[i] += o.hess[i];
    }
  }

  static int packedSize(int p) { return p * (p + 1) / 2; }

  /** Index of (r, c), r <= c, in the packed upper triangle (column by column). */
  static int packed(int r, int c) { return c * (c + 1) / 2 + r; }

  /** Numerically stable {@code log(1 + exp(z))}. */
  static double softplus(double z) {
    return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
  }

  static double sigmoid(double z) {
    if (z >= 0) return 1.0 / (1.0 + Math.exp(-z));
    double e = Math.exp(z);
    return e / (1.0 + e);
  }

  /**
   * Sums over the partition's rows for the {@code b} weight vectors in {@code w} (p x b).
   */
  static Sums evaluate(BlockedPartition part, double[] w, int p, int b, boolean hessian) {
    ComputeBackend be = CpuBackend.FLOAT64;
    int d = p - 1;
    Sums s = new Sums(p, b, hessian);
    if (part.numRows == 0) return s;
    if (part.numFeatures != d) {
      throw new IllegalArgumentException("the data has " + part.numFeatures + " features but the logistic model has " + d);
    }
    Buf wBuf = new Buf.DoubleBuf(w);
    Buf gBuf = new Buf.DoubleBuf(s.grad);
    int maxRows = 0;
    for (DataBlock blk : part.blocks) maxRows = Math.max(maxRows, blk.numRows);
    double[] z = new double[b * maxRows];
    double[] r = new double[b * maxRows];
    double[] dd = hessian ? new double[b * maxRows] : null;
    int pp = packedSize(p);
    double[] k = hessian ? new double[pp * Math.min(CHUNK, maxRows)] : null;
    Buf zBuf = new Buf.DoubleBuf(z), rBuf = new Buf.DoubleBuf(r);
    for (DataBlock blk : part.blocks) {
      int n = blk.numRows;
      if (!(blk.features instanceof Buf.DoubleBuf)) {
        throw new IllegalStateException("the exact logistic range needs float64 blocks");
      }
      double[] x = ((Buf.DoubleBuf) blk.features).a;
      // Z (b x n) = Wcoef^T X
      be.gemm(true, false, b, n, d, 1.0, wBuf, 0, p, blk.features, 0, d, 0.0, zBuf, 0, b);
      for (int i = 0; i < n; i++) {
        double y = blk.labels[i];
        double v = blk.weight(i);
        s.weightSum += v;
        int o = i * b;
        for (int j = 0; j < b; j++) {
          double zz = z[o + j] + w[j * p + d];
          double pr = sigmoid(zz);
          s.loss[j] += v * (y > 0.5 ? softplus(-zz) : softplus(zz));
          r[o + j] = v * (pr - y);
          if (hessian) dd[o + j] = v * pr * (1 - pr);
        }
      }
      s.rows += n;
      // grad coef (d x b, ld p) += X R^T ; bias += row sums of R
      be.gemm(false, true, d, b, n, 1.0, blk.features, 0, d, rBuf, 0, b, 1.0, gBuf, 0, p);
      for (int i = 0; i < n; i++) {
        int o = i * b;
        for (int j = 0; j < b; j++) s.grad[j * p + d] += r[o + j];
      }
      if (hessian) {
        Buf kBuf = new Buf.DoubleBuf(k), dBuf = new Buf.DoubleBuf(dd), hBuf = new Buf.DoubleBuf(s.hess);
        for (int i0 = 0; i0 < n; i0 += CHUNK) {
          int m = Math.min(CHUNK, n - i0);
          for (int i = 0; i < m; i++) {
            int xo = (i0 + i) * d, ko = i * pp;
            for (int c = 0; c < p; c++) {
              double xc = c < d ? x[xo + c] : 1.0;
              int base = ko + c * (c + 1) / 2;
              for (int rr = 0; rr <= c; rr++) k[base + rr] = (rr < d ? x[xo + rr] : 1.0) * xc;
            }
          }
          // H (pp x b) += K (pp x m) D^T (m x b); D chunk starts at column i0 of the b x n matrix
          be.gemm(false, true, pp, b, m, 1.0, kBuf, 0, pp, dBuf, i0 * b, b, 1.0, hBuf, 0, pp);
        }
      }
    }
    return s;
  }
}
