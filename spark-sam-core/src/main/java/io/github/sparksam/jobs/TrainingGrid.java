package io.github.sparksam.jobs;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A grid of training configurations: the Cartesian product of value lists per hyperparameter, or the union of
 * several such products. Written as JSON (Jackson, on Spark's classpath):
 *
 * <pre>{@code
 * { "optimizer": ["sgd"], "rule": ["none", "sam"], "learningRate": [0.05, 0.2], "batchSize": [128, 512],
 *   "rho": [0.05, 0.2], "weightDecay": [0], "seed": [1, 2], "epochs": [3],
 *   "model": "mlp", "hidden": [64], "activation": "relu", "schedule": "cosine", "momentum": 0.9,
 *   "precision": "float32" }
 * }</pre>
 * A field may be a single value instead of a list; missing fields take the defaults below; an array of such
 * objects is the union of their products. rho is normalised to 0 for rule {@code none}, and configurations that
 * become identical are kept once, so the example above expands to 8 plain + 16 SAM = 24 models.
 */
public final class TrainingGrid {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final Set<String> KNOWN = new LinkedHashSet<>(List.of("optimizer", "rule", "learningRate", "lr",
            "batchSize", "rho", "weightDecay", "seed", "epochs", "model", "hidden", "activation", "schedule", "momentum",
            "precision"));

    private final Map<String, List<Object>> axes = new LinkedHashMap<>();
    private String model = "mlp";
    private int[] hidden = {64};
    private String activation = "relu";
    private String schedule = "cosine";
    private double momentum = 0.9;
    private String precision = "float32";

    /** A grid with the defaults: sgd, rule none, lr 0.1, batch 128, rho 0.05, weight decay 0, seed 1, 3 epochs. */
    public TrainingGrid() {
        axes.put("optimizer", List.of("sgd"));
        axes.put("rule", List.of("none"));
        axes.put("learningRate", List.of(0.1));
        axes.put("batchSize", List.of(128));
        axes.put("rho", List.of(0.05));
        axes.put("weightDecay", List.of(0.0));
        axes.put("seed", List.of(1L));
        axes.put("epochs", List.of(3));
    }

    /** Sets the values of one hyperparameter ({@link TrainingSpec#FIELDS}). */
    public TrainingGrid set(String field, List<?> values) {
        String f = field.equals("lr") ? "learningRate" : field;
        if (!TrainingSpec.FIELDS.contains(f)) {
            throw new IllegalArgumentException("unknown grid field '" + field + "'; valid: " + TrainingSpec.FIELDS);
        }
        if (values.isEmpty()) {
            throw new IllegalArgumentException("grid field '" + field + "' has no values");
        }
        axes.put(f, List.copyOf(values));
        return this;
    }

    public TrainingGrid architecture(String model, int[] hidden, String activation, String schedule, double momentum,
                                     String precision) {
        this.model = model;
        this.hidden = hidden.clone();
        this.activation = activation;
        this.schedule = schedule;
        this.momentum = momentum;
        this.precision = precision;
        return this;
    }

    /** The expanded configurations, in row-major order of the fields, duplicates (after normalisation) removed. */
    public List<TrainingSpec> expand() {
        List<TrainingSpec> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        List<String> fields = TrainingSpec.FIELDS;
        int[] idx = new int[fields.size()];
        while (true) {
            Map<String, Object> v = new LinkedHashMap<>();
            for (int i = 0; i < fields.size(); i++) {
                v.put(fields.get(i), axes.get(fields.get(i)).get(idx[i]));
            }
            TrainingSpec s = new TrainingSpec(str(v.get("optimizer")), str(v.get("rule")), dbl(v.get("learningRate")),
                    (int) lng(v.get("batchSize")), dbl(v.get("rho")), dbl(v.get("weightDecay")), lng(v.get("seed")),
                    (int) lng(v.get("epochs")), model, hidden, activation, schedule, momentum, precision);
            if (seen.add(s.id())) {
                out.add(s);
            }
            int k = fields.size() - 1;
            while (k >= 0 && ++idx[k] == axes.get(fields.get(k)).size()) {
                idx[k] = 0;
                k--;
            }
            if (k < 0) {
                return out;
            }
        }
    }

    /**
     * Applies an inline grid, {@code field=v1,v2;field=v3} (e.g. {@code rule=none,sam;lr=0.05,0.2;seed=1}), on top of
     * this grid: the fields it names replace this grid's values, the others stay.
     */
    public TrainingGrid inline(String spec) {
        for (String part : spec.split(";")) {
            if (part.isBlank()) {
                continue;
            }
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("inline grid must be field=v1,v2;field=...; got '" + spec + "'");
            }
            String f = part.substring(0, eq).trim();
            String ff = f.equals("lr") ? "learningRate" : f;
            if (!TrainingSpec.FIELDS.contains(ff)) {
                throw new IllegalArgumentException("unknown grid field '" + f + "'; valid: " + TrainingSpec.FIELDS + " (or lr)");
            }
            List<Object> vals = new ArrayList<>();
            for (String v : part.substring(eq + 1).split(",")) {
                String t = v.trim();
                if (ff.equals("optimizer") || ff.equals("rule")) {
                    vals.add(t);
                } else {
                    try {
                        vals.add(Double.parseDouble(t));
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException("grid field '" + f + "' needs numbers, got '" + t + "'");
                    }
                }
            }
            set(ff, vals);
        }
        return this;
    }

    /** Parses a grid (an object, or an array of objects whose expansions are joined) from JSON text. */
    public static List<TrainingSpec> parseJson(String json) {
        JsonNode root;
        try {
            root = MAPPER.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("grid file is not valid JSON: " + e.getMessage(), e);
        }
        List<TrainingSpec> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        List<JsonNode> parts = new ArrayList<>();
        if (root != null && root.isArray()) {
            root.forEach(parts::add);
        } else if (root != null && root.isObject()) {
            parts.add(root);
        } else {
            throw new IllegalArgumentException("grid JSON must be an object or an array of objects");
        }
        for (JsonNode p : parts) {
            for (TrainingSpec s : fromNode(p).expand()) {
                if (seen.add(s.id())) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    private static TrainingGrid fromNode(JsonNode n) {
        if (!n.isObject()) {
            throw new IllegalArgumentException("grid entries must be JSON objects, got " + n);
        }
        TrainingGrid g = new TrainingGrid();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!KNOWN.contains(f)) {
                throw new IllegalArgumentException("unknown grid field '" + f + "'; valid: " + KNOWN);
            }
        }
        for (String f : List.of("optimizer", "rule", "learningRate", "lr", "batchSize", "rho", "weightDecay", "seed", "epochs")) {
            JsonNode v = n.get(f);
            if (v == null) {
                continue;
            }
            List<Object> vals = new ArrayList<>();
            if (v.isArray()) {
                v.forEach(x -> vals.add(scalar(f, x)));
            } else {
                vals.add(scalar(f, v));
            }
            g.set(f, vals);
        }
        if (n.has("hidden")) {
            JsonNode h = n.get("hidden");
            List<Integer> l = new ArrayList<>();
            if (h.isArray()) {
                h.forEach(x -> l.add(x.asInt()));
            } else {
                l.add(h.asInt());
            }
            g.hidden = l.stream().mapToInt(Integer::intValue).toArray();
        }
        if (n.has("model")) {
            g.model = n.get("model").asText();
        }
        if (n.has("activation")) {
            g.activation = n.get("activation").asText();
        }
        if (n.has("schedule")) {
            g.schedule = n.get("schedule").asText();
        }
        if (n.has("momentum")) {
            g.momentum = n.get("momentum").asDouble();
        }
        if (n.has("precision")) {
            g.precision = n.get("precision").asText();
        }
        return g;
    }

    private static Object scalar(String f, JsonNode x) {
        if (f.equals("optimizer") || f.equals("rule")) {
            if (!x.isTextual()) {
                throw new IllegalArgumentException("grid field '" + f + "' needs strings, got " + x);
            }
            return x.asText();
        }
        if (!x.isNumber()) {
            throw new IllegalArgumentException("grid field '" + f + "' needs numbers, got " + x);
        }
        return x.numberValue();
    }

    private static String str(Object o) {
        return String.valueOf(o);
    }

    private static double dbl(Object o) {
        return ((Number) o).doubleValue();
    }

    private static long lng(Object o) {
        Number n = (Number) o;
        if (n.doubleValue() != Math.rint(n.doubleValue())) {
            throw new IllegalArgumentException("expected an integer, got " + n);
        }
        return n.longValue();
    }
}
