package io.github.sparksam.backend;

/**
 * A GPU implementation of {@link ComputeBackend}, found with {@link java.util.ServiceLoader} when
 * its jar (for example {@code spark-sam-gpu}, CUDA through JCuda/cuBLAS) is on the executor's
 * classpath. The core library has no GPU code and no GPU dependency; {@link ComputeBackends}
 * decides between this and {@link CpuBackend}.
 */
public interface GpuBackendProvider {

  /** Short name for log lines and summaries, e.g. {@code "cuda"}. */
  String name();

  /**
   * Whether device {@code device} can run this backend. Called at most once per device and JVM
   * (the answer is cached by {@link ComputeBackends}); must be cheap (well under a second) and
   * must not throw: load failures ({@code UnsatisfiedLinkError}, missing driver or libraries) are
   * returned as an unavailable {@link Probe} with the reason.
   */
  Probe probe(int device);

  /** A backend of precision {@code p} running on device {@code device}; only after a successful probe. */
  ComputeBackend create(Precision p, int device);

  /**
   * Frees the device state (handles, buffers) kept for task threads that have ended; returns how
   * many threads' state was freed. Called when a fit ends; must not throw. Default: none kept.
   */
  default int releaseRetired() { return 0; }

  /** The outcome of {@link #probe}: available, or not with a one-line reason. */
  record Probe(boolean available, String detail) {
    public static Probe ok(String detail) { return new Probe(true, detail); }

    public static Probe unavailable(String reason) { return new Probe(false, reason); }
  }
}
