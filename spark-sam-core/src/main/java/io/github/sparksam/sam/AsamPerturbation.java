package io.github.sparksam.sam;

import io.github.sparksam.nn.ParamLayout;

/**
 * ASAM's adaptive perturbation (Kwon, Kim, Park and Choi 2021, "ASAM: Adaptive Sharpness-Aware
 * Minimization for Scale-Invariant Learning of Deep Neural Networks", ICML), element-wise variant:
 * with the diagonal normalisation {@code T = |w| + eta},
 * {@code eps = rho * T^2 g / (||T g|| + xi)}, i.e. the worst case on the ellipsoid
 * {@code ||T^-1 eps|| <= rho}. Scope {@link Scope#WEIGHTS} (the official code) applies T to weight
 * tensors only and the identity to biases (from the model's {@link ParamLayout}); {@link Scope#ALL}
 * applies it to every entry (davda54/GSAM use that variant with {@code eta = 0}). With
 * {@code eta = 0} the rule is equivariant to diagonal rescalings of the parameters, and it freezes
 * entries that are exactly 0. A zero {@code T g} gives {@code eps = 0} exactly.
 */
public final class AsamPerturbation implements Perturbation {
  private static final long serialVersionUID = 1L;

  /** Which entries get {@code T = |w| + eta} (the others get {@code T = 1}). */
  public enum Scope {
    /** Weights only; biases use the identity (official ASAM). */
    WEIGHTS,
    /** Every parameter. */
    ALL;

    /** {@code weights} or {@code all}. */
    public static Scope parse(String s) {
      switch (s == null ? "" : s.toLowerCase(java.util.Locale.ROOT)) {
        case "weights": return WEIGHTS;
        case "all": return ALL;
        default: throw new IllegalArgumentException("adaptiveScope must be weights or all, got '" + s + "'");
      }
    }
  }

  private final double rho;
  private final double eta;
  private final Scope scope;
  private final ParamLayout layout;

  /**
   * @param rho    radius, finite and {@code >= 0}
   * @param eta    {@code >= 0}, added to {@code |w|}
   * @param scope  which entries are rescaled
   * @param layout the model's layout; required for {@link Scope#WEIGHTS}, ignored for {@link Scope#ALL}
   */
  public AsamPerturbation(double rho, double eta, Scope scope, ParamLayout layout) {
    this.rho = SharpnessAwareMinimization.checkRho(rho);
    if (!(eta >= 0) || Double.isInfinite(eta)) throw new IllegalArgumentException("adaptiveEta must be finite and >= 0, got " + eta);
    this.eta = eta;
    this.scope = java.util.Objects.requireNonNull(scope, "scope");
    if (scope == Scope.WEIGHTS && layout == null) {
      throw new IllegalArgumentException("ASAM with adaptiveScope=weights needs the model's parameter layout");
    }
    this.layout = scope == Scope.WEIGHTS ? layout : null;
  }

  /** ASAM on every parameter (no layout needed). */
  public static AsamPerturbation allParameters(double rho, double eta) {
    return new AsamPerturbation(rho, eta, Scope.ALL, null);
  }

  @Override public double perturb(double[] g, double[] w, double[] eps) {
    int n = g.length;
    if (w.length != n || eps.length != n) {
      throw new IllegalArgumentException("g, w, eps have " + n + ", " + w.length + ", " + eps.length + " entries");
    }
    if (layout != null && layout.size() != n) {
      throw new IllegalArgumentException("the layout has " + layout.size() + " parameters, g has " + n);
    }
    // pass 1: ||T g||
    double ss = 0;
    if (layout == null) {
      for (int i = 0; i < n; i++) {
        double u = (Math.abs(w[i]) + eta) * g[i];
        ss += u * u;
      }
    } else {
      for (ParamLayout.Tensor t : layout.tensors()) {
        boolean adaptive = t.kind() == ParamLayout.Kind.WEIGHT;
        for (int i = t.offset(), end = t.offset() + t.size(); i < end; i++) {
          double u = adaptive ? (Math.abs(w[i]) + eta) * g[i] : g[i];
          ss += u * u;
        }
      }
    }
    double norm = Math.sqrt(ss);
    if (norm == 0 || rho == 0) {
      java.util.Arrays.fill(eps, 0.0);
      return 0.0;
    }
    // pass 2: eps = rho T^2 g / (||T g|| + xi); reads w[i] before writing eps[i] (they may alias)
    double scale = rho / (norm + XI);
    double es = 0;
    if (layout == null) {
      for (int i = 0; i < n; i++) {
        double t = Math.abs(w[i]) + eta;
        double e = scale * t * t * g[i];
        eps[i] = e;
        es += e * e;
      }
    } else {
      for (ParamLayout.Tensor tn : layout.tensors()) {
        boolean adaptive = tn.kind() == ParamLayout.Kind.WEIGHT;
        for (int i = tn.offset(), end = tn.offset() + tn.size(); i < end; i++) {
          double t = adaptive ? Math.abs(w[i]) + eta : 1.0;
          double e = scale * t * t * g[i];
          eps[i] = e;
          es += e * e;
        }
      }
    }
    return Math.sqrt(es);
  }

  @Override public double rho() { return rho; }

  @Override public AsamPerturbation withRho(double r) { return new AsamPerturbation(r, eta, scope, layout); }

  public double eta() { return eta; }

  public Scope scope() { return scope; }

  @Override public String name() { return "asam"; }

  @Override public String toString() {
    return "AsamPerturbation(rho=" + rho + ", eta=" + eta + ", scope=" + scope.name().toLowerCase(java.util.Locale.ROOT)
        + ", xi=" + XI + ")";
  }
}
