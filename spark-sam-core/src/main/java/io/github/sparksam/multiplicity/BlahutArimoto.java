package io.github.sparksam.multiplicity;

/**
 * Channel capacity by the Blahut-Arimoto iteration, for the Rashomon capacity of Hsu and Calmon
 * ("Rashomon Capacity: A Metric for Predictive Multiplicity in Classification", NeurIPS 2022).
 *
 * <p>Row {@code k} of the channel is model {@code k}'s score vector {@code h_k(x)} (a probability
 * distribution over the classes) for one example; the capacity {@code C(x)} is the largest mutual
 * information between "which model" and "which class" over distributions on the models, and the
 * Rashomon capacity is {@code 2^C} (in [1, number of classes]).
 *
 * <p>The iteration starts from the uniform distribution over the rows (as the reference code
 * does), alternates the posterior {@code q(k|c) ∝ r_k P_kc} and {@code r_k ∝ exp(sum_c P_kc ln
 * q(k|c))}, and stops when the standard duality gap, {@code max_k D(P_k || r P) - I(r)}, is below
 * {@code gapBits} (a certificate: the true capacity lies between the two bounds) or after
 * {@code maxIterations}. Rows need not be distinct; zero entries follow {@code 0 ln 0 = 0}.
 */
public final class BlahutArimoto {
  private BlahutArimoto() {}

  /** The capacity in bits with its certified upper bound and the iterations used. */
  public record Capacity(double bits, double upperBits, int iterations) {
    /** Rashomon capacity {@code 2^C}. */
    public double rashomonCapacity() { return Math.pow(2, bits); }
  }

  public static Capacity capacity(double[][] channel) { return capacity(channel, 1e-10, 100_000); }

  public static Capacity capacity(double[][] channel, double gapBits, int maxIterations) {
    int m = channel.length;
    if (m == 0) throw new IllegalArgumentException("the channel has no rows");
    int c = channel[0].length;
    for (double[] row : channel) {
      if (row.length != c) throw new IllegalArgumentException("channel rows differ in length");
      double s = 0;
      for (double v : row) {
        if (!(v >= 0)) throw new IllegalArgumentException("channel entries must be >= 0, got " + v);
        s += v;
      }
      if (Math.abs(s - 1) > 1e-6) throw new IllegalArgumentException("channel rows must sum to 1, got " + s);
    }
    double ln2 = Math.log(2);
    double[] r = new double[m];
    java.util.Arrays.fill(r, 1.0 / m);
    double[] out = new double[c];
    double[] div = new double[m];
    double lower = 0, upper = Double.POSITIVE_INFINITY;
    int it = 0;
    while (true) {
      // output distribution and each row's divergence from it
      java.util.Arrays.fill(out, 0);
      for (int k = 0; k < m; k++) for (int j = 0; j < c; j++) out[j] += r[k] * channel[k][j];
      double info = 0, maxDiv = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < m; k++) {
        double d = 0;
        for (int j = 0; j < c; j++) {
          double pkj = channel[k][j];
          if (pkj > 0) d += pkj * Math.log(pkj / out[j]);
        }
        div[k] = d;
        info += r[k] * d;
        maxDiv = Math.max(maxDiv, d);
      }
      lower = Math.max(0, info / ln2);
      upper = Math.max(lower, maxDiv / ln2);
      if (upper - lower <= gapBits || it >= maxIterations) break;
      // r_k ∝ r_k exp(D(P_k || out)): the same update as r ∝ exp(sum_c P ln q(k|c))
      double max = Double.NEGATIVE_INFINITY;
      for (int k = 0; k < m; k++) max = Math.max(max, div[k]);
      double z = 0;
      for (int k = 0; k < m; k++) {
        r[k] = r[k] * Math.exp(div[k] - max);
        z += r[k];
      }
      for (int k = 0; k < m; k++) r[k] /= z;
      it++;
    }
    return new Capacity(lower, upper, it);
  }

  /** Rashomon capacity of a binary example whose models' P(y=1) span {@code [lo, hi]}: 2^C of the two extreme rows. */
  public static double binaryRange(double lo, double hi) {
    if (hi - lo <= 0) return 1.0;
    return capacity(new double[][] {{lo, 1 - lo}, {hi, 1 - hi}}).rashomonCapacity();
  }
}
