package io.github.sparksam.sharpness;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What {@link SharpnessAnalysis} measures and how. Defaults follow the reference protocol of
 * Andriushchenko et al. 2023 (spec 1.2-1.4, 1.8): the first 1024 rows by example id in batches of
 * 128, 20 APGD steps (step size 2 rho, momentum 0.75), 20 average-case draws without antithetic
 * pairs; and PyHessian's settings for power iteration (100 iterations, tolerance 1e-3). Fluent
 * setters; validated when run.
 */
public final class SharpnessConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Hessian measure names (besides the eight sharpness metrics of {@link SharpnessSpec}). */
  public static final String TOP_EIGENVALUE = "topEigenvalue";
  public static final String TOP_EIGENVALUE_POWER = "topEigenvaluePower";
  public static final String HESSIAN_TRACE = "hessianTrace";
  public static final String HESSIAN_FROBENIUS = "hessianFrobenius";
  public static final String SPECTRAL_DENSITY = "spectralDensity";
  public static final String DIRECTIONAL_SHARPNESS = "directionalSharpness";
  public static final List<String> HESSIAN_MEASURES = List.of(TOP_EIGENVALUE, TOP_EIGENVALUE_POWER, HESSIAN_TRACE,
      SPECTRAL_DENSITY, DIRECTIONAL_SHARPNESS);

  public int sampleSize = 1024;
  public int batchSize = 128;
  /** Negative: the first rows by example id (the reference); else a seeded random sample. */
  public long sampleSeed = -1;
  public List<SharpnessSpec> specs = new ArrayList<>(SharpnessSpec.defaults());
  public int worstCaseIters = 20;
  public double stepSizeMult = 1.0;
  public boolean referenceRestart = false;
  public int averageCaseDraws = 20;
  public boolean antithetic = false;
  /** Which Hessian measures to compute (subset of {@link #HESSIAN_MEASURES}). */
  public Set<String> hessianMeasures = new LinkedHashSet<>(HESSIAN_MEASURES);
  /** Rows for the Hessian measures: 0 = every row of the data; N = the first N in the sample's key order. */
  public int hessianRows = 0;
  public int lanczosMaxIter = 50;
  public double lanczosTol = 1e-6;
  public int powerMaxIter = 100;
  /** Power iteration's stop rule: relative change of the Rayleigh quotient below this (PyHessian: 1e-3). */
  public double powerTol = 1e-3;
  public int hutchinsonProbes = 64;
  public int probesPerPass = 8;
  public int densityRuns = 4;
  public int densityIters = 30;
  public long seed = 0;
  /** Rows per task-side sweep chunk of the distributed passes. */
  public int chunkRows = 256;

  public SharpnessConfig sample(int size, int batch, long seed) {
    this.sampleSize = size;
    this.batchSize = batch;
    this.sampleSeed = seed;
    return this;
  }

  public SharpnessConfig specs(List<SharpnessSpec> s) {
    this.specs = new ArrayList<>(s);
    return this;
  }

  public SharpnessConfig hessianMeasures(String... names) {
    this.hessianMeasures = new LinkedHashSet<>(List.of(names));
    return this;
  }

  public SharpnessConfig hessianRows(int n) {
    this.hessianRows = n;
    return this;
  }

  public SharpnessConfig seed(long s) {
    this.seed = s;
    return this;
  }

  public SharpnessConfig worstCase(int iters, double stepMult, boolean referenceRestart) {
    this.worstCaseIters = iters;
    this.stepSizeMult = stepMult;
    this.referenceRestart = referenceRestart;
    return this;
  }

  public SharpnessConfig averageCase(int draws, boolean antithetic) {
    this.averageCaseDraws = draws;
    this.antithetic = antithetic;
    return this;
  }

  public SharpnessConfig lanczos(int maxIter, double tol) {
    this.lanczosMaxIter = maxIter;
    this.lanczosTol = tol;
    return this;
  }

  public SharpnessConfig power(int maxIter, double tol) {
    this.powerMaxIter = maxIter;
    this.powerTol = tol;
    return this;
  }

  public SharpnessConfig hutchinson(int probes, int perPass) {
    this.hutchinsonProbes = probes;
    this.probesPerPass = perPass;
    return this;
  }

  public SharpnessConfig density(int runs, int iters) {
    this.densityRuns = runs;
    this.densityIters = iters;
    return this;
  }

  /** Only the measure a metric name names (a sharpness metric at {@code rho}, or a Hessian measure). */
  public SharpnessConfig only(String metricName, double rho) {
    if (metricName.equals(HESSIAN_FROBENIUS)) metricName = HESSIAN_TRACE;
    if (HESSIAN_MEASURES.contains(metricName)) {
      specs = new ArrayList<>();
      hessianMeasures = new LinkedHashSet<>(List.of(metricName));
    } else {
      specs = new ArrayList<>(List.of(SharpnessSpec.ofMetric(metricName, rho)));
      hessianMeasures = new LinkedHashSet<>();
    }
    return this;
  }

  void validate() {
    positive("sampleSize", sampleSize);
    positive("batchSize", batchSize);
    positive("worstCaseIters", worstCaseIters);
    positive("averageCaseDraws", averageCaseDraws);
    positive("lanczosMaxIter", lanczosMaxIter);
    positive("powerMaxIter", powerMaxIter);
    positive("probesPerPass", probesPerPass);
    positive("densityRuns", densityRuns);
    positive("densityIters", densityIters);
    positive("chunkRows", chunkRows);
    nonNegativeFinite("lanczosTol", lanczosTol);
    nonNegativeFinite("powerTol", powerTol);
    if (hutchinsonProbes < 2) throw new IllegalArgumentException("hutchinsonProbes must be >= 2, got " + hutchinsonProbes);
    if (hessianRows < 0) throw new IllegalArgumentException("hessianRows must be >= 0, got " + hessianRows);
    if (!(stepSizeMult > 0)) throw new IllegalArgumentException("stepSizeMult must be > 0, got " + stepSizeMult);
    for (String m : hessianMeasures) {
      if (!HESSIAN_MEASURES.contains(m)) {
        throw new IllegalArgumentException("unknown Hessian measure '" + m + "'; valid: " + HESSIAN_MEASURES);
      }
    }
  }

  private static void nonNegativeFinite(String name, double v) {
    if (!(v >= 0) || Double.isInfinite(v)) throw new IllegalArgumentException(name + " must be finite and >= 0, got " + v);
  }

  private static void positive(String name, int v) {
    if (v < 1) throw new IllegalArgumentException(name + " must be >= 1, got " + v);
  }
}
