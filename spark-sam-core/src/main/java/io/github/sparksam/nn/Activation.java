package io.github.sparksam.nn;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;
import java.util.Locale;

/** Hidden-layer non-linearity; the derivative is expressed through the activation's output. */
public enum Activation {
  RELU {
    @Override public void forward(ComputeBackend be, Buf z, int len) { be.relu(z, len); }
    @Override public void backward(ComputeBackend be, Buf a, Buf delta, int len) { be.reluBackward(a, delta, len); }
  },
  TANH {
    @Override public void forward(ComputeBackend be, Buf z, int len) { be.tanh(z, len); }
    @Override public void backward(ComputeBackend be, Buf a, Buf delta, int len) { be.tanhBackward(a, delta, len); }
  };

  /** {@code z = f(z)} in place. */
  public abstract void forward(ComputeBackend be, Buf z, int len);

  /** {@code delta *= f'(z)}, expressed through the output {@code a = f(z)}. */
  public abstract void backward(ComputeBackend be, Buf a, Buf delta, int len);

  public static Activation parse(String s) {
    try {
      return valueOf(s.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("activation must be relu or tanh, got '" + s + "'");
    }
  }

  public String paramValue() { return name().toLowerCase(Locale.ROOT); }
}
