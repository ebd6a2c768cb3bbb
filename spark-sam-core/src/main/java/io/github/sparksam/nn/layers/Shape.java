package io.github.sparksam.nn.layers;

import java.io.Serializable;

/**
 * What one row looks like between layers: {@code channels x height x width}; a flat vector of
 * {@code d} values is {@code d x 1 x 1}. The network's input is stored NCHW per row (the cached
 * block's layout); convolution and pooling outputs are stored HWC (see
 * {@link io.github.sparksam.backend.Conv2dGeometry}); the two coincide for flat shapes.
 */
public record Shape(int channels, int height, int width) implements Serializable {
  public Shape {
    if (channels < 1 || height < 1 || width < 1) {
      throw new IllegalArgumentException("shape dimensions must be >= 1, got " + channels + "x" + height + "x" + width);
    }
  }

  public static Shape flat(int size) { return new Shape(size, 1, 1); }

  /** Values per row. */
  public int size() { return channels * height * width; }

  public boolean isFlat() { return height == 1 && width == 1; }

  /**
   * Parses {@code "C,H,W"} (or {@code CxHxW}); an error names the bad value.
   */
  public static Shape parse(String s) {
    String[] parts = s.trim().split("\\s*[,x]\\s*");
    if (parts.length != 3) {
      throw new IllegalArgumentException("input shape must be channels,height,width (e.g. 1,28,28), got '" + s + "'");
    }
    int[] v = new int[3];
    for (int i = 0; i < 3; i++) {
      try {
        v[i] = Integer.parseInt(parts[i]);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("input shape '" + s + "': '" + parts[i] + "' is not an integer");
      }
      if (v[i] < 1) throw new IllegalArgumentException("input shape '" + s + "': every dimension must be >= 1");
    }
    return new Shape(v[0], v[1], v[2]);
  }

  @Override public String toString() { return channels + "x" + height + "x" + width; }
}
