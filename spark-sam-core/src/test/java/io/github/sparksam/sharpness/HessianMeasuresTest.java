package io.github.sparksam.sharpness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.testutil.SparkTestBase;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/** Hessian measures against exact eigen-decompositions (spec 2.8 and 6), each HVP one distributed pass. */
class HessianMeasuresTest extends SparkTestBase {

  /** In-memory copy of a DataFrame's rows, in input order (= example id order). */
  record Rows(double[][] x, double[] y, double[] w) {}

  static Rows rows(Dataset<Row> df) {
    List<Row> rs = df.select("features", "label", "weight").collectAsList();
    double[][] x = new double[rs.size()][];
    double[] y = new double[rs.size()], w = new double[rs.size()];
    for (int i = 0; i < rs.size(); i++) {
      x[i] = ((Vector) rs.get(i).get(0)).toArray();
      y[i] = rs.get(i).getDouble(1);
      w[i] = rs.get(i).getDouble(2);
    }
    return new Rows(x, y, w);
  }

  static JavaRDD<BlockedPartition> blocks(Dataset<Row> df, int parts) {
    return Blockifier.blockify(df, new InputColumns("features", "label", "weight"), Precision.FLOAT64, parts, -1).cache();
  }

  @Test
  void threePointExampleFromTheSpec() {
    double[][] h = {{1.0 / 6, 1.0 / 12}, {1.0 / 12, 1.0 / 6}};
    Lanczos lz = new Lanczos(new double[] {1, 0});
    HessianOperator op = Oracles.matrix(h);
    while (!lz.done()) lz.advance(op.apply(new double[][] {lz.current()})[0]);
    Lanczos.Ritz r = lz.ritz();
    assertEquals(1.0 / 12, r.values()[0], 1e-14);
    assertEquals(1.0 / 4, r.values()[1], 1e-14);
    assertEquals(0.5, r.weights()[0], 1e-14);
    assertEquals(0.5, r.weights()[1], 1e-14);
    Hutchinson.Result t = Hutchinson.estimate(op, 400, 7, 3, null);
    for (double q : t.samples()) assertTrue(Math.abs(q - 0.5) < 1e-14 || Math.abs(q - 1.0 / 6) < 1e-14, "probe value " + q);
    // per-probe variance 1/36 exactly: 2(||H||_F^2 - sum H_ii^2)
    assertEquals(Math.sqrt(1.0 / 36 / 400), t.traceStdError(), 0.15 * Math.sqrt(1.0 / 36 / 400));
    assertTrue(Math.abs(t.trace() - 1.0 / 3) < 4 * t.traceStdError());
    assertEquals(1.0 / 3, Hutchinson.exactTrace(op, 1), 1e-15);
  }

