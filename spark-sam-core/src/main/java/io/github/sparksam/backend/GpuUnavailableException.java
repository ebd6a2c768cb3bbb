package io.github.sparksam.backend;

/** {@code computeBackend=gpu} was requested where no usable GPU backend is; the message says why. */
public class GpuUnavailableException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public GpuUnavailableException(String message) { super(message); }
}
