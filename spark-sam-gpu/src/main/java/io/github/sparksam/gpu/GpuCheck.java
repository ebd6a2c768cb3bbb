package io.github.sparksam.gpu;

import io.github.sparksam.backend.BlasInfo;
import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.GpuBackendProvider.Probe;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.backend.Precision;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The device check behind {@code ci/gpu-check.sh}: compares {@link CudaBackend} with
 * {@link CpuBackend} on random blocks (raw GEMMs in all transpose cases with offsets, leading
 * dimensions and beta; and a whole MLP forward/backward) in float32 and float64, and times both.
 * Exit status: 0 all within tolerance, 1 a mismatch, 2 no usable GPU (nothing compared).
 *
 * <p>Tolerances are relative Frobenius errors: float32 {@code 1e-4} (a k = 1024 dot product in
 * float32 is good to about {@code sqrt(k) * 6e-8 ~ 2e-6}, and the two sides sum in different
 * orders), float64 {@code 1e-10}.
 */
public final class GpuCheck {
  private GpuCheck() {}

  public static void main(String[] args) {
    boolean harnessOnly = Arrays.asList(args).contains("--cpu-vs-cpu");   // checks this harness without a GPU
    int reps = args.length > 0 && !args[0].startsWith("--") ? Integer.parseInt(args[0]) : 10;
    Probe probe = harnessOnly ? Probe.ok("--cpu-vs-cpu: the CPU backend stands in for CUDA") : CudaProbe.probe(0);
    System.out.println("CPU BLAS: " + BlasInfo.describe());
    System.out.println("CUDA probe (device 0): " + (probe.available() ? "OK " : "UNAVAILABLE ") + probe.detail());
    if (!probe.available()) {
      System.out.println("RESULT: no usable GPU; nothing compared");
      System.exit(2);
    }
    boolean ok = true;
    for (Precision p : Precision.values()) {
      double tol = p == Precision.FLOAT32 ? 1e-4 : 1e-10;
      ComputeBackend cpu = CpuBackend.of(p), gpu = harnessOnly ? CpuBackend.of(p) : new CudaBackend(p, 0);
      System.out.printf(Locale.ROOT, "%n== %s (tolerance %.0e)%n", p.paramValue(), tol);
      System.out.printf(Locale.ROOT, "%-44s %12s %12s %12s %8s%n", "case", "rel.error", "cpu ms", "cuda ms", "speedup");
      int[][] shapes = {{256, 1024, 784}, {10, 1024, 256}, {784, 256, 1024}, {1024, 1024, 1024}, {3, 5, 7}};
      long seed = 1;
      for (int[] s : shapes) {
        for (int t = 0; t < 4; t++) {
          boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
          ok &= gemmCase(cpu, gpu, p, s[0], s[1], s[2], ta, tb, tol, reps, seed++);
        }
      }
      ok &= networkCase(cpu, gpu, p, 784, new int[] {512, 256}, 10, 1024, tol, reps);
      ok &= networkCase(cpu, gpu, p, 3072, new int[] {1024}, 100, 512, tol, reps);
    }
    String what = harnessOnly ? "harness only, CPU vs CPU: no GPU was used" : "CUDA backend matches the CPU backend";
    System.out.println(ok ? "\nRESULT: PASS (" + what + ")" : "\nRESULT: FAIL (see the lines marked FAIL)");
    System.exit(ok ? 0 : 1);
  }