  @Test
  void softmaxRegressionMatchesTheClosedFormHessian() {
    Dataset<Row> df = blobs(90, 3, 3, 11, true);
    Rows rows = rows(df);
    Network net = Network.linear(3, 3, Network.Head.MULTINOMIAL);
    double[] w = Oracles.randomVector(5, net.numParams(), 0.5);
    double[][] exact = Oracles.softmaxHessian(net, w, rows.x(), rows.y(), rows.w());
    double[] ev = Oracles.eigenvalues(exact);
    double top = ev[ev.length - 1], tr = Oracles.trace(exact);

    DistributedObjective obj = new DistributedObjective(blocks(df, 3), net, RowSelection.all(), 16);
    HessianOperator h = obj.hessianAt(w);
    double[] v = Oracles.randomVector(9, net.numParams(), 1);
    double[] hv = h.apply(new double[][] {v})[0];
    for (int i = 0; i < v.length; i++) assertEquals(Vec.dot(exact[i], v), hv[i], 1e-12);
    assertEquals(1, h.passes());

    Lanczos.TopEigen le = Lanczos.topEigenvalue(h, 50, 1e-10, 1);
    assertTrue(Oracles.relErr(le.value(), top) < 1e-6, "lanczos " + le.value() + " vs " + top);
    assertTrue(le.converged());
    assertEquals(le.iterations(), le.passes());
    PowerIteration.Result pw = PowerIteration.topEigenvalue(h, 100, 1e-4, 1);   // distributed, near PyHessian's defaults
    assertTrue(Oracles.relErr(pw.value(), top) < 1e-2, "power " + pw.value() + " vs " + top);
    assertEquals(pw.iterations(), pw.passes());
    PowerIteration.Result tight = PowerIteration.topEigenvalue(Oracles.matrix(exact), 5000, 1e-12, 1);
    assertTrue(Oracles.relErr(tight.value(), top) < 1e-5, "power " + tight.value() + " vs " + top);

    assertTrue(Oracles.relErr(Hutchinson.exactTrace(h, 4), tr) < 1e-6);
    double sumEv = 0;
    for (double e : ev) sumEv += e;
    assertTrue(Oracles.relErr(sumEv, tr) < 1e-6);
    Hutchinson.Result hu = Hutchinson.estimate(h, 300, 30, 2, null);
    assertEquals(10, hu.passes());
    assertTrue(Math.abs(hu.trace() - tr) < 4 * hu.traceStdError(), hu.trace() + " +- " + hu.traceStdError() + " vs " + tr);
    double diag2 = 0, fro2 = 0;
    for (int i = 0; i < exact.length; i++) {
      diag2 += exact[i][i] * exact[i][i];
      for (double x : exact[i]) fro2 += x * x;
    }
    double exactSe = Math.sqrt(2 * (fro2 - diag2) / 300);
    assertEquals(exactSe, hu.traceStdError(), 0.3 * exactSe);
    assertEquals(Math.sqrt(fro2), hu.frobenius(), 0.1 * Math.sqrt(fro2));

    // SLQ: weights sum to 1, first moment = v1^T H v1 exactly, nodes inside the spectrum, max node = top
    SpectralDensity sd = SpectralDensity.estimate(h, 3, net.numParams(), 4);
    for (SpectralDensity.Run r : sd.runs()) {
      double ws = 0;
      for (double x : r.weights()) ws += x;
      assertEquals(1, ws, 1e-10);
      assertTrue(r.nodes()[0] > ev[0] - 1e-9 && r.nodes()[r.nodes().length - 1] < top + 1e-9);
      assertEquals(top, r.nodes()[r.nodes().length - 1], 1e-8 * top);
    }
    // a Rademacher start has v^T H v / p as its first moment: an unbiased estimate of tr/p
    assertEquals(tr / net.numParams(), sd.firstMoment(), 0.5 * tr / net.numParams());
    double[][] dens = sd.smoothed(500);
    double area = 0;
    for (int i = 1; i < dens[0].length; i++) area += dens[1][i] * (dens[0][i] - dens[0][i - 1]);
    assertEquals(1, area, 1e-2);

    // directional sharpness along u: u^T H u, and the three-loss second difference agrees
    double[] u = Oracles.randomVector(12, net.numParams(), 0.1);
    DirectionalSharpness.Result ds = DirectionalSharpness.along(obj, w, u);
    double uhu = 0;
    for (int i = 0; i < u.length; i++) uhu += u[i] * Vec.dot(exact[i], u);
    assertEquals(uhu, ds.curvature(), 1e-12);
    assertEquals(uhu / Vec.dot(u, u), ds.normalizedCurvature(), 1e-12);
    double eps = 1e-3;
    double[] wp = w.clone(), wm = w.clone();
    for (int i = 0; i < w.length; i++) { wp[i] += eps * u[i]; wm[i] -= eps * u[i]; }
    double fd = (obj.evaluate(wp, false, null).loss() - 2 * obj.evaluate(w, false, null).loss()
        + obj.evaluate(wm, false, null).loss()) / (eps * eps);
    assertEquals(uhu, fd, 1e-5 * Math.abs(uhu) + 1e-9);
  }

