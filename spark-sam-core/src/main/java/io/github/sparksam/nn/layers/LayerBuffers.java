package io.github.sparksam.nn.layers;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;

/**
 * One layer's share of a per-task workspace: the im2col matrix (shared by all layers of a network,
 * sized for a tile of rows of the largest; see {@link Layer#colsFor}), the layer's own index buffer
 * (max pooling's argmax), small scratch buffers the layer allocates on first use (a convolution's
 * kernels in im2col order), and the im2col matrix of the layer's last forward input, which a
 * convolution keeps for its backward when it is small enough (a direct convolution keeps its
 * zero-padded rows instead). Nothing is allocated per step.
 */
public final class LayerBuffers {
  final Buf cols;
  final int[] indices;
  private final Buf[] scratch = new Buf[5];
  private Buf kept;
  private Buf keptInput;
  private int keptRows;

  public LayerBuffers(Buf cols, int[] indices) {
    this.cols = cols;
    this.indices = indices;
  }

  /** Scratch buffer {@code slot} of at least {@code len} values, kept for the next call. */
  Buf scratch(ComputeBackend be, int slot, int len) {
    Buf b = scratch[slot];
    if (b == null || b.length() < len) {
      b = be.allocate(len);
      scratch[slot] = b;
    }
    return b;
  }

  /**
   * The buffer in which the layer keeps the im2col matrix of {@code rows} rows of {@code input}
   * (at least {@code len} values); {@link #keptFor} answers for that input until the next call.
   */
  Buf keep(ComputeBackend be, Buf input, int rows, int len) {
    if (kept == null || kept.length() < len) kept = be.allocate(len);
    keptInput = input;
    keptRows = rows;
    return kept;
  }

  /** No kept im2col matrix (the last forward did not keep one). */
  void forget() { keptInput = null; }

  /**
   * The kept im2col matrix if it is of {@code rows} rows of {@code input} (the same buffer the last
   * forward read: a layer's input changes only by the previous layer's forward), else null.
   */
  Buf keptFor(Buf input, int rows) { return input != null && input == keptInput && rows == keptRows ? kept : null; }
}
