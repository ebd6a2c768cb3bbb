package io.github.sparksam.nn.layers;

import io.github.sparksam.backend.Buf;

/**
 * One layer's share of a per-task workspace: the im2col matrix (shared by all layers of a network,
 * sized for the largest; recomputed where a later layer overwrote it) and the layer's own index
 * buffer (max pooling's argmax). Sized once per block shape; nothing is allocated per step.
 */
public final class LayerBuffers {
  final Buf cols;
  final int[] indices;

  public LayerBuffers(Buf cols, int[] indices) {
    this.cols = cols;
    this.indices = indices;
  }
}
