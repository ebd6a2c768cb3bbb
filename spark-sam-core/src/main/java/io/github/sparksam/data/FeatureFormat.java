package io.github.sparksam.data;

/** How a loader stores the feature column. */
public enum FeatureFormat {
    /** An ml {@code Vector} (dense), doubles: what Spark ML estimators expect. */
    VECTOR,
    /** {@code array<float>}: compact, and what the RAPIDS Accelerator can process on the GPU. */
    ARRAY_FLOAT;

    /** Parses {@code vector} / {@code array_float} (case-insensitive; {@code array-float} and {@code float} also accepted). */
    public static FeatureFormat parse(String s) {
        String k = s.trim().toLowerCase(java.util.Locale.ROOT).replace('-', '_');
        return switch (k) {
            case "vector" -> VECTOR;
            case "array_float", "array", "float" -> ARRAY_FLOAT;
            default -> throw new IllegalArgumentException("unknown feature format '" + s + "' (expected vector or array_float)");
        };
    }
}
