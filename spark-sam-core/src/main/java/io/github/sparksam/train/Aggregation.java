package io.github.sparksam.train;

/**
 * How the partitions' results of a synchronous step are added up: the {@code aggregation}
 * parameter. Every value is deterministic (the same weights on every run); {@code collect} and
 * {@code allReduce} add the partitions in partition order and give the same weights bit for bit,
 * {@code tree} adds them in a fixed tree over the partition indices, equal to rounding error.
 */
public enum Aggregation {
  /**
   * One Spark job per pass; the driver receives every partition's sum (P x d values) and adds them
   * in partition order ({@link CollectAggregation}). Works on every cluster. Called
   * {@code treeAggregate} before, which it never was: that name is still accepted.
   */
  COLLECT("collect"),
  /**
   * One Spark job per pass whose partial sums are combined in a fixed fan-in tree over the
   * partition indices in shuffle stages, so the driver receives at most {@link TreeAggregation#FANOUT}
   * sums per pass instead of one per partition ({@link TreeAggregation}). For many partitions of a
   * large model, and where barrier stages cannot run (dynamic allocation).
   */
  TREE("tree"),
  /**
   * One barrier stage per epoch; the tasks add their results with a ring all-reduce over their own
   * sockets and each applies the update to its replica ({@link AllReduceAggregation}). Same weights
   * as {@code collect}; needs a task slot per partition, no dynamic allocation, {@code localSteps = 1}.
   */
  ALL_REDUCE("allReduce"),
  /**
   * {@code allReduce} when the fit and the cluster allow it; else {@code tree} when the driver would
   * receive a lot per pass (many partitions of a large model, see {@link TreeAggregation#preferredOver}),
   * else {@code collect}. The choice and its reason are logged and recorded in the summary.
   */
  AUTO("auto");

  /** The old, wrong name of {@link #COLLECT}: still read from saved params and accepted by setters. */
  public static final String LEGACY_COLLECT_NAME = "treeAggregate";

  private final String paramValue;

  Aggregation(String v) { this.paramValue = v; }

  public String paramValue() { return paramValue; }

  /** From the parameter value, case-insensitively; {@code treeAggregate} means {@link #COLLECT}. */
  public static Aggregation parse(String v) {
    if (LEGACY_COLLECT_NAME.equalsIgnoreCase(v)) return COLLECT;
    for (Aggregation a : values()) if (a.paramValue.equalsIgnoreCase(v)) return a;
    throw new IllegalArgumentException("aggregation must be collect, tree, allReduce or auto (treeAggregate is the old "
        + "name of collect), got '" + v + "'");
  }

  /** Whether {@code v} names an aggregation (any case, the legacy name included). */
  public static boolean isValid(String v) {
    if (v == null) return false;
    try {
      parse(v);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
