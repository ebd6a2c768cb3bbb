package io.github.sparksam.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the {@link ComputeBackend} of a task from the {@code computeBackend} setting:
 * <ul>
 *   <li>{@code cpu}: {@link CpuBackend}, no probing;</li>
 *   <li>{@code auto}: a GPU backend if a {@link GpuBackendProvider} is on the classpath and its probe
 *       of the task's GPU succeeds, else the CPU, with one log line per JVM saying why;</li>
 *   <li>{@code gpu}: the GPU backend or a {@link GpuUnavailableException} naming the reason.</li>
 * </ul>
 * The device is the GPU Spark assigned to the task ({@link TaskGpu}), else device 0. Probes run
 * once per device and JVM (so once per executor) and are cached, failures included: a failed
 * native load cannot be retried in the same JVM anyway.
 */
public final class ComputeBackends {
  private static final Logger LOG = LoggerFactory.getLogger(ComputeBackends.class);

  private ComputeBackends() {}

  /** The {@code computeBackend} values. */
  public static final String[] MODES = {"auto", "cpu", "gpu"};

  /** The {@code computeBackend} setting. */
  public enum Mode {
    AUTO, CPU, GPU;

    public static Mode parse(String s) {
      if (s == null) throw new IllegalArgumentException("computeBackend must be auto, cpu or gpu, got null");
      switch (s.trim().toLowerCase(Locale.ROOT)) {
        case "auto": return AUTO;
        case "cpu": return CPU;
        case "gpu": case "cuda": return GPU;
        default: throw new IllegalArgumentException("computeBackend must be auto, cpu or gpu, got '" + s + "'");
      }
    }

    public String paramValue() { return name().toLowerCase(Locale.ROOT); }
  }

  /**
   * What was chosen for a task, and why.
   *
   * @param backend     the backend
   * @param gpu         whether it runs on a GPU
   * @param device      the CUDA device (GPU backends), else -1
   * @param taskGpu     the GPU address Spark assigned the task, or null if none
   * @param description one line, e.g. {@code "cuda device 0 (NVIDIA H200, ...)"} or
   *                    {@code "cpu (auto: no GPU backend on the classpath ...)"}
   */
  public record Choice(ComputeBackend backend, boolean gpu, int device, String taskGpu, String description)
      implements java.io.Serializable {}

  private static final Map<Integer, GpuBackendProvider.Probe> PROBES = new ConcurrentHashMap<>();
  private static final Map<String, ComputeBackend> GPU_BACKENDS = new ConcurrentHashMap<>();
  private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();
  private static volatile List<GpuBackendProvider> providers;

  /** The choice for the running task (its assigned GPU, if any). */
  public static Choice forTask(String mode, Precision precision) {
    return choose(Mode.parse(mode), precision, TaskGpu.address().orElse(null));
  }

  /**
   * The choice for {@code mode} on this JVM, for the GPU address {@code taskGpu} (null: none
   * assigned, device 0).
   */
  public static Choice choose(Mode mode, Precision precision, String taskGpu) {
    if (mode == Mode.CPU) {
      return new Choice(CpuBackend.of(precision), false, -1, taskGpu,
          "cpu" + (taskGpu == null ? "" : " (computeBackend=cpu; Spark assigned this task GPU " + taskGpu + ")"));
    }
    GpuBackendProvider provider = provider();
    String reason;
    int device = -1;
    if (provider == null) {
      reason = "no GPU backend on the classpath (attach spark-sam-gpu and the JCuda jars, see docs/GPU.md)";
    } else {
      device = taskGpu == null ? 0 : parseDevice(taskGpu);
      GpuBackendProvider.Probe probe = PROBES.computeIfAbsent(device, d -> safeProbe(provider, d));
      if (probe.available()) {
        int dev = device;
        ComputeBackend be = GPU_BACKENDS.computeIfAbsent(provider.name() + ":" + precision + ":" + dev,
            k -> provider.create(precision, dev));
        String desc = provider.name() + " device " + dev + " (" + probe.detail() + ")";
        if (LOGGED.add("gpu:" + dev)) {
          LOG.info("spark-sam: computeBackend={}: using {}{}", mode.paramValue(), desc,
              taskGpu == null ? "" : " (Spark assigned this task GPU " + taskGpu + ")");
        }
        return new Choice(be, true, dev, taskGpu, desc);
      }
      reason = provider.name() + " cannot use GPU " + device + ": " + probe.detail();
    }
    if (mode == Mode.GPU) {
      throw new GpuUnavailableException("computeBackend=gpu but " + reason + " on host " + host()
          + "; use computeBackend=auto to fall back to the CPU, or cpu");
    }
    String desc = "cpu (auto: " + reason + (taskGpu == null ? "" : "; Spark assigned this task GPU " + taskGpu) + ")";
    if (LOGGED.add("cpu:" + reason)) LOG.warn("spark-sam: computeBackend=auto: using the CPU backend: {}", reason);
    return new Choice(CpuBackend.of(precision), false, -1, taskGpu, desc);
  }

