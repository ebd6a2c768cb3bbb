package io.github.sparksam.multiplicity;

/**
 * Per-example multiplicity measures of a finite set of models, from their scores {@code P(y=1|x)}
 * (binary classification), against a baseline model {@code h0}. These are the sampling-based
 * measures used in practice (spec §4.6); computed on sampled models they are <em>lower bounds</em>
 * of the epsilon-level-set quantities.
 *
 * <ul>
 *   <li>viable prediction range {@code [min_k s_k, max_k s_k]} (baseline included) and its width;
 *   <li>score standard deviation over the sampled models (population form, as Hsu et al.);
 *   <li>disagreement {@code 4 k (K-k) / (K (K-1))} with {@code k} the models deciding 1 (Kulynych et
 *       al., FAccT 2023: an unbiased estimate of {@code 2 P[h(x) != h'(x)]}, which can exceed 1 for
 *       small K), its biased form {@code 4 p (1-p)}, and self-consistency {@code 1 - 2k(K-k)/(K(K-1))};
 *   <li>flipped: some model's decision (threshold 0.5) differs from the baseline's (Marx, Calmon and
 *       Ustun, ICML 2020, ambiguity); ambiguous at {@code delta}: some model's score differs from the
 *       baseline's by at least {@code delta} (Watson-Daniels et al., AAAI 2023);
 *   <li>Rashomon capacity {@code 2^C} of the channel whose rows are the models' score vectors
 *       (Hsu and Calmon, NeurIPS 2022), by {@link BlahutArimoto}.
 * </ul>
 */
public final class SampledMeasures {
  private SampledMeasures() {}

  /** The measures of one example. */
  public record Row(double baseline, double min, double max, double std, double disagreement,
                    double biasedDisagreement, double selfConsistency, boolean flipped, boolean ambiguous,
                    double rashomonCapacity) implements java.io.Serializable {
    public double width() { return max - min; }
  }

  static int decision(double p) { return p >= 0.5 ? 1 : 0; }

  /**
   * Measures of one example from the baseline score and the sampled models' scores (K >= 1).
   * {@code capacity}: compute the Rashomon capacity (costs a Blahut-Arimoto run per example).
   */
  public static Row of(double baseline, double[] scores, double delta, boolean capacity) {
    int k = scores.length;
    double min = baseline, max = baseline, mean = 0;
    int ones = 0;
    boolean flipped = false, ambiguous = false;
    int d0 = decision(baseline);
    for (double s : scores) {
      min = Math.min(min, s);
      max = Math.max(max, s);
      mean += s;
      int d = decision(s);
      ones += d;
      flipped |= d != d0;
      ambiguous |= Math.abs(s - baseline) >= delta;
    }
    mean /= Math.max(1, k);
    double var = 0;
    for (double s : scores) var += (s - mean) * (s - mean);
    double std = k == 0 ? 0 : Math.sqrt(var / k);
    double pairs = k * (k - 1.0);
    double disagreement = k < 2 ? 0 : 4.0 * ones * (k - ones) / pairs;
    double phat = k == 0 ? 0 : (double) ones / k;
    double sc = k < 2 ? 1 : 1 - 2.0 * ones * (k - ones) / pairs;
    double rc = 1;
    if (capacity) {
      double[][] ch = new double[k + 1][];
      ch[0] = new double[] {baseline, 1 - baseline};
      for (int i = 0; i < k; i++) ch[i + 1] = new double[] {scores[i], 1 - scores[i]};
      rc = BlahutArimoto.capacity(ch).rashomonCapacity();
    }
    return new Row(baseline, min, max, std, disagreement, 4 * phat * (1 - phat), sc, flipped, ambiguous, rc);
  }

  /**
   * Discrepancy of a decision matrix: {@code max_k (1/n) sum_i 1[d_k(x_i) != d_0(x_i)]}, given each
   * model's count of flipped examples among {@code n}.
   */
  public static double discrepancy(long[] flipCounts, long n) {
    long max = 0;
    for (long c : flipCounts) max = Math.max(max, c);
    return n == 0 ? 0 : (double) max / n;
  }
}
