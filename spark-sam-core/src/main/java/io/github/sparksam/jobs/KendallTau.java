package io.github.sparksam.jobs;

import java.util.SplittableRandom;

import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.commons.math3.stat.correlation.KendallsCorrelation;

/**
 * Kendall's rank correlation between two measurements of the same K models (spec section 1.6), on the driver.
 *
 * <ul>
 *   <li>{@link #tauB}: tau-b, which corrects for ties in either variable, computed by Commons Math's
 *   {@link KendallsCorrelation} (Knight's O(K log K) algorithm; Commons Math is on Spark's classpath). It equals
 *   scipy's default {@code kendalltau}. NaN when either variable is constant.</li>
 *   <li>{@link #tauA}: tau-a = (concordant - discordant) / (K(K-1)/2), the form the follow-up paper writes; equal to
 *   tau-b without ties.</li>
 *   <li>{@link #test}: the two-sided p-value of tau-b under independence, by the normal approximation with the
 *   tie-corrected variance of S = concordant - discordant (Kendall 1970; what scipy's asymptotic method uses).
 *   Without ties Var(tau) = 2(2K+5)/(9K(K-1)).</li>
 *   <li>{@link #bootstrap}: a percentile bootstrap interval of tau-b, resampling models with replacement
 *   (seeded).</li>
 * </ul>
 * Pairs where either value is NaN are dropped before any of these ({@link #finitePairs}).
 */
public final class KendallTau {

    private KendallTau() {
    }

    /** tau-b with ties (Commons Math); NaN for fewer than 2 pairs or a constant variable. */
    public static double tauB(double[] x, double[] y) {
        check(x, y);
        if (x.length < 2) {
            return Double.NaN;
        }
        return new KendallsCorrelation().correlation(x, y);
    }

    /** tau-a: (concordant - discordant) over all K(K-1)/2 pairs (tied pairs count 0). O(K^2). */
    public static double tauA(double[] x, double[] y) {
        check(x, y);
        int n = x.length;
        if (n < 2) {
            return Double.NaN;
        }
        long s = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                s += (long) Math.signum(x[i] - x[j]) * (long) Math.signum(y[i] - y[j]);
            }
        }
        return s / (n * (n - 1) / 2.0);
    }

    /** The significance test of tau-b: S, its tie-corrected variance, z = S / sd and the two-sided p-value. */
    public record Test(double s, double varianceS, double z, double pValue) {
    }

    /** Normal-approximation test of independence (tie-corrected variance of S). NaN when the variance is 0. */
    public static Test test(double[] x, double[] y) {
        check(x, y);
        int n = x.length;
        if (n < 3) {
            return new Test(Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        long s = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                s += (long) Math.signum(x[i] - x[j]) * (long) Math.signum(y[i] - y[j]);
            }
        }
        double[] tx = tieSums(x);
        double[] ty = tieSums(y);
        double nn = n;
        double v0 = nn * (nn - 1) * (2 * nn + 5);
        double var = (v0 - tx[2] - ty[2]) / 18.0
                + tx[1] * ty[1] / (9.0 * nn * (nn - 1) * (nn - 2))
                + tx[0] * ty[0] / (2.0 * nn * (nn - 1));
        if (!(var > 0)) {
            return new Test(s, var, Double.NaN, Double.NaN);
        }
        double z = s / Math.sqrt(var);
        double p = 2 * new NormalDistribution(null, 0, 1).cumulativeProbability(-Math.abs(z));
        return new Test(s, var, z, Math.min(1.0, p));
    }

    /** For the tie groups of sizes t: {sum t(t-1), sum t(t-1)(t-2), sum t(t-1)(2t+5)}. */
    static double[] tieSums(double[] v) {
        double[] a = v.clone();
        java.util.Arrays.sort(a);
        double s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        while (i < a.length) {
            int j = i;
            while (j + 1 < a.length && a[j + 1] == a[i]) {
                j++;
            }
            double t = j - i + 1;
            s1 += t * (t - 1);
            s2 += t * (t - 1) * (t - 2);
            s3 += t * (t - 1) * (2 * t + 5);
            i = j + 1;
        }
        return new double[]{s1, s2, s3};
    }

    /** A percentile bootstrap interval {low, high} of tau-b at level {@code 1 - alpha}; NaN bounds when undefined. */
    public static double[] bootstrap(double[] x, double[] y, int resamples, double alpha, long seed) {
        check(x, y);
        int n = x.length;
        if (n < 3 || resamples < 1) {
            return new double[]{Double.NaN, Double.NaN};
        }
        SplittableRandom r = new SplittableRandom(seed);
        double[] taus = new double[resamples];
        int m = 0;
        double[] bx = new double[n];
        double[] by = new double[n];
        KendallsCorrelation kc = new KendallsCorrelation();
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < n; i++) {
                int k = r.nextInt(n);
                bx[i] = x[k];
                by[i] = y[k];
            }
            double t = kc.correlation(bx, by);
            if (!Double.isNaN(t)) {
                taus[m++] = t;
            }
        }
        if (m == 0) {
            return new double[]{Double.NaN, Double.NaN};
        }
        double[] d = java.util.Arrays.copyOf(taus, m);
        java.util.Arrays.sort(d);
        return new double[]{quantile(d, alpha / 2), quantile(d, 1 - alpha / 2)};
    }

    private static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /** The pairs (x_i, y_i) where both are finite: {x', y'}. */
    public static double[][] finitePairs(double[] x, double[] y) {
        check(x, y);
        int m = 0;
        for (int i = 0; i < x.length; i++) {
            if (Double.isFinite(x[i]) && Double.isFinite(y[i])) {
                m++;
            }
        }
        double[] a = new double[m];
        double[] b = new double[m];
        int k = 0;
        for (int i = 0; i < x.length; i++) {
            if (Double.isFinite(x[i]) && Double.isFinite(y[i])) {
                a[k] = x[i];
                b[k++] = y[i];
            }
        }
        return new double[][]{a, b};
    }

    private static void check(double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("Kendall's tau needs two arrays of the same length, got " + x.length + " and " + y.length);
        }
    }
}
