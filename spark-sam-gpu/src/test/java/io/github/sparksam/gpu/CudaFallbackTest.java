package io.github.sparksam.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.github.sparksam.backend.ComputeBackends;
import io.github.sparksam.backend.CpuBackend;
import io.github.sparksam.backend.GpuBackendProvider;
import io.github.sparksam.backend.GpuUnavailableException;
import io.github.sparksam.backend.Precision;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.testutil.SparkTestBase;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend on the classpath of a machine without a usable GPU (CI): the probe fails
 * cheaply and catchably, {@code auto} picks the CPU and says why, {@code gpu} fails with the reason
 * before any training step. Skipped where a GPU works (then {@code ci/gpu-check.sh} is the test).
 */
class CudaFallbackTest extends SparkTestBase {
  private static GpuBackendProvider.Probe probe;
  private static long probeMillis;

  @BeforeAll
  static void probeOnce() {
    long t0 = System.nanoTime();
    probe = new CudaBackendProvider().probe(0);
    probeMillis = (System.nanoTime() - t0) / 1_000_000;
  }

  @Test
  void providerIsFoundAndTheProbeFailsCheaply() {
    assertInstanceOf(CudaBackendProvider.class, ComputeBackends.provider());
    assumeFalse(probe.available(), "a GPU works here: " + probe.detail());
    assertFalse(probe.detail().isBlank());
    assertTrue(probeMillis < 20_000, "probe took " + probeMillis + " ms");
    // probing again is harmless (JCuda's failures are catchable and repeatable)
    assertFalse(new CudaBackendProvider().probe(0).available());
  }

  @Test
  void autoPicksTheCpuAndSaysWhy() {
    assumeFalse(probe.available(), "a GPU works here");
    ComputeBackends.Choice c = ComputeBackends.choose(ComputeBackends.Mode.AUTO, Precision.FLOAT32, "1");
    assertSame(CpuBackend.FLOAT32, c.backend());
    assertTrue(c.description().startsWith("cpu (auto: cuda cannot use GPU 1: "), c.description());
  }

  @Test
  void gpuFailsClearly() {
    assumeFalse(probe.available(), "a GPU works here");
    GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
        () -> ComputeBackends.choose(ComputeBackends.Mode.GPU, Precision.FLOAT64, null));
    assertTrue(e.getMessage().startsWith("computeBackend=gpu but cuda cannot use GPU 0: "), e.getMessage());
    assertTrue(e.getMessage().contains("computeBackend=auto"), e.getMessage());
  }

  @Test
  void fitWithGpuFailsBeforeAnyStepAndAutoTrainsOnTheCpu() {
    assumeFalse(probe.available(), "a GPU works here");
    AtomicInteger epochs = new AtomicInteger();
    SharpnessAwareClassifier gpu = new SharpnessAwareClassifier().setModelType("softmax").setEpochs(1).setBatchSize(16)
        .setComputeBackend("gpu");
    gpu.setEpochListener((m, net, p) -> epochs.incrementAndGet());
    GpuUnavailableException e = assertThrows(GpuUnavailableException.class, () -> gpu.fit(blobs(40, 2, 2, 1, false)));
    assertTrue(e.getMessage().startsWith("computeBackend=gpu but cuda cannot use GPU 0: "), e.getMessage());
    assertEquals(0, epochs.get());

    SharpnessAwareClassificationModel m = new SharpnessAwareClassifier().setModelType("softmax").setEpochs(1)
        .setBatchSize(16).fit(blobs(40, 2, 2, 1, false));
    assertTrue(m.summary().computeBackend().startsWith("cpu (auto: cuda cannot use GPU 0: "), m.summary().computeBackend());
  }

  @Test
  void span() {
    assertEquals(0, CudaBackend.span(0, 5, 7));
    assertEquals(3, CudaBackend.span(3, 1, 10));
    assertEquals(2 * 10 + 3, CudaBackend.span(3, 3, 10));
  }
}
