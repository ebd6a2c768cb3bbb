package io.github.sparksam.sam;

/**
 * SAM's first-order worst-case perturbation (Foret, Kleiner, Mobahi and Neyshabur 2021,
 * "Sharpness-Aware Minimization for Efficiently Improving Generalization", ICLR; the p = 2 case):
 * {@code eps = rho * g / (||g|| + xi)} with one global L2 norm over all parameters and
 * {@code xi = 1e-12}. A zero gradient gives {@code eps = 0} exactly.
 */
public final class SamPerturbation implements Perturbation {
  private static final long serialVersionUID = 1L;

  private final double rho;

  /** @param rho radius, finite and {@code >= 0} */
  public SamPerturbation(double rho) {
    this.rho = SharpnessAwareMinimization.checkRho(rho);
  }

  @Override public double perturb(double[] g, double[] w, double[] eps) {
    if (g.length != eps.length) throw new IllegalArgumentException("g has " + g.length + " entries, eps " + eps.length);
    double ss = 0;
    for (double v : g) ss += v * v;
    double n = Math.sqrt(ss);
    if (n == 0 || rho == 0) {
      java.util.Arrays.fill(eps, 0.0);
      return 0.0;
    }
    double scale = rho / (n + XI);
    double es = 0;
    for (int i = 0; i < g.length; i++) {
      double e = scale * g[i];
      eps[i] = e;
      es += e * e;
    }
    return Math.sqrt(es);
  }

  @Override public double rho() { return rho; }

  @Override public SamPerturbation withRho(double r) { return new SamPerturbation(r); }

  @Override public String name() { return "sam"; }

  @Override public String toString() { return "SamPerturbation(rho=" + rho + ", xi=" + XI + ")"; }
}
