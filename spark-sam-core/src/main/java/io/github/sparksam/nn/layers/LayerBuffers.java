package io.github.sparksam.nn.layers;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.ComputeBackend;

/**
 * One layer's share of a per-task workspace: the im2col matrix (shared by all layers of a network,
 * sized for a tile of rows of the largest; see {@link Layer#colsFor}), the layer's own index buffer
 * (max pooling's argmax) and small scratch buffers the layer allocates on first use (a convolution's
 * kernels in im2col order). Nothing is allocated per step.
 */
public final class LayerBuffers {
  final Buf cols;
  final int[] indices;
  private final Buf[] scratch = new Buf[4];
  private Buf ones;

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

  /** A buffer of at least {@code len} ones, kept for the next call. */
  Buf ones(ComputeBackend be, int len) {
    if (ones == null || ones.length() < len) {
      ones = be.allocate(len);
      double[] one = {1.0};
      for (int i = 0; i < len; i++) ones.setFrom(one, 0, i, 1);
    }
    return ones;
  }
}