  /**
   * A check that needs no executor: with {@code gpu}, that some GPU backend is on this JVM's
   * classpath (a driver without GPU jars almost always means executors without them). Throws
   * {@link GpuUnavailableException}; the device itself is probed on the executors.
   */
  public static void checkDriverSide(Mode mode) {
    if (mode == Mode.GPU && provider() == null) {
      throw new GpuUnavailableException("computeBackend=gpu but no GPU backend is on the classpath (attach "
          + "spark-sam-gpu and the JCuda jars to the application, see docs/GPU.md); use computeBackend=auto or cpu");
    }
  }

  /**
   * Frees the GPU state of task threads that have ended, if a GPU provider was loaded in this JVM
   * (never loads one); returns how many threads' state was freed.
   */
  public static int releaseRetiredGpuState() {
    List<GpuBackendProvider> ps = providers;
    if (ps == null) return 0;
    int n = 0;
    for (GpuBackendProvider p : ps) {
      try {
        n += p.releaseRetired();
      } catch (RuntimeException | LinkageError e) {
        LOG.warn("spark-sam: releasing GPU state failed: {}", e.toString());
      }
    }
    return n;
  }

  /** The GPU provider on the classpath, or null. */
  public static GpuBackendProvider provider() {
    List<GpuBackendProvider> ps = providers;
    if (ps == null) {
      synchronized (ComputeBackends.class) {
        if (providers == null) providers = load();
        ps = providers;
      }
    }
    return ps.isEmpty() ? null : ps.get(0);
  }

  private static List<GpuBackendProvider> load() {
    List<GpuBackendProvider> out = new ArrayList<>();
    ClassLoader[] loaders = {Thread.currentThread().getContextClassLoader(), ComputeBackends.class.getClassLoader()};
    for (ClassLoader cl : loaders) {
      if (cl == null || !out.isEmpty()) continue;
      try {
        for (GpuBackendProvider p : ServiceLoader.load(GpuBackendProvider.class, cl)) out.add(p);
      } catch (ServiceConfigurationError | LinkageError e) {
        LOG.warn("spark-sam: cannot load the GPU backend provider: {}", e.toString());
      }
    }
    return out;
  }

  private static GpuBackendProvider.Probe safeProbe(GpuBackendProvider p, int device) {
    long t0 = System.nanoTime();
    GpuBackendProvider.Probe r;
    try {
      r = p.probe(device);
    } catch (Throwable t) {                 // a provider must not throw, but a probe must never kill a task
      r = GpuBackendProvider.Probe.unavailable(t.toString());
    }
    LOG.debug("spark-sam: {} probe of device {} took {} ms: {}", p.name(), device, (System.nanoTime() - t0) / 1_000_000, r);
    return r;
  }

  private static int parseDevice(String address) {
    try {
      return Integer.parseInt(address.trim());
    } catch (NumberFormatException e) {
      throw new IllegalStateException("GPU address '" + address + "' is not a CUDA device ordinal");
    }
  }

  private static String host() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return "?";
    }
  }

  /** Forgets cached probes and providers (tests only). */
  static void resetForTests() {
    PROBES.clear();
    GPU_BACKENDS.clear();
    LOGGED.clear();
    providers = null;
  }
}
