package io.github.sparksam.sam;

import io.github.sparksam.backend.Buf;
import java.io.Serializable;
import java.util.Locale;

/**
 * The trajectory loss of SAF and MESA (Du et al. 2022, "Sharpness-Aware Training for Free",
 * NeurIPS): per example, {@code lambda * tau^2 * KL(softmax(r / tau) || softmax(z / tau))}, where
 * {@code r} are target logits (SAF: the example's own logits recorded {@code lag} epochs earlier;
 * MESA: an EMA teacher's logits) and {@code z} the current logits. The target is a constant; the
 * gradient with respect to {@code z} is {@code lambda * tau * (q - p)} with
 * {@code p = softmax(r / tau)}, {@code q = softmax(z / tau)}.
 *
 * <p>The {@code tau^2} factor follows the authors' released code (the paper's formula as usually
 * quoted has none); the default lambdas (0.3 SAF, 0.8 MESA) are calibrated against it. Both
 * softmaxes are computed as log-softmax (max-shifted) for stability.
 *
 * <p>A single logit ({@code outputs == 1}) is the binomial head's margin {@code z}: it stands for
 * the two-class logits {@code (0, z)}, so the term is the K = 2 one and its gradient with respect
 * to {@code z} is {@code lambda * tau * (sigmoid(z / tau) - sigmoid(r / tau))}.
 *
 * <p>Pure functions; an instance only holds {@code lambda} and {@code tau}.
 */
public final class TrajectoryLoss implements Serializable {
  private static final long serialVersionUID = 1L;

  private final double lambda;
  private final double tau;

  /**
   * @param lambda coefficient of the term (>= 0)
   * @param tau    softmax temperature (> 0)
   */
  public TrajectoryLoss(double lambda, double tau) {
    if (!(lambda >= 0) || Double.isInfinite(lambda)) {
      throw new IllegalArgumentException("the trajectory-loss lambda must be finite and >= 0, got " + lambda);
    }
    if (!(tau > 0) || Double.isInfinite(tau)) {
      throw new IllegalArgumentException("the trajectory-loss temperature must be finite and > 0, got " + tau);
    }
    this.lambda = lambda;
    this.tau = tau;
  }

  public double lambda() { return lambda; }

  public double temperature() { return tau; }

  /** A work array large enough for {@link #accumulate} with {@code outputs} logits per example. */
  public static double[] workFor(int outputs) {
    return new double[2 * Math.max(2, outputs)];
  }

  /**
   * For one example: adds {@code weight * d term / d z} to {@code delta[dOff .. dOff + outputs)}
   * and returns the (unweighted) term {@code lambda * tau^2 * KL(p || q)}.
   *
   * @param target  target logits {@code r} at {@code tOff}
   * @param logits  current logits {@code z} at {@code zOff}
   * @param outputs logits per example; 1 means the binomial margin (two-class logits (0, z))
   * @param work    at least {@link #workFor}{@code (outputs)} doubles, overwritten
   */
  public double accumulate(Buf target, int tOff, Buf logits, int zOff, int outputs, double weight, Buf delta, int dOff,
                           double[] work) {
    if (outputs == 1) {
      double kl = klAndDiff(0.0, target.get(tOff) / tau, 0.0, logits.get(zOff) / tau, work);
      // d/dz = (1/tau) * d/d(z/tau); (q1 - p1) sits in work[1]
      delta.set(dOff, delta.get(dOff) + weight * (lambda * tau * work[1]));
      return lambda * tau * tau * kl;
    }
    int k = outputs;
    double[] lp = work;              // log p, then q - p
    double maxA = Double.NEGATIVE_INFINITY, maxB = Double.NEGATIVE_INFINITY;
    for (int c = 0; c < k; c++) {
      maxA = Math.max(maxA, target.get(tOff + c) / tau);
      maxB = Math.max(maxB, logits.get(zOff + c) / tau);
    }
    double sa = 0, sb = 0;
    for (int c = 0; c < k; c++) {
      sa += Math.exp(target.get(tOff + c) / tau - maxA);
      sb += Math.exp(logits.get(zOff + c) / tau - maxB);
    }
    double lza = maxA + Math.log(sa), lzb = maxB + Math.log(sb);
    double kl = 0;
    for (int c = 0; c < k; c++) {
      double logP = target.get(tOff + c) / tau - lza;
      double logQ = logits.get(zOff + c) / tau - lzb;
      double p = Math.exp(logP);
      if (p > 0) kl += p * (logP - logQ);
      lp[c] = Math.exp(logQ) - p;
    }
    double scale = weight * lambda * tau;
    for (int c = 0; c < k; c++) delta.set(dOff + c, delta.get(dOff + c) + scale * lp[c]);
    return lambda * tau * tau * kl;
  }

  /** KL for two-class logits (a0, a1) target and (b0, b1) current; work[0..1] = q - p. */
  private static double klAndDiff(double a0, double a1, double b0, double b1, double[] work) {
    double ma = Math.max(a0, a1), mb = Math.max(b0, b1);
    double lza = ma + Math.log(Math.exp(a0 - ma) + Math.exp(a1 - ma));
    double lzb = mb + Math.log(Math.exp(b0 - mb) + Math.exp(b1 - mb));
    double lp0 = a0 - lza, lp1 = a1 - lza, lq0 = b0 - lzb, lq1 = b1 - lzb;
    double p0 = Math.exp(lp0), p1 = Math.exp(lp1);
    double kl = (p0 > 0 ? p0 * (lp0 - lq0) : 0) + (p1 > 0 ? p1 * (lp1 - lq1) : 0);
    work[0] = Math.exp(lq0) - p0;
    work[1] = Math.exp(lq1) - p1;
    return kl;
  }

  /** The term for one example (array form; a length-1 array is the binomial margin). */
  public double value(double[] target, double[] logits) {
    check(target, logits);
    Buf d = new Buf.DoubleBuf(new double[logits.length]);
    return accumulate(new Buf.DoubleBuf(target), 0, new Buf.DoubleBuf(logits), 0, logits.length, 1.0, d, 0,
        workFor(logits.length));
  }

  /** Its gradient with respect to {@code logits}: {@code lambda * tau * (q - p)} (a new array). */
  public double[] gradient(double[] target, double[] logits) {
    check(target, logits);
    double[] g = new double[logits.length];
    accumulate(new Buf.DoubleBuf(target), 0, new Buf.DoubleBuf(logits), 0, logits.length, 1.0, new Buf.DoubleBuf(g), 0,
        workFor(logits.length));
    return g;
  }

  private static void check(double[] target, double[] logits) {
    if (target.length != logits.length || logits.length < 1) {
      throw new IllegalArgumentException("target and current logits must have the same positive length, got "
          + target.length + " and " + logits.length);
    }
  }

  @Override public String toString() {
    return String.format(Locale.ROOT, "TrajectoryLoss(lambda=%s, tau=%s, KL(past||current) scaled by tau^2)", lambda, tau);
  }
}
