package io.github.sparksam.optim;

import java.io.Serializable;
import java.util.Arrays;

/**
 * All mutable state of an {@link Optimizer}: the number of updates applied and zero or more
 * per-parameter slots (momentum buffer, Adam's first and second moments, ...). Plain arrays so the
 * state can be checkpointed, shipped to tasks and averaged across partitions.
 */
public final class OptimizerState implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Number of updates applied so far (Adam's bias correction uses it). */
  public long step;
  /** Per-parameter slots, each of the parameter vector's length; names in {@link #slotNames}. */
  public final double[][] slots;
  public final String[] slotNames;

  public OptimizerState(int numParams, String... slotNames) {
    this.slotNames = slotNames.clone();
    this.slots = new double[slotNames.length][numParams];
  }

  /** A deep copy. */
  public OptimizerState copy() {
    OptimizerState c = new OptimizerState(0, slotNames);
    for (int i = 0; i < slots.length; i++) c.slots[i] = slots[i].clone();
    c.step = step;
    return c;
  }

  /** The slot called {@code name}; throws if this optimizer keeps no such slot. */
  public double[] slot(String name) {
    for (int i = 0; i < slotNames.length; i++) if (slotNames[i].equals(name)) return slots[i];
    throw new IllegalArgumentException("no optimizer slot '" + name + "' in " + Arrays.toString(slotNames));
  }
}
