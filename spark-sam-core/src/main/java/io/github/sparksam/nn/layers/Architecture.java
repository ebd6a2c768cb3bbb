package io.github.sparksam.nn.layers;

import io.github.sparksam.nn.Activation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * The {@code layers} specification of a convolutional network: comma-separated items, each a
 * layer kind and its numbers, case-insensitive:
 * <pre>
 *   conv F KxK [stride S] [pad P]   F output channels, K x K kernel (or KhxKw; "conv 16 5" = 5x5),
 *                                   stride default 1, zero padding default 0; followed by the activation
 *   maxpool K [stride S]            max over K x K windows, stride default K
 *   avgpool K [stride S]            mean over K x K windows, stride default K
 *   globalavgpool                   mean of each channel (alias: gap)
 *   flatten                         the row as a flat vector (implied before the first dense)
 *   dense N                         N units, followed by the activation
 * </pre>
 * for example {@code conv 16 5x5 pad 2, maxpool 2, conv 32 5x5 pad 2, maxpool 2, dense 128}. The
 * output layer (one logit per class; one for the binomial head) is always appended and not listed.
 * An error names the item and the token that is wrong.
 */
public final class Architecture {
  private final List<Layer> layers;
  private final String canonical;

  private Architecture(List<Layer> layers, String canonical) {
    this.layers = Collections.unmodifiableList(layers);
    this.canonical = canonical;
  }

  /** The whole stack, activations, implied flatten and the output layer included. */
  public List<Layer> layers() { return layers; }

  /** The specification in normal form (what is persisted and printed). */
  public String canonical() { return canonical; }

  /** Parses {@code spec} and builds the layers for {@code input}, ending with {@code outputs} logits. */
  public static Architecture build(String spec, Shape input, int outputs, Activation activation) {
    if (spec == null || spec.isBlank()) throw new IllegalArgumentException("layers is empty; give e.g. 'conv 16 5x5, maxpool 2, dense 64'");
    List<Layer> out = new ArrayList<>();
    List<String> items = new ArrayList<>();
    Shape shape = input;
    boolean channelsLast = false;
    boolean flat = false;
    String[] parts = spec.split(",");
    for (int i = 0; i < parts.length; i++) {
      String item = parts[i].trim();
      Item it = new Item(item, i + 1);
      String kind = it.next("a layer kind").toLowerCase(Locale.ROOT);
      Layer layer;
      switch (kind) {
        case "conv" -> {
          it.requireSpatial(flat);
          int filters = it.positive("the number of output channels");
          int[] k = it.kernel();
          int stride = 1, pad = 0;
          while (it.hasNext()) {
            String opt = it.next("stride or pad").toLowerCase(Locale.ROOT);
            if (opt.equals("stride")) stride = it.positive("the stride");
            else if (opt.equals("pad") || opt.equals("padding")) pad = it.nonNegative("the padding");
            else throw it.bad(opt, "expected 'stride' or 'pad'");
          }
          int st = stride, pd = pad;
          boolean cl = channelsLast;
          layer = it.geometry(() -> new Conv2dLayer(shapeOf(out, input), cl, filters, k[0], k[1], st, pd));
        }
        case "maxpool", "avgpool" -> {
          it.requireSpatial(flat);
          int k = it.positive("the window size");
          int stride = k;
          if (it.hasNext()) {
            String opt = it.next("stride").toLowerCase(Locale.ROOT);
            if (!opt.equals("stride")) throw it.bad(opt, "expected 'stride'");
            stride = it.positive("the stride");
          }
          int s = stride;
          boolean cl = channelsLast;
          layer = it.geometry(() -> kind.equals("maxpool") ? new MaxPool2dLayer(shapeOf(out, input), cl, k, s)
              : new AvgPool2dLayer(shapeOf(out, input), cl, k, s));
        }
        case "globalavgpool", "gap" -> {
          it.requireSpatial(flat);
          layer = new GlobalAvgPoolLayer(shape, channelsLast);
        }
        case "flatten" -> {
          if (flat) throw it.bad(kind, "the rows are already flat here");
          layer = new FlattenLayer(shape);
          flat = true;
        }
        case "dense" -> {
          if (!flat) {
            out.add(new FlattenLayer(shape));
            flat = true;
          }
          layer = new DenseLayer(shape, it.positive("the number of units"));
        }
        default -> throw it.bad(kind, "expected conv, maxpool, avgpool, globalavgpool, flatten or dense");
      }
      it.end();
      out.add(layer);
      items.add(layer.spec());
      if (!(layer instanceof FlattenLayer) && !(layer instanceof DenseLayer)) channelsLast = true;
      shape = layer.outputShape();
      if (layer instanceof Conv2dLayer || layer instanceof DenseLayer) out.add(new ActivationLayer(shape, activation));
    }
    if (!flat) out.add(new FlattenLayer(shape));
    out.add(new DenseLayer(out.get(out.size() - 1).outputShape(), outputs));
    return new Architecture(out, String.join(", ", items));
  }

  private static Shape shapeOf(List<Layer> built, Shape input) {
    return built.isEmpty() ? input : built.get(built.size() - 1).outputShape();
  }

  /** The tokens of one item, with errors that name the item and the token. */
  private static final class Item {
    private final String text;
    private final int number;
    private final String[] tokens;
    private int pos;

    Item(String text, int number) {
      this.text = text;
      this.number = number;
      this.tokens = text.isEmpty() ? new String[0] : text.split("\\s+");
    }

    boolean hasNext() { return pos < tokens.length; }

    String next(String what) {
      if (!hasNext()) throw new IllegalArgumentException("layers item " + number + " '" + text + "': missing " + what);
      return tokens[pos++];
    }

    IllegalArgumentException bad(String token, String why) {
      return new IllegalArgumentException("layers item " + number + " '" + text + "': bad token '" + token + "' (" + why + ")");
    }

    int positive(String what) {
      int v = integer(what);
      if (v < 1) throw bad(tokens[pos - 1], what + " must be >= 1");
      return v;
    }

    int nonNegative(String what) {
      int v = integer(what);
      if (v < 0) throw bad(tokens[pos - 1], what + " must be >= 0");
      return v;
    }

    private int integer(String what) {
      String t = next(what);
      try {
        return Integer.parseInt(t);
      } catch (NumberFormatException e) {
        throw bad(t, what + " must be an integer");
      }
    }

    /** {@code K}, {@code KxK} or {@code KhxKw}. */
    int[] kernel() {
      String t = next("the kernel size (e.g. 5x5)");
      String[] hw = t.toLowerCase(Locale.ROOT).split("x", -1);
      if (hw.length > 2) throw bad(t, "the kernel size must be K or KhxKw");
      int[] k = new int[2];
      for (int i = 0; i < 2; i++) {
        try {
          k[i] = Integer.parseInt(hw[Math.min(i, hw.length - 1)]);
        } catch (NumberFormatException e) {
          throw bad(t, "the kernel size must be K or KhxKw");
        }
        if (k[i] < 1) throw bad(t, "the kernel size must be >= 1");
      }
      return k;
    }

    void requireSpatial(boolean flat) {
      if (flat) throw bad(tokens[0], "convolution and pooling must come before flatten and dense");
    }

    void end() {
      if (hasNext()) throw bad(tokens[pos], "unexpected extra token");
    }

    /** Builds a windowed layer, naming this item when the window does not fit. */
    Layer geometry(java.util.function.Supplier<Layer> make) {
      try {
        return make.get();
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("layers item " + number + " '" + text + "': " + e.getMessage(), e);
      }
    }
  }
}
