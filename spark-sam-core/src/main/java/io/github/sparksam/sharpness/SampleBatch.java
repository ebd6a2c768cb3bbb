package io.github.sparksam.sharpness;

import io.github.sparksam.backend.LossStats;
import io.github.sparksam.nn.CurvatureWorkspace;
import io.github.sparksam.nn.Network;
import java.io.Serializable;

/**
 * A small batch of rows held in memory (features {@code d x n} column-major, labels, weights or
 * null for all 1, example ids): the unit on which m-sharpness is defined (the loss is the weighted
 * mean cross-entropy over the batch). {@link #objective} evaluates loss, error, gradient and
 * Hessian-vector products on it.
 */
public record SampleBatch(int index, int numRows, int numFeatures, double[] features, double[] labels, double[] weights,
                          long[] ids) implements Serializable {

  /** Loss, gradient and HVPs of the batch's mean loss (a per-task helper; not serializable). */
  public Objective objective(Network net) { return new Objective(net, this); }

  /** Mean loss and error of one batch, plus what a call computed. */
  public record Value(double loss, double error, double[] gradient) {}

  /** Evaluates the batch's weighted mean loss at given weights. */
  public static final class Objective {
    private final Network net;
    private final SampleBatch b;
    private final CurvatureWorkspace ws;
    private long sweeps;

    Objective(Network net, SampleBatch b) {
      this.net = net;
      this.b = b;
      this.ws = net.newCurvatureWorkspace(b.numRows());
    }

    public Network network() { return net; }

    /** Forward (and backward) sweeps over the batch so far. */
    public long sweeps() { return sweeps; }

    /** Mean loss and error at {@code w}; with the mean gradient when {@code withGradient}. */
    public Value value(double[] w, boolean withGradient) {
      LossStats st = new LossStats();
      double[] g = withGradient ? new double[w.length] : null;
      ws.accumulate(w, b.features(), 0, b.numRows(), b.labels(), b.weights(), 0, g, null, null, st);
      sweeps++;
      if (g != null) for (int i = 0; i < g.length; i++) g[i] /= st.weightSum;
      return new Value(st.meanLoss(), 1 - st.accuracy(), g);
    }

    /** {@code H v} of the batch's mean loss for each direction. */
    public double[][] hvp(double[] w, double[][] vs) {
      LossStats st = new LossStats();
      double[][] hv = new double[vs.length][w.length];
      ws.accumulate(w, b.features(), 0, b.numRows(), b.labels(), b.weights(), 0, null, vs, hv, st);
      sweeps++;
      for (double[] h : hv) for (int i = 0; i < h.length; i++) h[i] /= st.weightSum;
      return hv;
    }
  }
}
