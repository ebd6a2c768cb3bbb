package io.github.sparksam.cli;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The training rules {@code compare} sets side by side (#14), each a configuration of {@code train}: its name in
 * {@code --rules}, its label in the tables, and the one setting its grid varies (rho for the SAM family, lambda for
 * SAF and MESA; none for the base optimizer).
 */
enum CompareRule {
    /** The base optimizer alone (SGD unless --optimizer says otherwise). */
    NONE("none", null),
    /** m-SAM (Foret et al. 2021, section 4.1; Andriushchenko and Flammarion 2022): one perturbation per micro-batch. */
    SAM("sam", "rho"),
    /** SAM with one perturbation for the whole global batch (exact large-batch SAM: two Spark jobs per step). */
    SAM_GLOBAL("sam-global", "rho"),
    /** ASAM (Kwon et al. 2021), per micro-batch as m-SAM. */
    ASAM("asam", "rho"),
    /** SAF (Du et al. 2022): sharpness-aware via the trajectory loss, no second pass. */
    SAF("saf", "lambda"),
    /** MESA (Du et al. 2022): SAF with an EMA teacher instead of stored outputs. */
    MESA("mesa", "lambda");

    final String key;
    /** The setting the grid varies; null: no grid. */
    final String gridParam;

    CompareRule(String key, String gridParam) {
        this.key = key;
        this.gridParam = gridParam;
    }

    /** Every --rules name, in the default order. */
    static List<String> keys() {
        return Arrays.stream(values()).map(r -> r.key).collect(Collectors.toList());
    }

    /** The rule named {@code name} ({@code sgd} is accepted for {@code none}); an error lists the names. */
    static CompareRule parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("sgd")) {
            return NONE;
        }
        for (CompareRule r : values()) {
            if (r.key.equals(n)) {
                return r;
            }
        }
        throw new IllegalArgumentException("--rules must be a list of " + String.join(", ", keys()) + " (sgd = none); got '"
                + name + "'");
    }

    /** The row label: SGD (or the base optimizer's name), m-SAM, global SAM, ASAM, SAF, MESA. */
    String label(String optimizer) {
        return switch (this) {
            case NONE -> optimizer.equals("sgd") ? "SGD" : optimizer + " (no rule)";
            case SAM -> "m-SAM";
            case SAM_GLOBAL -> "global SAM";
            default -> name();
        };
    }

    /** Sets {@code t}'s rule options for this rule with its grid setting at {@code value} (ignored for NONE). */
    void configure(TrainCommand t, double value) {
        switch (this) {
            case NONE -> t.rule = "none";
            case SAM, ASAM -> {
                t.rule = key;
                t.perturbation = "partition";
                t.rho = value;
            }
            case SAM_GLOBAL -> {
                t.rule = "sam";
                t.perturbation = "global";
                t.rho = value;
            }
            case SAF, MESA -> {
                t.rule = key;
                t.lambda = value;
            }
        }
    }
}
