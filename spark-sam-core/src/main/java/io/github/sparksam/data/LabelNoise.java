package io.github.sparksam.data;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.api.java.JavaRDD;

/**
 * Deterministic label noise for noisy-label experiments: whether training example {@code id} flips,
 * and to what, is a seeded hash of the id alone, so the same rows flip however the data is
 * partitioned (the id is {@link Blockifier}'s stable example id, the one the batch permutation uses).
 *
 * <ul>
 *   <li>{@code symmetric}: with probability {@code rate} the label becomes one drawn uniformly from
 *       the other K-1 classes (never the same class).</li>
 *   <li>{@code asymmetric}: with probability {@code rate} the label becomes its partner class
 *       (Patrini et al., "Making deep neural networks robust to label noise", CVPR 2017). The map is
 *       {@link #FASHION_MNIST_MAP}-style pairs {@code "a:b,c:d"} (unlisted classes keep their label);
 *       an empty map means {@code c -> (c + 1) mod K} for every class.</li>
 * </ul>
 * The blocks keep the clean label next to the noisy one ({@link DataBlock#cleanLabels}) so the trainer
 * can report memorization of the flipped rows; only training blocks are ever corrupted.
 */
public final class LabelNoise implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Fashion-MNIST's look-alike classes: T-shirt/top(0) and Shirt(6), Pullover(2) and Coat(4), Sandal(5) and Sneaker(7). */
  public static final String FASHION_MNIST_MAP = "0:6,6:0,2:4,4:2,5:7,7:5";
  public static final String[] KINDS = {"none", "symmetric", "asymmetric"};

  private final String kind;
  private final double rate;
  private final long seed;
  private final int numClasses;
  private final int[] partner;

  /**
   * @param kind       none, symmetric or asymmetric
   * @param rate       flip probability in [0, 1)
   * @param map        asymmetric: pairs "a:b,..." (empty: c -> (c+1) mod K); ignored otherwise
   */
  public LabelNoise(String kind, double rate, long seed, int numClasses, String map) {
    if (!Arrays.asList(KINDS).contains(kind)) {
      throw new IllegalArgumentException("labelNoise must be one of " + String.join(", ", KINDS) + ", got '" + kind + "'");
    }
    if (!(rate >= 0 && rate < 1)) throw new IllegalArgumentException("labelNoiseRate must be in [0, 1), got " + rate);
    if (numClasses < 2) throw new IllegalArgumentException("label noise needs at least 2 classes, got " + numClasses);
    this.kind = kind;
    this.rate = rate;
    this.seed = seed;
    this.numClasses = numClasses;
    this.partner = kind.equals("asymmetric") ? partnerMap(map, numClasses) : null;
  }

  /** The asymmetric class-to-class map for {@code k} classes: {@code map[c]} is c's partner. */
  public static int[] partnerMap(String spec, int k) {
    int[] m = new int[k];
    if (spec == null || spec.isBlank()) {
      for (int c = 0; c < k; c++) m[c] = (c + 1) % k;
      return m;
    }
    for (int c = 0; c < k; c++) m[c] = c;
    boolean[] seen = new boolean[k];
    for (String pair : spec.split(",")) {
      String[] ab = pair.trim().split(":");
      int a, b;
      try {
        if (ab.length != 2) throw new NumberFormatException();
        a = Integer.parseInt(ab[0].trim());
        b = Integer.parseInt(ab[1].trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("labelNoiseMap: '" + pair.trim() + "' is not 'from:to' (e.g. "
            + FASHION_MNIST_MAP + ")");
      }
      if (a < 0 || a >= k || b < 0 || b >= k) {
        throw new IllegalArgumentException("labelNoiseMap: '" + pair.trim() + "' names a class outside 0.." + (k - 1));
      }
      if (seen[a]) throw new IllegalArgumentException("labelNoiseMap: class " + a + " is mapped twice");
      seen[a] = true;
      m[a] = b;
    }
    return m;
  }

  public boolean active() { return !kind.equals("none") && rate > 0; }

  /** The training label of example {@code id} whose clean label is {@code y}. */
  public double noisyLabel(long id, double y) {
    if (!active()) return y;
    long h1 = mix(seed ^ mix(id + 0x632BE59BD9B4E019L));
    double u = (h1 >>> 11) * 0x1.0p-53;
    if (u >= rate) return y;
    int c = (int) y;
    if (partner != null) return partner[c];
    long h2 = mix(h1 + 0x9E3779B97F4A7C15L);
    int r = (int) (((h2 >>> 32) * (numClasses - 1)) >>> 32);   // uniform over the K-1 other classes
    return r < c ? r : r + 1;
  }

  /** The blocks with noisy training labels and the clean ones kept in {@link DataBlock#cleanLabels}. */
  public JavaRDD<BlockedPartition> apply(JavaRDD<BlockedPartition> clean) {
    LabelNoise noise = this;
    return clean.map(p -> {
      DataBlock[] out = new DataBlock[p.blocks.length];
      for (int i = 0; i < out.length; i++) {
        DataBlock b = p.blocks[i];
        double[] noisy = new double[b.numRows];
        for (int r = 0; r < b.numRows; r++) noisy[r] = noise.noisyLabel(b.ids[r], b.labels[r]);
        out[i] = new DataBlock(b.numRows, b.numFeatures, b.features, noisy, b.weights, b.ids, b.labels);
      }
      return new BlockedPartition(p.index, out, p.numFeatures, p.maxLabel, p.weightSum);
    });
  }

  @Override public String toString() {
    return String.format(Locale.ROOT, "LabelNoise(%s, rate %s, seed %d, %d classes)", kind, rate, seed, numClasses);
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
