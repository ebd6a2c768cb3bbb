package io.github.sparksam.jobs;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What {@link SharpnessCorrelationJob} produced: one row per model (hyperparameters, train/test error and loss,
 * generalisation gaps, out-of-distribution error per shift, each sharpness measure, timings) and one row per
 * (measure, generalisation quantity) pair (Kendall tau-b and tau-a, its p-value and bootstrap interval, the
 * granulated psi per hyperparameter axis and their mean Psi); as DataFrames, CSV, a JSON tree and a Markdown report.
 */
public final class CorrelationReport implements Serializable {
    private static final long serialVersionUID = 1L;

    final List<Map<String, Object>> models = new ArrayList<>();
    final List<Map<String, Object>> correlations = new ArrayList<>();
    final List<String> measures = new ArrayList<>();
    final List<String> targets = new ArrayList<>();
    final List<String> hyperparameters = new ArrayList<>();
    final List<String> axes = new ArrayList<>();
    final Map<String, Object> settings = new LinkedHashMap<>();
    final Map<String, Object> timing = new LinkedHashMap<>();

    /** The per-model rows (ordered maps; NaN where a value is undefined). */
    public List<Map<String, Object>> models() {
        return models;
    }

    /** The correlation rows, one per (measure, target). */
    public List<Map<String, Object>> correlations() {
        return correlations;
    }

    /** The sharpness measures' column names. */
    public List<String> measures() {
        return measures;
    }

    /** The generalisation quantities' column names. */
    public List<String> targets() {
        return targets;
    }

    /** The hyperparameter axes of the granulated coefficient. */
    public List<String> axes() {
        return axes;
    }

    public Map<String, Object> settings() {
        return settings;
    }

    public Map<String, Object> timing() {
        return timing;
    }

    /** The correlation row of (measure, target), or null. */
    public Map<String, Object> correlation(String measure, String target) {
        for (Map<String, Object> c : correlations) {
            if (c.get("measure").equals(measure) && c.get("target").equals(target)) {
                return c;
            }
        }
        return null;
    }

    /** One column of the per-model table as doubles (NaN for missing). */
    public double[] column(String name) {
        double[] v = new double[models.size()];
        for (int i = 0; i < v.length; i++) {
            Object o = models.get(i).get(name);
            v[i] = o instanceof Number n ? n.doubleValue() : Double.NaN;
        }
        return v;
    }

    /** The per-model table as CSV (header, one line per model; RFC 4180 quoting). */
    public String modelsCsv() {
        return csv(models);
    }

    /** The correlation table as CSV. */
    public String correlationsCsv() {
        return csv(correlations);
    }

    /** An ordered JSON-ready tree: settings, timing, models, correlations (NaN as the string "NaN"). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("settings", settings);
        m.put("measures", measures);
        m.put("targets", targets);
        m.put("axes", axes);
        m.put("timing", timing);
        m.put("models", jsonSafe(models));
        m.put("correlations", jsonSafe(correlations));
        return m;
    }

    private static List<Map<String, Object>> jsonSafe(List<Map<String, Object>> rows) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            Map<String, Object> c = new LinkedHashMap<>();
            r.forEach((k, v) -> c.put(k, v instanceof Double d && !Double.isFinite(d) ? String.valueOf(d) : v));
            out.add(c);
        }
        return out;
    }

    /** The per-model table as a DataFrame (strings, longs and doubles). */
    public Dataset<Row> modelsDataFrame(SparkSession spark) {
        return frame(spark, models);
    }

    /** The correlation table as a DataFrame. */
    public Dataset<Row> correlationsDataFrame(SparkSession spark) {
        return frame(spark, correlations);
    }

    private static Dataset<Row> frame(SparkSession spark, List<Map<String, Object>> rows) {
        List<String> cols = columns(rows);
        StructType schema = new StructType();
        for (String c : cols) {
            DataType t = DataTypes.DoubleType;
            for (Map<String, Object> r : rows) {
                Object v = r.get(c);
                if (v instanceof String || v instanceof Boolean) {
                    t = DataTypes.StringType;
                    break;
                }
                if (v instanceof Long || v instanceof Integer) {
                    t = DataTypes.LongType;
                }
            }
            schema = schema.add(c, t, true);
        }
        List<Row> out = new ArrayList<>();
        for (Map<String, Object> r : rows) {
            Object[] vals = new Object[cols.size()];
            for (int i = 0; i < vals.length; i++) {
                Object v = r.get(cols.get(i));
                DataType t = schema.fields()[i].dataType();
                if (v == null) {
                    vals[i] = null;
                } else if (t.equals(DataTypes.StringType)) {
                    vals[i] = String.valueOf(v);
                } else if (t.equals(DataTypes.LongType)) {
                    vals[i] = ((Number) v).longValue();
                } else {
                    vals[i] = ((Number) v).doubleValue();
                }
            }
            out.add(RowFactory.create(vals));
        }
        return spark.createDataFrame(out, schema);
    }

    private static List<String> columns(List<Map<String, Object>> rows) {
        Set<String> cols = new LinkedHashSet<>();
        for (Map<String, Object> r : rows) {
            cols.addAll(r.keySet());
        }
        return new ArrayList<>(cols);
    }

