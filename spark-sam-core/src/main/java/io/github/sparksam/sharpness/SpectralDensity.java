package io.github.sparksam.sharpness;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Eigenvalue density of the Hessian by stochastic Lanczos quadrature (Ghorbani, Krishnan and Xiao
 * 2019; Lin, Saad and Yang 2016; PyHessian's {@code density}): {@code runs} Lanczos processes from
 * normalised Rademacher vectors, {@code iters} steps each, advanced in lockstep so that each step
 * is one data pass for all runs. Each run gives Gauss quadrature nodes (Ritz values) and weights
 * (they sum to 1); the density is their average, optionally smoothed with a Gaussian kernel
 * (PyHessian: variance {@code 1e-5 * max(1, lambda_max - lambda_min)}).
 */
public final class SpectralDensity {

  /** One run's quadrature. */
  public record Run(double[] nodes, double[] weights) {}

  private final List<Run> runs;
  private final long passes;

  private SpectralDensity(List<Run> runs, long passes) {
    this.runs = runs;
    this.passes = passes;
  }

  public List<Run> runs() { return runs; }

  public long passes() { return passes; }

  public static SpectralDensity estimate(HessianOperator h, int runs, int iters, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    List<Lanczos> lz = new ArrayList<>();
    for (int r = 0; r < runs; r++) lz.add(new Lanczos(Vec.rademacher(rnd, h.dim())));
    long p0 = h.passes();
    for (int it = 0; it < iters; it++) {
      List<Lanczos> active = new ArrayList<>();
      for (Lanczos l : lz) if (!l.done()) active.add(l);
      if (active.isEmpty()) break;
      double[][] vs = new double[active.size()][];
      for (int j = 0; j < vs.length; j++) vs[j] = active.get(j).current();
      double[][] hv = h.apply(vs);
      for (int j = 0; j < vs.length; j++) active.get(j).advance(hv[j]);
    }
    List<Run> out = new ArrayList<>();
    for (Lanczos l : lz) {
      Lanczos.Ritz r = l.ritz();
      out.add(new Run(r.values(), r.weights()));
    }
    return new SpectralDensity(out, h.passes() - p0);
  }

  /** {@code sum_k tau_k lambda_k} averaged over runs: an estimate of {@code tr(H) / dim}. */
  public double firstMoment() {
    double s = 0;
    for (Run r : runs) for (int k = 0; k < r.nodes().length; k++) s += r.weights()[k] * r.nodes()[k];
    return s / runs.size();
  }

  public double minNode() {
    double m = Double.POSITIVE_INFINITY;
    for (Run r : runs) for (double v : r.nodes()) m = Math.min(m, v);
    return m;
  }

  public double maxNode() {
    double m = Double.NEGATIVE_INFINITY;
    for (Run r : runs) for (double v : r.nodes()) m = Math.max(m, v);
    return m;
  }

  /**
   * The smoothed density on {@code points} grid points over {@code [min - pad, max + pad]}
   * ({@code pad = 0.01 (max - min)} or 0.01): returns {grid, density}; integrates to 1.
   */
  public double[][] smoothed(int points) {
    double lo = minNode(), hi = maxNode();
    double pad = Math.max(0.01, 0.01 * (hi - lo));
    lo -= pad;
    hi += pad;
    double[] grid = new double[points], dens = new double[points];
    double dx = (hi - lo) / (points - 1);
    double var = Math.max(1e-5 * Math.max(1, hi - lo), 4 * dx * dx);  // at least two grid steps wide
    for (int i = 0; i < points; i++) grid[i] = lo + i * dx;
    double norm = 1 / Math.sqrt(2 * Math.PI * var);
    for (Run r : runs) {
      for (int k = 0; k < r.nodes().length; k++) {
        double c = r.nodes()[k], w = r.weights()[k] / runs.size();
        for (int i = 0; i < points; i++) {
          double z = grid[i] - c;
          dens[i] += w * norm * Math.exp(-z * z / (2 * var));
        }
      }
    }
    double area = 0;
    for (double v : dens) area += v * dx;
    if (area > 0) for (int i = 0; i < points; i++) dens[i] /= area;
    return new double[][] {grid, dens};
  }
}
