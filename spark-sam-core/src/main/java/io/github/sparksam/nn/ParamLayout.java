package io.github.sparksam.nn;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Where each tensor of a model lives in its one flat parameter vector, and whether it is a weight
 * (decayed, perturbed by weight-only ASAM) or a bias. Weight matrices are stored column-major.
 */
public final class ParamLayout implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Kind of a parameter tensor. */
  public enum Kind { WEIGHT, BIAS }

  /** One tensor: {@code rows x cols} entries from {@code offset}, column-major. */
  public record Tensor(String name, int offset, int rows, int cols, Kind kind) implements Serializable {
    public int size() { return rows * cols; }
  }

  private final List<Tensor> tensors;
  private final int size;

  private ParamLayout(List<Tensor> tensors, int size) {
    this.tensors = Collections.unmodifiableList(tensors);
    this.size = size;
  }

  public List<Tensor> tensors() { return tensors; }

  /** Total number of parameters. */
  public int size() { return size; }

  public Tensor tensor(String name) {
    for (Tensor t : tensors) if (t.name().equals(name)) return t;
    throw new IllegalArgumentException("no tensor '" + name + "' in " + this);
  }

  /** 1.0 at weight entries, 0.0 at bias entries: what weight decay and weight-only rules act on. */
  public double[] weightMask() {
    double[] m = new double[size];
    for (Tensor t : tensors) if (t.kind() == Kind.WEIGHT) java.util.Arrays.fill(m, t.offset(), t.offset() + t.size(), 1.0);
    return m;
  }

  @Override public String toString() {
    StringBuilder sb = new StringBuilder("ParamLayout(").append(size).append(" params:");
    for (Tensor t : tensors) sb.append(' ').append(t.name()).append('[').append(t.rows()).append('x').append(t.cols()).append(']');
    return sb.append(')').toString();
  }

  /** Appends tensors in order. */
  public static final class Builder {
    private final List<Tensor> tensors = new ArrayList<>();
    private int size;

    public Builder add(String name, int rows, int cols, Kind kind) {
      long next = (long) size + (long) rows * cols;
      if (next > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("model too large: " + next + " parameters");
      tensors.add(new Tensor(name, size, rows, cols, kind));
      size = (int) next;
      return this;
    }

    /** Parameters so far: the offset of the next tensor. */
    public int size() { return size; }

    public ParamLayout build() { return new ParamLayout(new ArrayList<>(tensors), size); }
  }
}
