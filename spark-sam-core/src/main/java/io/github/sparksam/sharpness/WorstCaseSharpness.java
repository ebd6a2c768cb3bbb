package io.github.sparksam.sharpness;

import java.util.ArrayList;
import java.util.List;

/**
 * Worst-case m-sharpness of one batch, {@code max_{delta in Ball} L_S(w + delta) - L_S(w)}, by the
 * weight-space Auto-PGD ascent of the reference code of Andriushchenko et al. 2023 (which adapts
 * Croce and Hein's APGD, 2020): start at {@code delta = 0}, step size {@code 2 rho stepSizeMult},
 * {@code iters} steps (20 in the paper's scripts) of "ascend ({@link Ball#ascend}), project, then
 * {@code delta <- 0.75 z + 0.25 delta_prev}" where {@code delta_prev} is the iterate before the
 * current one; at the APGD checkpoints ({@link #checkpoints}) the step size is halved when fewer
 * than 75% of the steps since the last checkpoint improved the best loss, or when neither the step
 * size nor the best loss changed. Every evaluated point is feasible, so the result is a lower bound
 * of the true maximum and is {@code >= 0}.
 *
 * <p>On a step-size halving this implementation restarts from the best point found (the canonical
 * APGD reset: {@code delta = delta_prev = delta_best}). The reference reloads the best weights but
 * keeps its current {@code delta}, so that its next gradient is taken at the best point while the
 * step is added to the current delta; {@code referenceRestart = true} reproduces that (spec 1.7).
 *
 * <p>The loss at a point and the gradient at that point come from one fused sweep, so a batch costs
 * {@code iters + 1} forward/backward sweeps.
 */
public final class WorstCaseSharpness {
  private WorstCaseSharpness() {}

  /** One batch's result: the loss and 0-1 error at w and at the worst point found. */
  public record BatchResult(int batch, double initLoss, double worstLoss, double initError, double worstError,
                            double worstScaledNorm, int halvings, long sweeps) {
    public double sharpness() { return worstLoss - initLoss; }

    public double errorSharpness() { return worstError - initError; }
  }

  /**
   * The APGD checkpoint iterations for {@code n} iterations: fractions {@code p_0 = 0, p_1 = 0.22,
   * p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)}, iteration {@code ceil(p_j n)}, for 20:
   * {5, 9, 12, 15, 16, 18, 19, 20} (the 15 comes from floating point, kept as the reference has it).
   */
  public static List<Integer> checkpoints(int n) {
    List<Double> p = new ArrayList<>(List.of(0.0, 0.22));
    List<Integer> w = new ArrayList<>(List.of(0, (int) Math.ceil(n * 0.22)));
    while (w.get(w.size() - 1) < n && !w.get(w.size() - 1).equals(w.get(w.size() - 2))) {
      double a = p.get(p.size() - 1), b = p.get(p.size() - 2);
      p.add(a + Math.max(a - b - 0.03, 0.06));
      w.add((int) Math.ceil(p.get(p.size() - 1) * n));
    }
    return w.subList(1, w.size());
  }

  public static BatchResult run(SampleBatch.Objective f, int batch, double[] w, Ball ball, int iters, double stepSizeMult,
                                boolean referenceRestart) {
    int dim = w.length;
    List<Integer> cps = checkpoints(iters);
    double[] point = new double[dim];
    SampleBatch.Value v0 = f.value(w, true);
    double initLoss = v0.loss(), initErr = v0.error();
    double worst = initLoss, worstErr = initErr;
    double[] delta = new double[dim], prev = new double[dim];
    double[] best = new double[dim];
    double[] bestGrad = v0.gradient();
    double[] g = v0.gradient();
    double alpha = 2 * ball.rho() * stepSizeMult, prevAlpha = alpha, prevWorst = worst;
    int prevCp = 0, updates = 0, halvings = 0;
    if (ball.rho() == 0) return new BatchResult(batch, initLoss, initLoss, initErr, initErr, 0, 0, f.sweeps());
    for (int i = 0; i < iters; i++) {
      double[] z = delta.clone();
      ball.ascend(z, g, alpha);
      ball.project(z);
      double[] next = new double[dim];
      for (int j = 0; j < dim; j++) next[j] = 0.75 * z[j] + 0.25 * prev[j];
      prev = delta;
      delta = next;
      for (int j = 0; j < dim; j++) point[j] = w[j] + delta[j];
      SampleBatch.Value v = f.value(point, true);
      g = v.gradient();
      if (v.loss() > worst) {
        worst = v.loss();
        worstErr = v.error();
        best = delta.clone();
        bestGrad = g;
        updates++;
      }
      if (cps.contains(i)) {
        boolean few = updates < 0.75 * (i - prevCp);
        boolean stuck = prevAlpha == alpha && prevWorst == worst;
        prevAlpha = alpha;
        prevWorst = worst;
        prevCp = i;
        updates = 0;
        if (few || stuck) {
          alpha *= 0.5;
          halvings++;
          g = bestGrad;                 // the next gradient is taken at the best point
          if (!referenceRestart) {
            delta = best.clone();
            prev = best.clone();
          }
        }
      }
    }
    return new BatchResult(batch, initLoss, worst, initErr, worstErr, ball.scaledNorm(best), halvings, f.sweeps());
  }
}
