package io.github.sparksam.backend;

/** Element type of the cached feature blocks and of the task-side arithmetic. */
public enum Precision {
  /** float32 blocks and float BLAS: half the memory and about twice the GEMM speed. The default. */
  FLOAT32,
  /** float64 everywhere: for gradient checks and exact distributed-equals-local comparisons. */
  FLOAT64;

  /** Parses "float32"/"float"/"f32" or "float64"/"double"/"f64", case-insensitive. */
  public static Precision parse(String s) {
    switch (s.toLowerCase(java.util.Locale.ROOT)) {
      case "float32": case "float": case "f32": return FLOAT32;
      case "float64": case "double": case "f64": return FLOAT64;
      default: throw new IllegalArgumentException("precision must be float32 or float64, got '" + s + "'");
    }
  }

  public String paramValue() { return this == FLOAT32 ? "float32" : "float64"; }
}
