package io.github.sparksam.backend;

import dev.ludovic.netlib.blas.BLAS;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Which BLAS {@code dev.ludovic.netlib} actually runs. It silently takes whatever
 * {@code libblas.so.3} resolves to (fast OpenBLAS, or Debian's slow reference BLAS), else the
 * Vector API or plain Java; the difference is 10x on GEMM, so we say which one ran. OpenBLAS picks
 * its kernels from the CPU model unless {@code OPENBLAS_CORETYPE} names them (see
 * {@code bin/openblas-env}); a CPU newer than the library gets its slow SSE3 kernels, so the
 * description names the core type when it is set.
 */
public final class BlasInfo {
  private BlasInfo() {}

  /** For example {@code "JNIBLAS (native libblas.so.3 -> /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3)"}. */
  public static String describe() {
    String impl = BLAS.getInstance().getClass().getSimpleName();
    if (!impl.contains("JNI")) {
      return impl + (impl.contains("Vector") ? " (pure Java, Vector API; install libopenblas0 for native speed)"
          : " (pure Java, slow; install libopenblas0, or add --add-modules=jdk.incubator.vector)");
    }
    String lib = nativeLibrary();
    String kind = lib == null ? "unknown" : lib.contains("openblas") ? "OpenBLAS" : lib.contains("mkl") ? "MKL"
        : lib.contains("blis") ? "BLIS" : lib.contains("atlas") ? "ATLAS" : "reference BLAS (slow; install libopenblas0)";
    String core = System.getenv("OPENBLAS_CORETYPE");
    if (kind.equals("OpenBLAS") && core != null && !core.isBlank()) kind += ", OPENBLAS_CORETYPE=" + core;
    return impl + " (native libblas.so.3 -> " + (lib == null ? "?" : lib) + ", " + kind + ")";
  }

  /** The shared library mapped as libblas in this process (Linux), or null if not found. */
  static String nativeLibrary() {
    try {
      List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
      for (String line : maps) {
        int i = line.indexOf('/');
        if (i < 0 || line.contains("netlibblasjni")) continue;
        String file = line.substring(i);
        if (file.contains("libblas") || file.contains("libopenblas") || file.contains("libmkl")) {
          return Path.of(file).toRealPath().toString();
        }
      }
    } catch (Exception ignored) {
      // not Linux or not readable: fall through
    }
    return null;
  }
}
