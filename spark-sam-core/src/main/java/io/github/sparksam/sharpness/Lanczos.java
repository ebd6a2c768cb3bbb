package io.github.sparksam.sharpness;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.commons.math3.linear.EigenDecomposition;

/**
 * The symmetric Lanczos process with full reorthogonalisation (Lanczos 1950; as used for Hessian
 * spectra by Ghorbani, Krishnan and Xiao 2019 and PyHessian, Yao et al. 2020): builds an
 * orthonormal Krylov basis {@code q_1..q_k} from a start vector and the tridiagonal
 * {@code T_k = Q^T H Q} (alpha on the diagonal, beta off it). Its eigenvalues (Ritz values) give
 * the extreme eigenvalues of H, and with the squared first components of its eigenvectors the
 * Gauss quadrature nodes and weights of stochastic Lanczos quadrature. One product with H per step;
 * the tridiagonal eigenproblem is solved with Commons Math.
 *
 * <p>Stateful so that several processes can advance in lockstep and share one data pass per step
 * ({@link #current()}, then {@link #advance(double[])} with {@code H current()}).
 */
public final class Lanczos {
  private final List<double[]> basis = new ArrayList<>();
  private final List<Double> alphas = new ArrayList<>();
  private final List<Double> betas = new ArrayList<>();
  private double[] q;
  private boolean done;

  public Lanczos(double[] start) {
    double nrm = Vec.norm(start);
    if (!(nrm > 0)) throw new IllegalArgumentException("Lanczos start vector is zero");
    q = start.clone();
    Vec.scale(1 / nrm, q);
    basis.add(q);
  }

  /** The vector H must be applied to next. */
  public double[] current() { return q; }

  /** Whether the Krylov space is exhausted (an invariant subspace was found) or the dimension reached. */
  public boolean done() { return done; }

  public int steps() { return alphas.size(); }

  /** One Lanczos step given {@code hq = H current()}. */
  public void advance(double[] hq) {
    if (done) throw new IllegalStateException("Lanczos process is finished");
    double[] r = hq.clone();
    double alpha = Vec.dot(q, r);
    alphas.add(alpha);
    // full reorthogonalisation (twice is enough; Parlett's "twice is enough")
    for (int pass = 0; pass < 2; pass++) {
      for (double[] b : basis) Vec.axpy(-Vec.dot(b, r), b, r);
    }
    double beta = Vec.norm(r);
    double scale = 0;
    for (double a : alphas) scale = Math.max(scale, Math.abs(a));
    for (double b : betas) scale = Math.max(scale, Math.abs(b));
    if (beta <= 1e-12 * Math.max(scale, 1e-300) || basis.size() >= q.length) {
      done = true;
      return;
    }
    betas.add(beta);
    Vec.scale(1 / beta, r);
    q = r;
    basis.add(q);
  }

  /** Ritz values (ascending) and the Gauss quadrature weights (squared first eigenvector components). */
  public record Ritz(double[] values, double[] weights, double[] lastComponents, double nextBeta) {
    public double max() { return values[values.length - 1]; }

    public double min() { return values[0]; }

    /** Residual bound of the largest Ritz pair: |beta_k * s_{k,last}| (exact arithmetic). */
    public double maxResidual() { return Math.abs(nextBeta * lastComponents[values.length - 1]); }
  }

  public Ritz ritz() {
    int k = alphas.size();
    double[] main = new double[k];
    for (int i = 0; i < k; i++) main[i] = alphas.get(i);
    double[] off = new double[Math.max(0, k - 1)];
    for (int i = 0; i < k - 1; i++) off[i] = betas.get(i);
    double nextBeta = betas.size() >= k ? betas.get(k - 1) : 0.0;
    if (k == 1) return new Ritz(main, new double[] {1.0}, new double[] {1.0}, nextBeta);
    EigenDecomposition ed = new EigenDecomposition(main, off);
    double[] vals = ed.getRealEigenvalues();
    Integer[] order = new Integer[k];
    for (int i = 0; i < k; i++) order[i] = i;
    Arrays.sort(order, (a, b) -> Double.compare(vals[a], vals[b]));
    double[] v = new double[k], w = new double[k], last = new double[k];
    for (int i = 0; i < k; i++) {
      double[] vec = ed.getEigenvector(order[i]).toArray();
      v[i] = vals[order[i]];
      w[i] = vec[0] * vec[0];
      last[i] = vec[k - 1];
    }
    return new Ritz(v, w, last, nextBeta);
  }

  /** Result of {@link #topEigenvalue}; {@code tolerance} is the stop rule's tol ({@link #STOP_RULE}). */
  public record TopEigen(double value, double smallest, int iterations, long passes, double residual, boolean converged,
                         double tolerance) {}

  /** The stop rule of {@link #topEigenvalue}, for reports. */
  public static final String STOP_RULE = "residual bound |beta_k * s_(k,k)| of the largest Ritz pair <= tol * |theta_max|"
      + ", or an invariant Krylov subspace";

  /**
   * The largest (algebraic) eigenvalue of H by Lanczos from a seeded Gaussian start: stops when the
   * residual bound of the largest Ritz pair is at most {@code tol * |theta|}, or after
   * {@code maxIter} steps. One pass per step.
   */
  public static TopEigen topEigenvalue(HessianOperator h, int maxIter, double tol, long seed) {
    if (!(tol >= 0) || Double.isInfinite(tol)) throw new IllegalArgumentException("Lanczos tol must be finite and >= 0, got " + tol);
    Lanczos lz = new Lanczos(Vec.gaussian(new java.util.SplittableRandom(seed), h.dim()));
    long p0 = h.passes();
    Ritz rz = null;
    boolean converged = false;
    while (lz.steps() < maxIter && !lz.done()) {
      lz.advance(h.apply(new double[][] {lz.current()})[0]);
      rz = lz.ritz();
      if (lz.done() || rz.maxResidual() <= tol * Math.abs(rz.max())) {
        converged = true;
        break;
      }
    }
    return new TopEigen(rz.max(), rz.min(), lz.steps(), h.passes() - p0, lz.done() ? 0.0 : rz.maxResidual(), converged,
        tol);
  }
}
