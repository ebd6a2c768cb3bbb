package io.github.sparksam.gpu;

import io.github.sparksam.backend.GpuBackendProvider.Probe;
import java.util.Locale;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.runtime.JCuda;
import jcuda.runtime.cudaDeviceProp;

/**
 * The cheap GPU check: {@code cudaGetDeviceCount} (about 0.1 s; needs the NVIDIA driver), the
 * device's properties, then creating and destroying a cuBLAS handle (needs the CUDA toolkit's
 * {@code libcublas.so.12}). Every failure, including {@code UnsatisfiedLinkError} and JCuda's
 * {@code CudaException}, is caught and returned as the reason; nothing here can exit the JVM.
 */
final class CudaProbe {
  private CudaProbe() {}

  static Probe probe(int device) {
    try {
      JCuda.setExceptionsEnabled(true);
      int[] count = new int[1];
      JCuda.cudaGetDeviceCount(count);
      if (count[0] == 0) return Probe.unavailable("no CUDA device visible");
      if (device < 0 || device >= count[0]) {
        return Probe.unavailable("device " + device + " does not exist (" + count[0] + " visible; the gpu discovery "
            + "script must print ordinals as this process sees them, e.g. after CUDA_VISIBLE_DEVICES)");
      }
      JCuda.cudaSetDevice(device);
      cudaDeviceProp prop = new cudaDeviceProp();
      JCuda.cudaGetDeviceProperties(prop, device);
      int[] rt = new int[1], drv = new int[1];
      JCuda.cudaRuntimeGetVersion(rt);
      JCuda.cudaDriverGetVersion(drv);
      JCublas2.setExceptionsEnabled(true);
      cublasHandle h = new cublasHandle();
      JCublas2.cublasCreate(h);
      JCublas2.cublasDestroy(h);
      return Probe.ok(String.format(Locale.ROOT, "%s, compute capability %d.%d, %.1f GiB, CUDA runtime %s, driver %s",
          prop.getName(), prop.major, prop.minor, prop.totalGlobalMem / (double) (1L << 30), version(rt[0]),
          version(drv[0])));
    } catch (Throwable t) {
      return Probe.unavailable(oneLine(t));
    }
  }

  private static String version(int v) { return (v / 1000) + "." + (v % 1000) / 10; }

  static String oneLine(Throwable t) {
    String m = t.getMessage() == null ? "" : t.getMessage().strip().lines().findFirst().orElse("");
    if (m.length() > 300) m = m.substring(0, 300) + "...";
    return t.getClass().getName() + (m.isEmpty() ? "" : ": " + m);
  }
}
