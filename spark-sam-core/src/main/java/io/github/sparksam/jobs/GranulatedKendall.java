package io.github.sparksam.jobs;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Granulated Kendall coefficient (Jiang, Neyshabur, Mobahi, Krishnan and Bengio 2020, "Fantastic generalization
 * measures and where to find them"; spec section 1.6). For each hyperparameter axis i, the models are grouped by
 * the values of every <em>other</em> hyperparameter, so that the models of a group differ only in axis i; tau-b
 * ({@link KendallTau#tauB}) between the measure and the target is computed within each group, and
 * psi_i is the mean over the groups. Psi is the mean of psi_i over the axes.
 *
 * <p>An axis may be a composite of several fields joined by {@code +} (e.g. {@code rule+rho}: rho means nothing
 * without a sharpness-aware rule, so the grid normalises rho to 0 for rule none, and the two vary together as one
 * axis). Groups with fewer than two models, with a single value of the axis, or whose tau is undefined (a constant
 * measure or target within the group) are skipped and counted in {@link Axis#skippedGroups}. On a full product grid
 * with axis sizes n_j, axis i has prod_{j != i} n_j groups of n_i models each, as in Jiang et al.
 */
public final class GranulatedKendall {

    private GranulatedKendall() {
    }

    /** psi of one axis: the mean tau-b over its groups, with the per-group values. */
    public record Axis(String axis, double psi, int groups, int skippedGroups, List<Double> groupTaus) {
    }

    /** All axes and their mean Psi (NaN when no axis has a group). */
    public record Result(List<Axis> axes, double psi) {
        public Axis axis(String name) {
            for (Axis a : axes) {
                if (a.axis().equals(name)) {
                    return a;
                }
            }
            return null;
        }
    }

    /**
     * @param hyper   per model, its hyperparameters as strings (same keys for every model); the grouping uses every
     *                key of the map
     * @param measure per model, the measure (NaN: the model is left out)
     * @param target  per model, the generalisation quantity (NaN: left out)
     * @param axes    the axes, each a field name or fields joined by {@code +}
     */
    public static Result compute(List<Map<String, String>> hyper, double[] measure, double[] target, List<String> axes) {
        if (hyper.size() != measure.length || measure.length != target.length) {
            throw new IllegalArgumentException("granulated Kendall: " + hyper.size() + " models, " + measure.length
                    + " measures, " + target.length + " targets");
        }
        Set<String> keys = hyper.isEmpty() ? Set.of() : hyper.get(0).keySet();
        List<Axis> out = new ArrayList<>();
        double sum = 0;
        int defined = 0;
        for (String axis : axes) {
            Set<String> fields = new LinkedHashSet<>(Arrays.asList(axis.split("\\+")));
            for (String f : fields) {
                if (!keys.contains(f)) {
                    throw new IllegalArgumentException("granulated Kendall: axis '" + axis + "' names '" + f
                            + "', which is not a hyperparameter; known: " + keys);
                }
            }
            Map<String, List<Integer>> groups = new LinkedHashMap<>();
            for (int i = 0; i < hyper.size(); i++) {
                if (!Double.isFinite(measure[i]) || !Double.isFinite(target[i])) {
                    continue;
                }
                StringBuilder k = new StringBuilder();
                for (Map.Entry<String, String> e : hyper.get(i).entrySet()) {
                    if (!fields.contains(e.getKey())) {
                        k.append(e.getKey()).append('=').append(e.getValue()).append(';');
                    }
                }
                groups.computeIfAbsent(k.toString(), x -> new ArrayList<>()).add(i);
            }
            List<Double> taus = new ArrayList<>();
            int skipped = 0;
            for (List<Integer> g : groups.values()) {
                Set<String> values = new LinkedHashSet<>();
                for (int i : g) {
                    StringBuilder v = new StringBuilder();
                    for (String f : fields) {
                        v.append(hyper.get(i).get(f)).append(';');
                    }
                    values.add(v.toString());
                }
                if (g.size() < 2 || values.size() < 2) {
                    skipped++;
                    continue;
                }
                double[] a = new double[g.size()];
                double[] b = new double[g.size()];
                for (int j = 0; j < g.size(); j++) {
                    a[j] = measure[g.get(j)];
                    b[j] = target[g.get(j)];
                }
                double t = KendallTau.tauB(a, b);
                if (Double.isNaN(t)) {
                    skipped++;
                } else {
                    taus.add(t);
                }
            }
            double psi = taus.isEmpty() ? Double.NaN : taus.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            out.add(new Axis(axis, psi, taus.size(), skipped, List.copyOf(taus)));
            if (!Double.isNaN(psi)) {
                sum += psi;
                defined++;
            }
        }
        return new Result(List.copyOf(out), defined == 0 ? Double.NaN : sum / defined);
    }

    /**
     * The default axes for a set of models: every field that takes more than one value, except {@code seed}
     * (a replicate, not a hyperparameter); {@code rule} and {@code rho} become one axis {@code rule+rho} when both vary.
     */
    public static List<String> defaultAxes(List<Map<String, String>> hyper) {
        List<String> axes = new ArrayList<>();
        if (hyper.isEmpty()) {
            return axes;
        }
        for (String k : hyper.get(0).keySet()) {
            if (k.equals("seed")) {
                continue;
            }
            Set<String> vals = new LinkedHashSet<>();
            for (Map<String, String> h : hyper) {
                vals.add(h.get(k));
            }
            if (vals.size() > 1) {
                axes.add(k);
            }
        }
        if (axes.contains("rule") && axes.contains("rho")) {
            int i = axes.indexOf("rule");
            axes.remove("rho");
            axes.set(i, "rule+rho");
        }
        return axes;
    }
}