    private static String csv(List<Map<String, Object>> rows) {
        List<String> cols = columns(rows);
        StringBuilder sb = new StringBuilder();
        sb.append(String.join(",", cols.stream().map(CorrelationReport::quote).toList())).append('\n');
        for (Map<String, Object> r : rows) {
            for (int i = 0; i < cols.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                Object v = r.get(cols.get(i));
                sb.append(v == null ? "" : quote(format(v)));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String format(Object v) {
        if (v instanceof Double d) {
            return Double.isFinite(d) ? Double.toString(d) : (Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
        }
        return String.valueOf(v);
    }

    private static String quote(String s) {
        if (s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }

    static String f(Object v, int digits) {
        if (!(v instanceof Number n)) {
            return String.valueOf(v);
        }
        double d = n.doubleValue();
        if (Double.isNaN(d)) {
            return "n/a";
        }
        return String.format(Locale.ROOT, "%." + digits + "f", d);
    }

    static String g(double d) {
        return Double.isNaN(d) ? "n/a" : String.format(Locale.ROOT, "%.4g", d);
    }

    /**
     * A short Markdown report: the settings, the per-model summary, tau-b of every measure against test error,
     * generalisation gap and OOD error (with p-values, bootstrap intervals and the granulated Psi), the strongest
     * associations, and the wall time. {@code images} are PNG file names to link (may be empty).
     */
    public String markdown(String title, List<String> images) {
        StringBuilder sb = new StringBuilder();
        sb.append("# ").append(title).append("\n\n");
        sb.append("## Setup\n\n");
        settings.forEach((k, v) -> sb.append("- **").append(k).append("**: ").append(v).append('\n'));
        sb.append("\n## Models (").append(models.size()).append(")\n\n");
        double[] te = column("testError");
        double[] gap = column("generalizationGap");
        double[] ood = column("oodError");
        sb.append(String.format(Locale.ROOT, "| quantity | min | median | max |%n|---|---|---|---|%n"));
        for (String q : List.of("trainError", "testError", "generalizationGap", "oodError")) {
            double[] v = column(q);
            if (allNaN(v)) {
                continue;
            }
            double[] s = java.util.Arrays.stream(v).filter(Double::isFinite).sorted().toArray();
            sb.append(String.format(Locale.ROOT, "| %s | %.4f | %.4f | %.4f |%n", q, s[0], s[s.length / 2], s[s.length - 1]));
        }
        for (String m : measures) {
            double[] s = java.util.Arrays.stream(column(m)).filter(Double::isFinite).sorted().toArray();
            if (s.length > 0) {
                sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s |%n", m, g(s[0]), g(s[s.length / 2]), g(s[s.length - 1])));
            }
        }
        sb.append("\nThe full per-model table is `models.csv` / `models.json`.\n");
        sb.append("\n## Kendall tau-b (ties corrected) of each measure with the generalisation quantities\n\n");
        sb.append("p: two-sided, normal approximation with the tie-corrected variance; CI: 95% percentile bootstrap over "
                + "models; Psi: granulated Kendall (mean over the axes ").append(axes).append(" of the mean tau-b within "
                + "groups of models that differ only in that axis).\n\n");
        List<String> main = new ArrayList<>();
        for (String t : List.of("testError", "generalizationGap", "oodError")) {
            if (targets.contains(t)) {
                main.add(t);
            }
        }
        sb.append("| measure |");
        for (String t : main) {
            sb.append(" tau-b vs ").append(t).append(" (p) [CI] | Psi vs ").append(t).append(" |");
        }
        sb.append("\n|---|");
        sb.append("---|---|".repeat(main.size()));
        sb.append('\n');
        for (String m : measures) {
            sb.append("| ").append(m).append(" |");
            for (String t : main) {
                Map<String, Object> c = correlation(m, t);
                if (c == null) {
                    sb.append(" n/a | n/a |");
                    continue;
                }
                sb.append(' ').append(f(c.get("tauB"), 3)).append(" (").append(f(c.get("pValue"), 3)).append(") [")
                        .append(f(c.get("ciLow"), 2)).append(", ").append(f(c.get("ciHigh"), 2)).append("] | ")
                        .append(f(c.get("psi"), 3)).append(" |");
            }
            sb.append('\n');
        }
        sb.append("\nEvery pair, every per-corruption target and the per-axis psi values are in `correlations.csv` / "
                + "`correlations.json`.\n");
        sb.append("\n## Strongest associations\n\n");
        for (String t : main) {
            Map<String, Object> best = null;
            for (String m : measures) {
                Map<String, Object> c = correlation(m, t);
                if (c != null && c.get("tauB") instanceof Double d && !Double.isNaN(d)
                        && (best == null || Math.abs(d) > Math.abs((Double) best.get("tauB")))) {
                    best = c;
                }
            }
            if (best != null) {
                sb.append(String.format(Locale.ROOT, "- %s: strongest |tau-b| is %s, tau-b = %.3f (p = %s, %d models), "
                                + "Psi = %s.%n", t, best.get("measure"), (Double) best.get("tauB"), f(best.get("pValue"), 3),
                        ((Number) best.get("n")).intValue(), f(best.get("psi"), 3)));
            }
        }
        if (!images.isEmpty()) {
            sb.append("\n## Plots\n\n");
            for (String i : images) {
                sb.append("![").append(i).append("](").append(i).append(")\n\n");
            }
        }
        sb.append("\n## Wall time\n\n");
        timing.forEach((k, v) -> sb.append("- **").append(k).append("**: ").append(v instanceof Double d ? f(d, 1) : v).append('\n'));
        if (te.length == 0 && gap.length == 0 && ood.length == 0) {
            sb.append("\n(no models)\n");
        }
        return sb.toString();
    }

    private static boolean allNaN(double[] v) {
        for (double d : v) {
            if (Double.isFinite(d)) {
                return false;
            }
        }
        return true;
    }
}