  private static boolean gemmCase(ComputeBackend cpu, ComputeBackend gpu, Precision p, int m, int n, int k,
                                  boolean ta, boolean tb, double tol, int reps, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int aOff = 3, bOff = 5, cOff = 7;                       // offsets and padded leading dimensions on purpose
    int lda = (ta ? k : m) + 2, ldb = (tb ? n : k) + 1, ldc = m + 3;
    Buf a = random(p, aOff + lda * (ta ? m : k), r);
    Buf b = random(p, bOff + ldb * (tb ? k : n), r);
    Buf c0 = random(p, cOff + ldc * n, r);
    double alpha = 0.75, beta = 0.5;
    Buf cc = copy(p, c0), cg = copy(p, c0);
    cpu.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, cc, cOff, ldc);
    gpu.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, cg, cOff, ldc);
    double err = relErr(cg, cc);                            // whole buffers: the gaps and offsets must be untouched
    boolean timed = (m >= 256 || k >= 256) && !ta && !tb;
    double tc = Double.NaN, tg = Double.NaN;
    if (timed) {
      tc = median(reps, () -> cpu.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, 0.0, cc, cOff, ldc));
      tg = median(reps, () -> gpu.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, 0.0, cg, cOff, ldc));
    }
    return report(String.format(Locale.ROOT, "gemm %s%s m=%d n=%d k=%d", ta ? "T" : "N", tb ? "T" : "N", m, n, k),
        err, tol, tc, tg);
  }

  private static boolean networkCase(ComputeBackend cpu, ComputeBackend gpu, Precision p, int d, int[] hidden,
                                     int classes, int n, double tol, int reps) {
    Network net = Network.mlp(d, hidden, classes, Activation.RELU, Network.Head.MULTINOMIAL);
    SplittableRandom r = new SplittableRandom(42);
    Buf params = Buf.allocate(p, net.numParams());
    double[] w = net.initialParams(7);
    params.setFrom(w, 0, 0, w.length);
    Buf x = random(p, d * n, r);
    double[] labels = new double[n];
    for (int i = 0; i < n; i++) labels[i] = r.nextInt(classes);
    Network.Workspace wc = net.newWorkspace(cpu, n), wg = net.newWorkspace(gpu, n);
    Buf gc = Buf.allocate(p, net.numParams()), gg = Buf.allocate(p, net.numParams());
    LossStats sc = new LossStats(), sg = new LossStats();
    net.lossAndGradient(params, x, n, labels, null, 0, 0.0, gc, wc, sc);
    net.lossAndGradient(params, x, n, labels, null, 0, 0.0, gg, wg, sg);
    double err = Math.max(relErr(gg, gc), Math.abs(sg.lossSum - sc.lossSum) / Math.abs(sc.lossSum));
    double tc = median(reps, () -> net.lossAndGradient(params, x, n, labels, null, 0, 0.0, gc, wc, new LossStats()));
    double tg = median(reps, () -> net.lossAndGradient(params, x, n, labels, null, 0, 0.0, gg, wg, new LossStats()));
    return report("mlp " + d + "-" + Arrays.toString(hidden) + "-" + classes + " fwd+bwd n=" + n, err, tol, tc, tg);
  }

  private static boolean report(String name, double err, double tol, double cpuMs, double gpuMs) {
    boolean pass = err <= tol && Double.isFinite(err);
    System.out.printf(Locale.ROOT, "%-44s %12.3e %12s %12s %8s%s%n", name, err, ms(cpuMs), ms(gpuMs),
        Double.isNaN(cpuMs) ? "" : String.format(Locale.ROOT, "%.2fx", cpuMs / gpuMs), pass ? "" : "   FAIL");
    return pass;
  }

  private static String ms(double v) { return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.3f", v); }

  private static double median(int reps, Runnable r) {
    r.run();                                                 // warm-up (JIT, device buffers, cuBLAS kernels)
    double[] t = new double[Math.max(1, reps)];
    for (int i = 0; i < t.length; i++) {
      long t0 = System.nanoTime();
      r.run();
      t[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(t);
    return t[t.length / 2];
  }

  private static Buf random(Precision p, int len, SplittableRandom r) {
    Buf b = Buf.allocate(p, len);
    for (int i = 0; i < len; i++) b.set(i, r.nextDouble() * 2 - 1);
    return b;
  }

  private static Buf copy(Precision p, Buf src) {
    Buf b = Buf.allocate(p, src.length());
    for (int i = 0; i < src.length(); i++) b.set(i, src.get(i));
    return b;
  }

  static double relErr(Buf got, Buf want) {
    double num = 0, den = 0;
    for (int i = 0; i < want.length(); i++) {
      double dlt = got.get(i) - want.get(i);
      num += dlt * dlt;
      den += want.get(i) * want.get(i);
    }
    return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
  }
}
