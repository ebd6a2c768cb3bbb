package io.github.sparksam.nn.layers;

/** Global average pooling: the mean of each channel over the whole {@code H x W} map ({@code C x 1 x 1} out). */
public final class GlobalAvgPoolLayer extends AvgPool2dLayer {
  private static final long serialVersionUID = 1L;

  public GlobalAvgPoolLayer(Shape in, boolean inputChannelsLast) {
    super(in, inputChannelsLast, in.height(), in.width(), 1);
  }

  @Override public String spec() { return "globalavgpool"; }
}
