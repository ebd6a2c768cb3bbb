package io.github.sparksam.sharpness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.nn.layers.Shape;
import io.github.sparksam.testutil.SparkTestBase;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * The Hessian measures on a tiny convolutional network (issue #14): the distributed R-operator
 * products build the full Hessian column by column, and Lanczos, power iteration and Hutchinson's
 * exact trace agree with its eigen-decomposition; 1 and 3 partitions give the same products.
 * Nothing in {@code sharpness/} knows the network is convolutional.
 */
class CnnHessianTest extends SparkTestBase {

  @Test
  void topEigenvalueOfATinyCnnMatchesTheFullHessian() {
    Dataset<Row> df = blobs(48, 16, 3, 21, false);     // 16 features read as one 4x4 channel
    for (Activation act : new Activation[] {Activation.TANH, Activation.RELU}) {
      Network net = Network.cnn(new Shape(1, 4, 4), "conv 2 3x3 pad 1, maxpool 2", 3, act, Network.Head.MULTINOMIAL);
      double[] w = net.initialParams(3);
      for (int i = 0; i < w.length; i++) w[i] += 0.1 * Math.sin(7 * i);  // non-zero biases
      DistributedObjective obj = new DistributedObjective(HessianMeasuresTest.blocks(df, 3), net, RowSelection.all(), 16);
      HessianOperator op = obj.hessianAt(w);
      int dim = net.numParams();
      double[][] e = new double[dim][dim];
      for (int i = 0; i < dim; i++) e[i][i] = 1;
      double[][] cols = op.apply(e);                      // column j: H e_j, one distributed pass
      for (int i = 0; i < dim; i++) {
        for (int j = 0; j < i; j++) {
          assertEquals(cols[j][i], cols[i][j], 1e-9 * (1 + Math.abs(cols[j][i])), act + ": H not symmetric at " + i + "," + j);
        }
      }
      double[][] full = Oracles.fromColumns(op);
      double[] ev = Oracles.eigenvalues(full);
      double top = ev[ev.length - 1];
      assertTrue(top > 1e-3, act + ": top eigenvalue " + top);
      Lanczos.TopEigen le = Lanczos.topEigenvalue(op, net.numParams(), 1e-10, 7);
      assertTrue(Oracles.relErr(le.value(), top) < 1e-6, act + ": lanczos " + le.value() + " vs " + top);
      double maxAbs = Math.max(Math.abs(ev[0]), top);
      PowerIteration.Result pw = PowerIteration.topEigenvalue(Oracles.matrix(full), 5000, 1e-12, 7);
      assertTrue(Oracles.relErr(Math.abs(pw.value()), maxAbs) < 1e-3, act + ": power " + pw.value() + " vs " + maxAbs);
      assertTrue(Oracles.relErr(Hutchinson.exactTrace(op, 8), Oracles.trace(full)) < 1e-10);

      // one partition gives the same products
      HessianOperator one = new DistributedObjective(HessianMeasuresTest.blocks(df, 1), net, RowSelection.all(), 16)
          .hessianAt(w);
      double[] v = Oracles.randomVector(5, w.length, 1);
      double[] a = op.apply(new double[][] {v})[0], b = one.apply(new double[][] {v})[0];
      for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-10 * (1 + Math.abs(a[i])), act + ": Hv[" + i + "]");
    }
  }
}
