package io.github.sparksam.multiplicity;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The exact viable prediction range of L2-regularised logistic regression (Watson-Daniels, Parkes
 * and Ustun, "Predictive Multiplicity in Probabilistic Classification", AAAI 2023): for a target
 * row {@code x_t} and the epsilon-level set {@code S = {w : F(w) <= F(w0) + epsilon}} of the
 * training objective {@code F} ({@link LogisticObjective}), the range
 * {@code [min_{w in S} sigma(a^T w), max_{w in S} sigma(a^T w)]} with {@code a = [x_t; 1]}.
 *
 * <p>Each endpoint is a convex program (a linear objective over a convex sublevel set), solved
 * through its Lagrangian: {@code w(mu) = argmin F(w) - mu a^T w} lies on the boundary level
 * {@code F(w(mu))}, which increases with {@code mu}, and by the KKT conditions {@code w(mu)} is the
 * exact maximiser of {@code a^T w} over the sublevel set it reaches (the spec's route (A), §4.4;
 * equivalent to its weighted-refit bisection). Instead of bisecting {@code mu} blindly, each
 * endpoint runs a safeguarded Newton iteration on {@code phi(mu) = sqrt(2(F(w(mu)) - F0)) -
 * sqrt(2 epsilon)} (nearly linear in {@code mu}; {@code dF/dmu = mu a^T H^{-1} a}) inside a
 * bisection bracket, with damped Newton steps (backtracking on no decrease) for {@code w(mu)} and
 * the tangent {@code dw/dmu = H^{-1} a} as predictor when {@code mu} moves. It starts from the
 * quadratic (ellipsoid) approximation {@code w0 + mu1 H0^{-1} a}, {@code mu1 = sqrt(2 eps / a^T
 * H0^{-1} a)}, and, for a list of epsilons, from the previous epsilon's solution (warm start).
 *
 * <p>Distributed: every endpoint of every target is a small state machine on the driver; each
 * round evaluates all unfinished endpoints' points in as few passes as {@code maxBatch} allows
 * ({@link LogisticObjective}, three GEMMs per block). {@code passes} and evaluations per endpoint
 * are reported.
 *
 * <p>Tolerance: an endpoint stops when the score (logit) error bound from the level mismatch,
 * {@code |F(w) - F0 - eps| / mu}, is below {@code tolS / 2} and the inner solve's score error bound
 * {@code sqrt(a^T H^{-1} a * dec^2)} below {@code tolS / 10}, with {@code tolS = 4 * tolerance};
 * since {@code sigma' <= 1/4}, the probability endpoints are then within about {@code tolerance}.
 */
public final class ExactLogisticRange {
  private static final Logger LOG = LoggerFactory.getLogger(ExactLogisticRange.class);

  private final LogisticObjective objective;
  private final double tolerance;
  private final int maxEvaluations;

  /** The unconstrained optimum {@code w0} of the training objective. */
  public record Baseline(double[] weights, double loss, int iterations, double[][] hessian) {}

  /** One endpoint: the score {@code a^T w} reached (in the target's own sign), and how. */
  public record Endpoint(double score, double loss, double multiplier, int evaluations, boolean converged,
                         double[] weights) {}

  /** The range of one target at one epsilon. */
  public record Range(long id, double baselineScore, Endpoint min, Endpoint max) {
    public double baseline() { return LogisticBatchKernel.sigmoid(baselineScore); }
    public double lower() { return LogisticBatchKernel.sigmoid(min.score()); }
    public double upper() { return LogisticBatchKernel.sigmoid(max.score()); }
    public boolean converged() { return min.converged() && max.converged(); }
  }

  /** All targets' ranges at one epsilon. */
  public record Result(double epsilon, List<Range> ranges, long passes, long evaluations, double seconds) {}

  /**
   * @param tolerance      target accuracy of the probability endpoints (e.g. 1e-6)
   * @param maxEvaluations per endpoint and epsilon; an endpoint that needs more is reported unconverged
   */
  public ExactLogisticRange(LogisticObjective objective, double tolerance, int maxEvaluations) {
    if (!(tolerance > 0) || tolerance >= 0.5) throw new IllegalArgumentException("tolerance must be in (0, 0.5), got " + tolerance);
    if (maxEvaluations < 2) throw new IllegalArgumentException("maxEvaluations must be >= 2, got " + maxEvaluations);
    this.objective = objective;
    this.tolerance = tolerance;
    this.maxEvaluations = maxEvaluations;
  }

  public LogisticObjective objective() { return objective; }

  /** Newton's method (damped, backtracking) from zero to the optimum of the training objective. */
  public Baseline fitBaseline() {
    int p = objective.numParams();
    double[] w = new double[p];
    double[] prevW = null, prevStep = null;
    double prevF = Double.NaN, t = 1;
    for (int it = 1; it <= 200; it++) {
      LogisticObjective.Value v = objective.evaluate(List.of(w), true).get(0);
      if (prevW != null && !(v.loss() <= prevF + 1e-14 * Math.max(1, Math.abs(prevF)))) {
        t /= 2;
        if (t < 1e-12) break;
        w = axpy(prevW, -t, prevStep);
        continue;
      }
      Cholesky ch = Cholesky.of(v.hessian());
      if (ch == null) {
        if (it > 1) break;             // the weights ran off until the curvature vanished: separable
        throw new IllegalArgumentException("the logistic training objective's Hessian is singular at the baseline "
            + "(constant or collinear features with l2 = 0); set an L2 penalty > 0");
      }
      double[] step = ch.solve(v.grad());
      double dec2 = Cholesky.dot(v.grad(), step);
      if (dec2 <= 1e-22 * Math.max(1, Math.abs(v.loss()))) return new Baseline(w, v.loss(), it, v.hessian());
      double lambda = Math.sqrt(dec2);
      t = lambda > 0.5 ? 1.0 / (1.0 + lambda) : 1.0;
      prevW = w;
      prevStep = step;
      prevF = v.loss();
      w = axpy(w, -t, step);
      if (norm(w) > 1e8) break;
    }
    throw new IllegalArgumentException("the logistic baseline fit did not converge (the weights grow without bound "
        + "until the curvature vanishes: the classes are probably linearly separable); set an L2 penalty > 0");
  }

  /**
   * Ranges of every target (feature vectors of size d, with their ids) for each epsilon (all > 0),
   * solving the epsilons in increasing order with warm starts.
   */
  public List<Result> ranges(Baseline base, long[] ids, double[][] targets, double[] epsilons) {
    int p = objective.numParams();
    if (ids.length != targets.length) throw new IllegalArgumentException("ids and targets differ in length");
    if (targets.length == 0) throw new IllegalArgumentException("there are no target rows");
    for (double[] x : targets) {
      if (x.length != p - 1) throw new IllegalArgumentException("a target row has " + x.length + " features, the model " + (p - 1));
    }
    double[] eps = epsilons.clone();
    for (double e : eps) {
      if (!(e > 0) || Double.isInfinite(e)) throw new IllegalArgumentException("epsilon must be > 0 and finite, got " + e);
    }
    Integer[] order = new Integer[eps.length];
    for (int i = 0; i < order.length; i++) order[i] = i;
    Arrays.sort(order, (x, y) -> Double.compare(eps[x], eps[y]));
    Cholesky h0 = Cholesky.of(base.hessian());
    if (h0 == null) throw new IllegalArgumentException("the baseline Hessian is not positive definite; set an L2 penalty > 0");
    int m = targets.length;
    double[][] dirs = new double[2 * m][];
    double[] s0 = new double[m];
    for (int t = 0; t < m; t++) {
      double[] a = new double[p];
      System.arraycopy(targets[t], 0, a, 0, p - 1);
      a[p - 1] = 1.0;
      s0[t] = Cholesky.dot(a, base.weights());
      dirs[2 * t + 1] = a;
      double[] neg = new double[p];
      for (int i = 0; i < p; i++) neg[i] = -a[i];
      dirs[2 * t] = neg;
    }
    Result[] results = new Result[eps.length];
    EndpointSearch[] prev = null;
    for (int oi : order) {
      double e = eps[oi];
      long passes0 = objective.passes(), evals0 = objective.evaluations();
      long t0 = System.nanoTime();
      EndpointSearch[] searches = new EndpointSearch[2 * m];
      for (int k = 0; k < 2 * m; k++) {
        searches[k] = prev == null ? EndpointSearch.fresh(dirs[k], base, h0, e, 4 * tolerance, maxEvaluations)
            : EndpointSearch.warm(prev[k], e, maxEvaluations);
      }
      int round = 0;
      while (true) {
        List<EndpointSearch> active = new ArrayList<>();
        for (EndpointSearch s : searches) if (!s.done) active.add(s);
        if (active.isEmpty()) break;
        List<double[]> pts = new ArrayList<>(active.size());
        for (EndpointSearch s : active) pts.add(s.w);
        List<LogisticObjective.Value> vals = objective.evaluate(pts, true);
        for (int i = 0; i < active.size(); i++) active.get(i).update(vals.get(i));
        round++;
        if (round % 5 == 0) LOG.info("spark-sam multiplicity: epsilon {} round {}: {} of {} endpoints still running",
            e, round, active.size(), 2 * m);
      }
      List<Range> ranges = new ArrayList<>(m);
      for (int t = 0; t < m; t++) {
        EndpointSearch lo = searches[2 * t], hi = searches[2 * t + 1];
        ranges.add(new Range(ids[t], s0[t], lo.endpoint(true), hi.endpoint(false)));
      }
      results[oi] = new Result(e, ranges, objective.passes() - passes0, objective.evaluations() - evals0,
          (System.nanoTime() - t0) / 1e9);
      prev = searches;
    }
    return Arrays.asList(results);
  }

  static double[] axpy(double[] x, double a, double[] y) {
    double[] r = x.clone();
    for (int i = 0; i < r.length; i++) r[i] += a * y[i];
    return r;
  }

  static double norm(double[] x) { return Math.sqrt(Cholesky.dot(x, x)); }

  /** One endpoint's search: maximise {@code a^T w} subject to {@code F(w) <= F0 + eps}. */
  static final class EndpointSearch {
    final double[] a;
    final double f0;
    final double tolS;
    double eps;
    double level;
    int maxEvals;
    double[] w;
    double mu;
    double muLo, muHi = Double.POSITIVE_INFINITY;
    double[] prevW, prevStep;
    double prevT, prevObj;
    int evals;
    boolean done, converged;
    double loss = Double.NaN;
    String failure;
    double[] lastU;          // H^{-1} a at the converged point (for a warm start at a larger epsilon)
    double lastQ;

    private EndpointSearch(double[] a, double f0, double tolS) {
      this.a = a;
      this.f0 = f0;
      this.tolS = tolS;
    }

    static EndpointSearch fresh(double[] a, Baseline base, Cholesky h0, double eps, double tolS, int maxEvals) {
      EndpointSearch s = new EndpointSearch(a, base.loss(), tolS);
      s.setLevel(eps, maxEvals);
      double[] u = h0.solve(a);
      double q = Cholesky.dot(a, u);
      s.mu = Math.sqrt(2 * eps / q);
      s.w = axpy(base.weights(), s.mu, u);
      return s;
    }

    static EndpointSearch warm(EndpointSearch from, double eps, int maxEvals) {
      EndpointSearch s = new EndpointSearch(from.a, from.f0, from.tolS);
      s.setLevel(eps, maxEvals);
      s.w = from.w.clone();
      s.mu = from.mu;
      s.muLo = from.loss <= s.level ? from.mu : 0;
      double delta = from.loss - from.f0;
      if (from.converged && from.lastU != null && delta > 0 && from.loss <= s.level) {
        // the previous solution is w(mu) for the smaller epsilon: take the Newton step on phi for the new
        // level right away, with the predictor along dw/dmu (no pass spent re-evaluating the old point)
        double phi = Math.sqrt(2 * delta) - Math.sqrt(2 * eps);
        double next = from.mu - phi / (from.mu * from.lastQ / Math.sqrt(2 * delta));
        if (next > s.muLo) {
          s.w = axpy(s.w, next - from.mu, from.lastU);
          s.mu = next;
        }
      }
      return s;
    }

    private void setLevel(double eps, int maxEvals) {
      this.eps = eps;
      this.level = f0 + eps;
      this.maxEvals = maxEvals;
    }

    void update(LogisticObjective.Value v) {
      evals++;
      double f = v.loss();
      double obj = f - mu * Cholesky.dot(a, w);
      if (prevW != null && !(obj <= prevObj + 1e-14 * Math.max(1, Math.abs(prevObj)))) {
        prevT /= 2;                       // no decrease of the tilted objective: backtrack
        if (prevT < 1e-12 || evals >= maxEvals) {
          finish(false, "the Newton step for the tilted objective found no decrease");
          return;
        }
        w = axpy(prevW, -prevT, prevStep);
        return;
      }
      Cholesky ch = Cholesky.of(v.hessian());
      if (ch == null) {
        finish(false, "singular Hessian");
        return;
      }
      double[] g = v.grad().clone();
      for (int i = 0; i < g.length; i++) g[i] -= mu * a[i];
      double[] step = ch.solve(g);
      double dec2 = Math.max(0, Cholesky.dot(g, step));
      double[] u = ch.solve(a);
      double q = Cholesky.dot(a, u);
      loss = f;
      if (Math.sqrt(q * dec2) > tolS / 10) {      // not yet at w(mu): damped Newton step
        if (evals >= maxEvals) {
          finish(false, "evaluation limit");
          return;
        }
        double lambda = Math.sqrt(dec2);
        double t = lambda > 0.5 ? 1.0 / (1.0 + lambda) : 1.0;
        prevW = w;
        prevStep = step;
        prevT = t;
        prevObj = obj;
        w = axpy(w, -t, step);
        return;
      }
      // at w(mu) (to tolerance): compare its level with F0 + eps
      w = axpy(w, -1, step);                 // the (tiny) last Newton step is free
      double psi = f - level;
      if (psi <= 0) muLo = Math.max(muLo, mu); else muHi = Math.min(muHi, mu);
      if (Math.abs(psi) <= 0.5 * tolS * mu) {
        lastU = u;
        lastQ = q;
        finish(true, null);
        return;
      }
      if (evals >= maxEvals) {
        finish(false, "evaluation limit");
        return;
      }
      double delta = f - f0;
      double next;
      if (delta <= 0) {
        next = 2 * mu;
      } else {
        double phi = Math.sqrt(2 * delta) - Math.sqrt(2 * eps);
        double dphi = mu * q / Math.sqrt(2 * delta);
        next = mu - phi / dphi;
      }
      if (!(next > muLo && next < muHi)) {
        next = Double.isInfinite(muHi) ? 2 * Math.max(muLo, mu) : 0.5 * (muLo + muHi);
      }
      w = axpy(w, next - mu, u);             // predictor along the tangent dw/dmu = H^{-1} a
      mu = next;
      prevW = null;
    }

    private void finish(boolean ok, String why) {
      done = true;
      converged = ok;
      failure = why;
    }

    /** The endpoint in the target's own orientation ({@code negated}: this search maximised {@code -a^T w}). */
    Endpoint endpoint(boolean negated) {
      double s = Cholesky.dot(a, w);
      return new Endpoint(negated ? -s : s, loss, mu, evals, converged, w.clone());
    }
  }
}