  @Test
  void tinyMlpMatchesTheHessianBuiltFromColumns() {
    Dataset<Row> df = blobs(60, 3, 3, 21, false);
    Rows rows = rows(df);
    for (Activation act : new Activation[] {Activation.TANH, Activation.RELU}) {
      Network net = Network.mlp(3, new int[] {4}, 3, act, Network.Head.MULTINOMIAL);
      double[] w = net.initialParams(3);
      for (int i = 0; i < w.length; i++) w[i] += 0.1 * Math.sin(7 * i);  // non-zero biases
      // the R-operator against central differences of gradients
      double[] v = Oracles.randomVector(4, w.length, 1);
      double[] hv = Oracles.hvp(net, w, rows.x(), rows.y(), rows.w(), v);
      double h = 1e-5;
      double[] wp = w.clone(), wm = w.clone();
      for (int i = 0; i < w.length; i++) { wp[i] += h * v[i]; wm[i] -= h * v[i]; }
      double[] gp = Oracles.gradient(net, wp, rows.x(), rows.y(), rows.w());
      double[] gm = Oracles.gradient(net, wm, rows.x(), rows.y(), rows.w());
      double err = 0, nrm = Vec.norm(hv);
      for (int i = 0; i < w.length; i++) err = Math.max(err, Math.abs((gp[i] - gm[i]) / (2 * h) - hv[i]));
      assertTrue(err < 1e-6 * nrm, act + ": HVP vs finite differences " + err + " (|Hv| " + nrm + ")");

      DistributedObjective obj = new DistributedObjective(blocks(df, 2), net, RowSelection.all(), 16);
      HessianOperator op = obj.hessianAt(w);
      double[][] full = Oracles.fromColumns(op);
      double[] ev = Oracles.eigenvalues(full);
      double top = ev[ev.length - 1];
      Lanczos.TopEigen le = Lanczos.topEigenvalue(op, net.numParams(), 1e-10, 7);
      assertTrue(Oracles.relErr(le.value(), top) < 1e-6, act + ": lanczos " + le.value() + " vs " + top);
      assertTrue(Oracles.relErr(le.smallest(), ev[0]) < 1e-6 || Math.abs(le.smallest() - ev[0]) < 1e-8,
          act + ": smallest Ritz " + le.smallest() + " vs " + ev[0]);
      double maxAbs = Math.max(Math.abs(ev[0]), top);
      PowerIteration.Result pw = PowerIteration.topEigenvalue(Oracles.matrix(full), 5000, 1e-12, 7);
      assertTrue(Oracles.relErr(Math.abs(pw.value()), maxAbs) < 1e-3, act + ": power " + pw.value() + " vs " + maxAbs);
      double tr = Oracles.trace(full);
      assertTrue(Oracles.relErr(Hutchinson.exactTrace(op, 8), tr) < 1e-10);
      Hutchinson.Result hu = Hutchinson.estimate(op, 200, 50, 8, null);
      assertTrue(Math.abs(hu.trace() - tr) < 4 * hu.traceStdError(), act + ": " + hu.trace() + " +- " + hu.traceStdError() + " vs " + tr);
    }
  }

  @Test
  void oneDimensionalLogisticRegressionOracle() {
    double[] xs = {-2, -1, 0, 1, 2, 3};
    double[] ys = {0, 0, 1, 0, 1, 1};
    List<Row> rs = new ArrayList<>();
    for (int i = 0; i < xs.length; i++) rs.add(RowFactory.create(Vectors.dense(xs[i]), ys[i], 1.0));
    Dataset<Row> df = spark.createDataFrame(rs, SCHEMA);
    Network net = Network.linear(1, 2, Network.Head.BINOMIAL);
    double[] w = {1.214028, -0.607014};  // slope (W1), intercept (b1)
    DistributedObjective obj = new DistributedObjective(blocks(df, 2), net, RowSelection.all());
    DistributedObjective.Result r = obj.evaluate(w, true, null);
    assertEquals(0.4129978, r.loss(), 1e-6);
    assertEquals(0, Vec.norm(r.gradient()), 1e-5);
    double[][] hm = Oracles.fromColumns(obj.hessianAt(w));
    assertEquals(0.232790, hm[0][0], 1e-6);
    assertEquals(0.065330, hm[0][1], 1e-6);
    assertEquals(0.130660, hm[1][1], 1e-6);
    double[] ev = Oracles.eigenvalues(hm);
    assertEquals(0.0988054, ev[0], 1e-6);
    assertEquals(0.2646444, ev[1], 1e-6);
    assertEquals(0.2646444, Lanczos.topEigenvalue(obj.hessianAt(w), 5, 1e-12, 0).value(), 1e-6);
    assertEquals(0.3634499, Hutchinson.exactTrace(obj.hessianAt(w), 2), 1e-6);
  }
}
