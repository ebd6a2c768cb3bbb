package io.github.sparksam.backend;

import java.io.Serializable;

/**
 * The few dense kernels a model family needs for forward/backward on a block of rows. One
 * implementation per precision on the CPU ({@link CpuBackend}); a GPU implementation can slot in
 * behind the same interface. Matrices are column-major; see {@link Buf}.
 */
public interface ComputeBackend extends Serializable {

  Precision precision();

  default Buf allocate(int n) { return Buf.allocate(precision(), n); }

  /** {@code C = alpha * op(A) * op(B) + beta * C}, BLAS semantics with offsets. */
  void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
            Buf a, int aOff, int lda, Buf b, int bOff, int ldb, double beta, Buf c, int cOff, int ldc);

  /** {@code z[:, j] += bias[biasOff .. biasOff+rows)} for each of the {@code cols} columns. */
  void addBias(Buf z, int rows, int cols, Buf bias, int biasOff);

  /** {@code out[outOff + r] += sum_j delta[r, j]}: the bias gradient. */
  void addRowSums(Buf delta, int rows, int cols, Buf out, int outOff);

  void relu(Buf z, int len);

  /** {@code delta *= (a > 0)}, with {@code a} the relu output. */
  void reluBackward(Buf a, Buf delta, int len);

  void tanh(Buf z, int len);

  /** {@code delta *= 1 - a^2}, with {@code a} the tanh output. */
  void tanhBackward(Buf a, Buf delta, int len);

  /**
   * Softmax cross-entropy over {@code n} columns of {@code classes} logits, with label smoothing
   * {@code eps} (targets {@code (1-eps) onehot + eps/classes}). Accumulates the weighted loss and
   * accuracy into {@code stats}; when {@code delta} is non-null writes {@code w_i (p_i - t_i)}
   * (the gradient of the weighted loss sum with respect to the logits). {@code logits} is left
   * unchanged unless it is the same buffer as {@code delta}.
   */
  void softmaxCrossEntropy(Buf logits, int classes, int n, double[] labels, double[] weights, int rowOff,
                           double eps, Buf delta, LossStats stats);

  /** The binary (one logit per row, sigmoid) analogue of {@link #softmaxCrossEntropy}. */
  void sigmoidCrossEntropy(Buf logits, int n, double[] labels, double[] weights, int rowOff,
                           double eps, Buf delta, LossStats stats);

  /** Copies {@code len} elements between buffers of this backend's precision. */
  void copy(Buf src, int srcOff, Buf dst, int dstOff, int len);

  // ---- 2-D sliding windows (#14): convolution as im2col + GEMMs over tiles of rows, pooling ----

  /**
   * im2col of rows {@code [row0, row0 + n)} of {@code x}: column {@code j * P + p} of {@code cols}
   * (a {@code patch x (P n)} column-major matrix from {@code colsOff}) holds the input window of
   * output position {@code p} of row {@code row0 + j}, in {@link Conv2dGeometry#patchOrder()},
   * zeros where it covers padding.
   */
  void im2col(Buf x, int row0, int n, Conv2dGeometry g, Buf cols, int colsOff);

  /**
   * The adjoint of {@link #im2col}: sets rows {@code [row0, row0 + n)} of {@code dx}
   * ({@code inputSize} values per row) to the sum of the windows in {@code cols}.
   */
  void col2im(Buf cols, int n, Conv2dGeometry g, Buf dx, int row0);

  /**
   * Whether {@link #convolveDirect} and {@link #kernelGradientDirect} run for this geometry and
   * number of filters, and beat im2col + GEMM: NCHW input (the network's input, few channels).
   * Default: no.
   */
  default boolean directConvolution(Conv2dGeometry g, int filters) { return false; }

  /** Copies {@code n} NCHW rows of {@code x} into {@code padded} ({@link Conv2dGeometry#paddedSize()} values a row), zero borders included. */
  default void padRows(Buf x, int n, Conv2dGeometry g, Buf padded) {
    throw new UnsupportedOperationException("no direct convolution on " + this);
  }

  /**
   * Direct convolution of {@code n} padded rows ({@link #padRows}): {@code y} (HWC, {@code P filters}
   * per row) {@code = K * x + b} for the kernel ({@code filters x patch}, column-major) at {@code kOff}
   * and the bias at {@code bOff} of {@code w}, or {@code y += K * x} where {@code bOff < 0}. Only where
   * {@link #directConvolution}.
   */
  default void convolveDirect(Buf padded, int n, Conv2dGeometry g, Buf w, int kOff, int bOff, int filters, Buf y) {
    throw new UnsupportedOperationException("no direct convolution on " + this);
  }

  /**
   * Sets {@code acc[0, filters * patch)} to the kernel gradient {@code dy * x^T} of {@link #convolveDirect}
   * over {@code n} padded rows. Only where {@link #directConvolution}.
   */
  default void kernelGradientDirect(Buf padded, Buf dy, int n, Conv2dGeometry g, int filters, Buf acc) {
    throw new UnsupportedOperationException("no direct convolution on " + this);
  }

  /**
   * Max pooling per channel: {@code y} (HWC, {@code P C} per row) and, for each output, the index
   * into {@code x} of its maximum (first on ties), which backward and the R-operator reuse.
   */
  void maxPool(Buf x, int n, Conv2dGeometry g, Buf y, int[] argmax);

  /** {@code y[i] = x[index[i]]} for {@code i < len}. */
  void gather(Buf x, int[] index, int len, Buf y);

  /** Sets {@code dx[0, dxLen)} to zero, then {@code dx[index[i]] += dy[i]} for {@code i < len}. */
  void scatterAdd(Buf dy, int[] index, int len, Buf dx, int dxLen);

  /** Average pooling per channel (padding counts as zeros, as PyTorch's default); output HWC. */
  void avgPool(Buf x, int n, Conv2dGeometry g, Buf y);

  /** The adjoint of {@link #avgPool}: sets {@code dx} from {@code dy}. */
  void avgPoolBackward(Buf dy, int n, Conv2dGeometry g, Buf dx);
}
