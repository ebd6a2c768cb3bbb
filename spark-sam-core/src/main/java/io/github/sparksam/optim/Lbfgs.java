package io.github.sparksam.optim;

import breeze.linalg.DenseVector;
import breeze.linalg.DenseVector$;
import breeze.linalg.DenseVector$mcD$sp;
import breeze.math.MutableFiniteCoordinateField;
import breeze.optimize.CachedDiffFunction;
import breeze.optimize.FirstOrderMinimizer;
import breeze.optimize.LBFGS;

/**
 * Full-batch limited-memory BFGS (Liu and Nocedal 1989) through Breeze's {@code LBFGS}, driven the
 * way MLlib's {@code LogisticRegression} drives it: {@code new LBFGS(maxIter, m, tol)} with a
 * {@link CachedDiffFunction} around the objective and {@code iterations(...)} stepped from the
 * driver. Breeze's strong-Wolfe line search picks the step, so there is no learning rate.
 *
 * <p>Convergence is Breeze's (and therefore MLlib's) default check: stop after {@code maxIter}
 * iterations; or when the objective is within {@code tol * |f(w0)|} of the largest of its last 20
 * values; or when {@code ||grad|| <= max(tol * |f|, 1e-8)}; or when the line search fails. Giving MLlib and this class the
 * same {@code tol} therefore means the same stopping rule.
 *
 * <p>The objective is any {@link Objective}; each call is typically one distributed pass (see
 * {@code io.github.sparksam.train.FullBatchLbfgs} and the multiplicity job's baseline comparison).
 */
public final class Lbfgs {
  /** A differentiable objective: returns {@code f(w)} and writes {@code grad f(w)} into {@code grad}. */
  @FunctionalInterface
  public interface Objective {
    double valueAndGradient(double[] w, double[] grad);
  }

  /** Called on the driver after every accepted iterate (1-based {@code iteration}). */
  @FunctionalInterface
  public interface Listener {
    void onIteration(int iteration, double value, double gradientNorm, long evaluations, double[] w);
  }

  /** The minimiser found, why the iteration stopped, and its cost. */
  public record Result(double[] weights, double value, double gradientNorm, int iterations, long evaluations,
                       String stopReason) {
    /** Whether a convergence criterion (not the iteration limit or a failed line search) stopped the run. */
    public boolean converged() {
      return stopReason.startsWith("gradient") || stopReason.startsWith("function");
    }
  }

  private final int maxIter;
  private final int historySize;
  private final double tol;

  /**
   * @param maxIter     most iterations (>= 1); each costs one objective evaluation plus any the
   *                    line search needs
   * @param historySize correction pairs kept (m, >= 1; MLlib uses 10)
   * @param tol         convergence tolerance (> 0), as MLlib's {@code tol}
   */
  public Lbfgs(int maxIter, int historySize, double tol) {
    if (maxIter < 1) throw new IllegalArgumentException("L-BFGS maxIter must be >= 1, got " + maxIter);
    if (historySize < 1) throw new IllegalArgumentException("L-BFGS history size m must be >= 1, got " + historySize);
    Checks.positive("L-BFGS tol", tol);
    this.maxIter = maxIter;
    this.historySize = historySize;
    this.tol = tol;
  }

  public int maxIter() { return maxIter; }

  public int historySize() { return historySize; }

  public double tol() { return tol; }

  /**
   * Minimises {@code f} from {@code w0} (not modified). A non-finite value or gradient stops the run
   * with an {@link ArithmeticException} naming the evaluation.
   */
  public Result minimize(Objective f, double[] w0, Listener listener) {
    MutableFiniteCoordinateField<DenseVector<Object>, Object, Object> space = DenseVector$.MODULE$.space_Double();
    long[] evaluations = {0};
    BreezeDiffFunction fn = new BreezeDiffFunction((w, g) -> {
      double v = f.valueAndGradient(w, g);
      evaluations[0]++;
      if (!Double.isFinite(v) || !GradientClipping.allFinite(g)) {
        throw new ArithmeticException("L-BFGS: the objective or its gradient is not finite at evaluation "
            + evaluations[0] + " (value " + v + ")");
      }
      return v;
    });
    LBFGS<DenseVector<Object>> lbfgs = new LBFGS<>(maxIter, historySize, tol, space);
    CachedDiffFunction<DenseVector<Object>> cached = new CachedDiffFunction<>(fn, space.copy());
    scala.collection.Iterator<FirstOrderMinimizer.State<DenseVector<Object>, Object, Object>> it =
        lbfgs.iterations(cached, new DenseVector$mcD$sp(w0.clone()));
    FirstOrderMinimizer.State<DenseVector<Object>, Object, Object> state = null;
    while (it.hasNext()) {
      state = it.next();
      if (state.iter() > 0 && listener != null) {
        listener.onIteration(state.iter(), state.value(), norm(toArray(state.grad())), evaluations[0], toArray(state.x()));
      }
    }
    if (state == null) throw new IllegalStateException("Breeze LBFGS returned no state");
    String reason = state.convergenceReason().isDefined() ? state.convergenceReason().get().reason() : "max iterations";
    return new Result(toArray(state.x()), state.value(), norm(toArray(state.grad())), state.iter(), evaluations[0],
        reason);
  }

  private static double[] toArray(DenseVector<Object> v) {
    double[] data = v.data$mcD$sp();
    if (v.offset() == 0 && v.stride() == 1 && data.length == v.length()) return data.clone();
    double[] out = new double[v.length()];
    for (int i = 0; i < out.length; i++) out[i] = data[v.offset() + i * v.stride()];
    return out;
  }

  static double norm(double[] a) {
    double s = 0;
    for (double x : a) s += x * x;
    return Math.sqrt(s);
  }
}
