package io.github.sparksam.sharpness;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every measure {@link SharpnessAnalysis} computed for one model, with what it cost: data passes
 * (distributed sweeps over the Hessian rows) or per-batch sweeps, and wall time. {@link #metric}
 * gives one scalar by name; {@link #toMap} an ordered tree for JSON ({@code sharpness.json}).
 * Measures that were not requested are absent (null).
 */
public final class SharpnessReport implements Serializable {
  private static final long serialVersionUID = 1L;

  /** One sharpness definition: mean over batches of the per-batch values (loss and 0-1 error differences). */
  public record Sharpness(SharpnessSpec spec, double value, double errorValue, double stdErrorOverBatches,
                          double[] perBatch, double[] perBatchError, long sweepsPerBatch, double taskSeconds)
      implements Serializable {}

  /** Wall time of one Hessian measure next to its result. */
  public record Timed<T>(T result, double seconds) implements Serializable {}

  String model;
  int numParams;
  int sampleRows;
  int numBatches;
  double sampleLoss = Double.NaN;
  double sampleError = Double.NaN;
  final List<Sharpness> sharpness = new ArrayList<>();
  double sharpnessSeconds;
  long hessianRows;
  double hessianLoss = Double.NaN;
  double hessianError = Double.NaN;
  double gradientNorm = Double.NaN;
  Timed<Lanczos.TopEigen> topEigenvalue;
  Timed<PowerIteration.Result> topEigenvaluePower;
  Timed<Hutchinson.Result> trace;
  Timed<SpectralDensity> density;
  Timed<DirectionalSharpness.Result> directional;
  long totalPasses;
  double totalSeconds;
  Map<String, Object> settings = new LinkedHashMap<>();

  public List<Sharpness> sharpness() { return Collections.unmodifiableList(sharpness); }

  public Lanczos.TopEigen topEigenvalue() { return topEigenvalue == null ? null : topEigenvalue.result(); }

  public PowerIteration.Result topEigenvaluePower() { return topEigenvaluePower == null ? null : topEigenvaluePower.result(); }

  public Hutchinson.Result trace() { return trace == null ? null : trace.result(); }

  public SpectralDensity density() { return density == null ? null : density.result(); }

  public DirectionalSharpness.Result directional() { return directional == null ? null : directional.result(); }

  public double sampleLoss() { return sampleLoss; }

  public double hessianLoss() { return hessianLoss; }

  /** The sharpness of a definition, or null. */
  public Sharpness sharpness(String metricName) {
    for (Sharpness s : sharpness) if (s.spec().metricName().equals(metricName)) return s;
    return null;
  }

  /** A scalar by metric name (sharpness metrics, topEigenvalue, topEigenvaluePower, hessianTrace, hessianFrobenius, directionalSharpness). */
  public double metric(String name) {
    Double v = switch (name) {
      case SharpnessConfig.TOP_EIGENVALUE -> topEigenvalue == null ? null : topEigenvalue.result().value();
      case SharpnessConfig.TOP_EIGENVALUE_POWER -> topEigenvaluePower == null ? null : topEigenvaluePower.result().value();
      case SharpnessConfig.HESSIAN_TRACE -> trace == null ? null : trace.result().trace();
      case SharpnessConfig.HESSIAN_FROBENIUS -> trace == null ? null : trace.result().frobenius();
      case SharpnessConfig.DIRECTIONAL_SHARPNESS -> directional == null ? null : directional.result().curvature();
      default -> {
        Sharpness s = sharpness(name);
        yield s == null ? null : s.value();
      }
    };
    if (v == null) throw new IllegalArgumentException("metric '" + name + "' was not computed in this report");
    return v;
  }

  /** An ordered tree of maps, lists and numbers (NaN and infinities as strings) for JSON. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", model);
    m.put("numParams", numParams);
    m.put("settings", settings);
    if (!sharpness.isEmpty()) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("sampleRows", sampleRows);
      s.put("batches", numBatches);
      s.put("sampleLoss", num(sampleLoss));
      s.put("sampleError", num(sampleError));
      s.put("wallSeconds", sharpnessSeconds);
      List<Object> defs = new ArrayList<>();
      for (Sharpness x : sharpness) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("metric", x.spec().metricName());
        d.put("definition", x.spec().toString());
        d.put("rho", x.spec().rho());
        d.put("value", num(x.value()));
        d.put("errorValue", num(x.errorValue()));
        d.put("stdErrorOverBatches", num(x.stdErrorOverBatches()));
        d.put("perBatch", nums(x.perBatch()));
        d.put("perBatchError", nums(x.perBatchError()));
        d.put("sweepsPerBatch", x.sweepsPerBatch());
        d.put("taskSeconds", x.taskSeconds());
        defs.add(d);
      }
      s.put("definitions", defs);
      m.put("sharpness", s);
    }
    if (topEigenvalue != null || topEigenvaluePower != null || trace != null || density != null || directional != null) {
      Map<String, Object> h = new LinkedHashMap<>();
      h.put("rows", hessianRows);
      h.put("loss", num(hessianLoss));
      h.put("error", num(hessianError));
      if (topEigenvalue != null) {
        Lanczos.TopEigen t = topEigenvalue.result();
        h.put("topEigenvalue", ordered("method", "lanczos", "value", num(t.value()), "smallestRitzValue", num(t.smallest()),
            "iterations", t.iterations(), "residual", num(t.residual()), "converged", t.converged(),
            "stopRule", Lanczos.STOP_RULE, "tolerance", num(t.tolerance()),
            "passes", t.passes(), "seconds", topEigenvalue.seconds()));
      }
      if (topEigenvaluePower != null) {
        PowerIteration.Result t = topEigenvaluePower.result();
        h.put("topEigenvaluePower", ordered("method", "power iteration", "value", num(t.value()), "iterations", t.iterations(),
            "converged", t.converged(), "stopRule", PowerIteration.STOP_RULE, "tolerance", num(t.tolerance()),
            "lastRelativeChange", num(t.lastRelativeChange()), "passes", t.passes(), "seconds", topEigenvaluePower.seconds()));
      }
      if (trace != null) {
        Hutchinson.Result t = trace.result();
        h.put("trace", ordered("method", "hutchinson (rademacher)", "value", num(t.trace()), "stdError", num(t.traceStdError()),
            "frobeniusNorm", num(t.frobenius()), "frobeniusNormSquared", num(t.frobeniusSquared()),
            "frobeniusNormSquaredStdError", num(t.frobeniusSquaredStdError()), "frobeniusMethod", "mean of ||Hv||^2 over "
                + "the same Rademacher probes (unbiased for ||H||_F^2)",
            "probes", t.probes(), "passes", t.passes(), "seconds", trace.seconds()));
      }
      if (density != null) {
        SpectralDensity d = density.result();
        List<Object> runs = new ArrayList<>();
        for (SpectralDensity.Run r : d.runs()) runs.add(ordered("nodes", nums(r.nodes()), "weights", nums(r.weights())));
        h.put("spectralDensity", ordered("method", "stochastic lanczos quadrature", "runs", runs,
            "firstMoment", num(d.firstMoment()), "minNode", num(d.minNode()), "maxNode", num(d.maxNode()),
            "passes", d.passes(), "seconds", density.seconds()));
      }
      if (directional != null) {
        DirectionalSharpness.Result t = directional.result();
        h.put("directionalSharpness", ordered("direction", "negative gradient (plain GD update)", "curvature", num(t.curvature()),
            "normalizedCurvature", num(t.normalizedCurvature()), "slope", num(t.slope()), "optimalStep", num(t.optimalStep()),
            "predictedLossChange", num(t.predictedLossChange()), "directionNorm", num(t.directionNorm()),
            "passes", t.passes(), "seconds", directional.seconds()));
      }
      m.put("hessian", h);
    }
    m.put("totalPasses", totalPasses);
    m.put("totalSeconds", totalSeconds);
    return m;
  }

  private static Map<String, Object> ordered(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  static Object num(double v) { return Double.isFinite(v) ? (Object) v : String.valueOf(v); }

  static List<Object> nums(double[] v) {
    List<Object> l = new ArrayList<>(v.length);
    for (double x : v) l.add(num(x));
    return l;
  }

  @Override public String toString() {
    StringBuilder sb = new StringBuilder("SharpnessReport(").append(model);
    for (Sharpness s : sharpness) sb.append(", ").append(s.spec().metricName()).append('=').append(s.value());
    if (topEigenvalue != null) sb.append(", topEigenvalue=").append(topEigenvalue.result().value());
    if (trace != null) sb.append(", trace=").append(trace.result().trace());
    return sb.append(')').toString();
  }

  static String arr(double[] a) { return Arrays.toString(a); }
}
