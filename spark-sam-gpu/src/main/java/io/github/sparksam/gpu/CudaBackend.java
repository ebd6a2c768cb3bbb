package io.github.sparksam.gpu;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.Conv2dGeometry;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.backend.Precision;
import io.github.sparksam.backend.TaskGpu;
import java.util.HashMap;
import java.util.Map;
import jcuda.Pointer;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasOperation;
import jcuda.runtime.JCuda;
import jcuda.runtime.cudaMemcpyKind;

/**
 * GEMMs on an NVIDIA GPU with cuBLAS (through JCuda); everything else on the CPU.
 *
 * <p>Why this split: the buffers of spark-sam's {@link ComputeBackend} live in JVM arrays (the
 * cached blocks, the broadcast weights, the rules' vector math), and the element-wise kernels
 * (bias, activations, softmax) are O(rows x units), memory-bound and cheaper to run where the data
 * is than to ship. The GEMMs are the O(rows x units x inputs) part; each call copies its operands to
 * the device, multiplies, and copies the result back. So this pays off for wide layers and large
 * chunks ({@code ci/gpu-check.sh} times both backends), not for small models.
 *
 * <p>Device: the GPU Spark assigned the running task ({@link TaskGpu}), else the device given at
 * construction. Each thread keeps, per device, a cuBLAS handle and three growable device buffers
 * while it lives (Spark reuses task threads), so nothing is allocated per call once warm. When a
 * task thread retires (Spark's task pool ends idle threads) its handles and buffers are freed by
 * {@link #releaseRetired}, which runs when a task that used the GPU completes (a task-completion
 * listener), when another thread starts using the GPU, and when a fit ends.
 */
public final class CudaBackend implements ComputeBackend {
  private static final long serialVersionUID = 1L;

  private final Precision precision;
  private final int defaultDevice;
  private final CpuBackend cpu;

  public CudaBackend(Precision precision, int device) {
    this.precision = precision;
    this.defaultDevice = device;
    this.cpu = CpuBackend.of(precision);
  }

  @Override public Precision precision() { return precision; }

  /** The device the calling thread's GEMMs go to. */
  public int device() { return TaskGpu.device().orElse(defaultDevice); }

  /** Per-thread, per-device cuBLAS state. */
  private static final class Ctx {
    final int device;
    final cublasHandle handle = new cublasHandle();
    final Pointer[] bufs = {new Pointer(), new Pointer(), new Pointer()};
    final long[] bytes = new long[3];

    Ctx(int device) {
      this.device = device;
      JCuda.setExceptionsEnabled(true);
      JCublas2.setExceptionsEnabled(true);
      JCuda.cudaSetDevice(device);
      JCublas2.cublasCreate(handle);
    }

    Pointer buf(int i, long need) {
      if (bytes[i] < need) {
        if (bytes[i] > 0) JCuda.cudaFree(bufs[i]);
        long alloc = Math.max(need, Math.min(2 * bytes[i], need + (64L << 20)));
        bufs[i] = new Pointer();
        JCuda.cudaMalloc(bufs[i], alloc);
        bytes[i] = alloc;
      }
      return bufs[i];
    }

    /** Destroys the handle and frees the buffers (from any thread: handles are not bound to a thread). */
    void free() {
      JCuda.cudaSetDevice(device);
      for (int i = 0; i < bufs.length; i++) {
        if (bytes[i] > 0) JCuda.cudaFree(bufs[i]);
        bytes[i] = 0;
      }
      JCublas2.cublasDestroy(handle);
    }
  }

  /** One thread's contexts, and the last task that registered the release listener on it. */
  private static final class Owned {
    final java.lang.ref.WeakReference<Thread> owner = new java.lang.ref.WeakReference<>(Thread.currentThread());
    final Map<Integer, Ctx> byDevice = new HashMap<>();
    long listenedTask = -1;
  }

  /** Every thread's contexts, so that those of retired threads can be freed. */
  private static final java.util.Set<Owned> ALL = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private static final ThreadLocal<Owned> CTX = ThreadLocal.withInitial(() -> {
    Owned o = new Owned();
    ALL.add(o);
    releaseRetired();
    return o;
  });

  private static Ctx ctx(int device) {
    JCuda.cudaSetDevice(device);   // the current device is per host thread
    Owned o = CTX.get();
    org.apache.spark.TaskContext tc = org.apache.spark.TaskContext.get();
    if (tc != null && tc.taskAttemptId() != o.listenedTask) {
      o.listenedTask = tc.taskAttemptId();
      tc.addTaskCompletionListener(new ReleaseRetiredListener());
    }
    return o.byDevice.computeIfAbsent(device, Ctx::new);
  }

  /** Frees the contexts of threads that have ended; returns how many threads' contexts were freed. */
  public static int releaseRetired() {
    int n = 0;
    for (Owned o : ALL) {
      Thread t = o.owner.get();
      if (t != null && t.isAlive()) continue;
      if (!ALL.remove(o)) continue;   // another thread is freeing it
      for (Ctx c : o.byDevice.values()) {
        try {
          c.free();
        } catch (RuntimeException e) {
          // a failing free (device reset, driver gone) must not fail a task; nothing more can be done
        }
      }
      o.byDevice.clear();
      n++;
    }
    return n;
  }

  /** Threads whose contexts are held (alive or not yet swept). */
  public static int threadsWithContexts() { return ALL.size(); }

  private static final class ReleaseRetiredListener implements org.apache.spark.util.TaskCompletionListener {
    @Override public void onTaskCompletion(org.apache.spark.TaskContext context) { releaseRetired(); }
  }

