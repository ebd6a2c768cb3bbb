package io.github.sparksam.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The computeBackend choice in the core module, where no GPU backend is on the classpath (as in CI). */
class ComputeBackendsTest {

  @Test
  void noProviderInCore() {
    assertNull(ComputeBackends.provider(), "spark-sam-core must not carry a GPU backend");
  }

  @Test
  void cpuIsCpu() {
    ComputeBackends.Choice c = ComputeBackends.choose(ComputeBackends.Mode.CPU, Precision.FLOAT32, null);
    assertSame(CpuBackend.FLOAT32, c.backend());
    assertFalse(c.gpu());
    assertEquals("cpu", c.description());
  }

  @Test
  void autoFallsBackToCpuAndSaysWhy() {
    ComputeBackends.Choice c = ComputeBackends.choose(ComputeBackends.Mode.AUTO, Precision.FLOAT64, "2");
    assertSame(CpuBackend.FLOAT64, c.backend());
    assertFalse(c.gpu());
    assertTrue(c.description().startsWith("cpu (auto: no GPU backend on the classpath"), c.description());
    assertTrue(c.description().contains("Spark assigned this task GPU 2"), c.description());
  }

  @Test
  void gpuFailsClearly() {
    GpuUnavailableException e = assertThrows(GpuUnavailableException.class,
        () -> ComputeBackends.choose(ComputeBackends.Mode.GPU, Precision.FLOAT32, null));
    assertTrue(e.getMessage().startsWith("computeBackend=gpu but no GPU backend on the classpath"), e.getMessage());
    assertTrue(e.getMessage().contains("computeBackend=auto"), e.getMessage());
    GpuUnavailableException d = assertThrows(GpuUnavailableException.class,
        () -> ComputeBackends.checkDriverSide(ComputeBackends.Mode.GPU));
    assertTrue(d.getMessage().contains("spark-sam-gpu"), d.getMessage());
    ComputeBackends.checkDriverSide(ComputeBackends.Mode.AUTO);   // no exception
  }

  @Test
  void parse() {
    assertEquals(ComputeBackends.Mode.GPU, ComputeBackends.Mode.parse(" GPU "));
    assertEquals(ComputeBackends.Mode.AUTO, ComputeBackends.Mode.parse("auto"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ComputeBackends.Mode.parse("tpu"));
    assertTrue(e.getMessage().contains("auto, cpu or gpu"), e.getMessage());
  }

  @Test
  void noTaskNoGpu() {
    assertTrue(TaskGpu.address().isEmpty());
    assertTrue(TaskGpu.device().isEmpty());
  }
}
