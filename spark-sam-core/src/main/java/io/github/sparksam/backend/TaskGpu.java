package io.github.sparksam.backend;

import java.util.OptionalInt;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The GPU Spark assigned to the running task ({@code spark.task.resource.gpu.amount} with a
 * discovery script), read from {@link TaskContext#resources()}. With several addresses (a task
 * given more than one GPU) the first is used; outside a task, or when the application requests no
 * {@code gpu} resource, there is none.
 */
public final class TaskGpu {
  private TaskGpu() {}

  /** The resource name Spark's GPU scheduling uses. */
  public static final String RESOURCE = "gpu";

  /** The address string Spark assigned (e.g. {@code "0"}), if any. */
  public static java.util.Optional<String> address() {
    TaskContext tc = TaskContext.get();
    if (tc == null) return java.util.Optional.empty();
    ResourceInformation info = tc.resourcesJMap().get(RESOURCE);
    if (info == null || info.addresses().length == 0) return java.util.Optional.empty();
    return java.util.Optional.of(info.addresses()[0]);
  }

  /**
   * The assigned GPU as a CUDA device ordinal. Discovery scripts normally print ordinals
   * ({@code nvidia-smi --query-gpu=index}); an address that is not an integer is an error, since
   * guessing a device would break the isolation Spark's scheduling promises.
   */
  public static OptionalInt device() {
    java.util.Optional<String> a = address();
    if (a.isEmpty()) return OptionalInt.empty();
    try {
      return OptionalInt.of(Integer.parseInt(a.get().trim()));
    } catch (NumberFormatException e) {
      throw new IllegalStateException("Spark assigned this task GPU address '" + a.get() + "', which is not a CUDA "
          + "device ordinal; make the gpu discovery script print device indices (nvidia-smi --query-gpu=index)");
    }
  }
}