  /** Elements spanned by a column-major {@code rows x cols} matrix with leading dimension {@code ld}. */
  static long span(int rows, int cols, int ld) {
    return rows == 0 || cols == 0 ? 0 : (long) (cols - 1) * ld + rows;
  }

  @Override public void gemm(boolean transA, boolean transB, int m, int n, int k, double alpha,
                             Buf a, int aOff, int lda, Buf b, int bOff, int ldb, double beta, Buf c, int cOff, int ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) {   // C = beta C: nothing for the GPU to do
      cpu.gemm(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
      return;
    }
    int dev = device();
    Ctx cx = ctx(dev);
    long aLen = span(transA ? k : m, transA ? m : k, lda);
    long bLen = span(transB ? n : k, transB ? k : n, ldb);
    long cLen = span(m, n, ldc);
    int es = precision == Precision.FLOAT32 ? Float.BYTES : Double.BYTES;
    Pointer dA = cx.buf(0, aLen * es), dB = cx.buf(1, bLen * es), dC = cx.buf(2, cLen * es);
    int h2d = cudaMemcpyKind.cudaMemcpyHostToDevice;
    JCuda.cudaMemcpy(dA, host(a, aOff), aLen * es, h2d);
    JCuda.cudaMemcpy(dB, host(b, bOff), bLen * es, h2d);
    // C is copied back over its whole span: upload it too when beta != 0 or when its columns have gaps
    if (beta != 0 || ldc != m) JCuda.cudaMemcpy(dC, host(c, cOff), cLen * es, h2d);
    int opA = transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    int opB = transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N;
    if (precision == Precision.FLOAT32) {
      JCublas2.cublasSgemm(cx.handle, opA, opB, m, n, k, Pointer.to(new float[] {(float) alpha}), dA, lda, dB, ldb,
          Pointer.to(new float[] {(float) beta}), dC, ldc);
    } else {
      JCublas2.cublasDgemm(cx.handle, opA, opB, m, n, k, Pointer.to(new double[] {alpha}), dA, lda, dB, ldb,
          Pointer.to(new double[] {beta}), dC, ldc);
    }
    // synchronous on the default stream: waits for the GEMM
    JCuda.cudaMemcpy(host(c, cOff), dC, cLen * es, cudaMemcpyKind.cudaMemcpyDeviceToHost);
  }

  private Pointer host(Buf b, int off) {
    if (precision == Precision.FLOAT32) return Pointer.to(((Buf.FloatBuf) b).a).withByteOffset((long) off * Float.BYTES);
    return Pointer.to(((Buf.DoubleBuf) b).a).withByteOffset((long) off * Double.BYTES);
  }

  // ---- element-wise work and the loss heads: on the CPU, where the buffers are
  @Override public void addBias(Buf z, int rows, int cols, Buf bias, int biasOff) { cpu.addBias(z, rows, cols, bias, biasOff); }

  @Override public void addRowSums(Buf delta, int rows, int cols, Buf out, int outOff) {
    cpu.addRowSums(delta, rows, cols, out, outOff);
  }

  @Override public void relu(Buf z, int len) { cpu.relu(z, len); }

  @Override public void reluBackward(Buf a, Buf delta, int len) { cpu.reluBackward(a, delta, len); }

  @Override public void tanh(Buf z, int len) { cpu.tanh(z, len); }

  @Override public void tanhBackward(Buf a, Buf delta, int len) { cpu.tanhBackward(a, delta, len); }

  @Override public void softmaxCrossEntropy(Buf logits, int classes, int n, double[] labels, double[] weights, int rowOff,
                                            double eps, Buf delta, LossStats stats) {
    cpu.softmaxCrossEntropy(logits, classes, n, labels, weights, rowOff, eps, delta, stats);
  }

  @Override public void sigmoidCrossEntropy(Buf logits, int n, double[] labels, double[] weights, int rowOff, double eps,
                                            Buf delta, LossStats stats) {
    cpu.sigmoidCrossEntropy(logits, n, labels, weights, rowOff, eps, delta, stats);
  }

  @Override public void copy(Buf src, int srcOff, Buf dst, int dstOff, int len) { cpu.copy(src, srcOff, dst, dstOff, len); }

  // #14: sliding-window kernels run on the host through the CPU implementation (no CUDA kernels yet)
  @Override public void im2col(Buf x, int row0, int n, Conv2dGeometry g, Buf cols, int colsOff) {
    cpu.im2col(x, row0, n, g, cols, colsOff);
  }

  @Override public void col2im(Buf cols, int n, Conv2dGeometry g, Buf dx, int row0) { cpu.col2im(cols, n, g, dx, row0); }

  @Override public void maxPool(Buf x, int n, Conv2dGeometry g, Buf y, int[] argmax) { cpu.maxPool(x, n, g, y, argmax); }

  @Override public void gather(Buf x, int[] index, int len, Buf y) { cpu.gather(x, index, len, y); }

  @Override public void scatterAdd(Buf dy, int[] index, int len, Buf dx, int dxLen) { cpu.scatterAdd(dy, index, len, dx, dxLen); }

  @Override public void avgPool(Buf x, int n, Conv2dGeometry g, Buf y) { cpu.avgPool(x, n, g, y); }

  @Override public void avgPoolBackward(Buf dy, int n, Conv2dGeometry g, Buf dx) { cpu.avgPoolBackward(dy, n, g, dx); }

  @Override public String toString() { return "CudaBackend(" + precision.paramValue() + ", device " + defaultDevice + ")"; }
}
