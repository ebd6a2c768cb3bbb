package io.github.sparksam.gpu;

import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.GpuBackendProvider;
import io.github.sparksam.backend.Precision;

/** Registers {@link CudaBackend} with spark-sam's {@code computeBackend} choice (ServiceLoader). */
public final class CudaBackendProvider implements GpuBackendProvider {
  @Override public String name() { return "cuda"; }

  @Override public Probe probe(int device) { return CudaProbe.probe(device); }

  @Override public ComputeBackend create(Precision p, int device) { return new CudaBackend(p, device); }

  @Override public int releaseRetired() {
    try {
      return CudaBackend.releaseRetired();
    } catch (LinkageError e) {   // JCuda's natives never loaded here: nothing was allocated
      return 0;
    }
  }
}
