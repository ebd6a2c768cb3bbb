package io.github.sparksam.ml;

import static io.github.sparksam.ml.StageChecks.checkCopy;
import static io.github.sparksam.ml.StageChecks.checkDefaultReadWrite;
import static io.github.sparksam.ml.StageChecks.checkDistinctInstances;
import static io.github.sparksam.ml.StageChecks.checkParams;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import io.github.sparksam.testutil.SparkTestBase;
import java.nio.file.Path;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.param.shared.HasWeightCol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MLlib's stage checks (see {@link StageChecks}) on every stage of the library: the estimator, its
 * model and the {@link SharpnessEvaluator}, each built through both constructors.
 */
class StageContractTest extends SparkTestBase {

  @TempDir Path tmp;

  private static SharpnessAwareClassificationModel model(String uid) {
    Network net = Network.mlp(3, new int[] {4}, 3, Activation.TANH, Network.Head.MULTINOMIAL);
    return new SharpnessAwareClassificationModel(uid, net, net.initialParams(7));
  }

  private static Params[] stages() {
    return new Params[] {new SharpnessAwareClassifier(), new SharpnessAwareClassifier("clf_given"),
        model("model_given"), new SharpnessEvaluator(), new SharpnessEvaluator("eval_given")};
  }

  @Test
  void everyStageHasAUidThatOwnsEachOfItsParams() throws Exception {
    for (Params s : stages()) checkParams(s);
    assertEquals("eval_given", new SharpnessEvaluator("eval_given").uid());
    assertEquals("clf_given", new SharpnessAwareClassifier("clf_given").rho().parent());
    assertTrue(new SharpnessEvaluator().uid().startsWith("sharpnessEval_"), new SharpnessEvaluator().uid());
  }

  @Test
  void distinctInstancesNeverShareAParam() {
    checkDistinctInstances(new SharpnessAwareClassifier(), new SharpnessAwareClassifier());
    checkDistinctInstances(model("m1"), model("m2"));
    SharpnessEvaluator a = new SharpnessEvaluator(), b = new SharpnessEvaluator();
    checkDistinctInstances(a, b);
    // the example: rho of two evaluators in one ParamMap are two entries
    ParamMap m = new ParamMap().put(a.rho(), 0.1).put(b.rho(), 0.2);
    assertEquals(2, m.size());
    assertEquals(0.1, (Double) m.apply(a.rho()), 0.0);
    assertEquals(0.2, (Double) m.apply(b.rho()), 0.0);
    // and a ParamMap meant for one evaluator does not change the other
    assertEquals(0.2, b.copy(new ParamMap().put(a.rho(), 0.1)).copy(m).getRho(), 0.0);
    assertEquals(-1.0, a.copy(new ParamMap().put(b.rho(), 0.3)).getRho(), 0.0);
  }

  @Test
  void copyKeepsTheUidAndEveryValue() throws Exception {
    SharpnessAwareClassifier est = new SharpnessAwareClassifier().setRule("sam").setRho(0.2).setEpochs(3)
        .setHiddenLayers(new int[] {6, 2}).setWeightCol("w");
    SharpnessAwareClassifier ec = checkCopy(est, est.learningRate(), 0.7);
    ec.setEpochs(9);
    assertEquals(3, est.getEpochs());
    SharpnessAwareClassificationModel m = model("m").setInputCols(new String[] {"a", "b", "c"});
    m.setPredictionCol("p");
    SharpnessAwareClassificationModel mc = checkCopy(m, m.probabilityCol(), "prob2");
    assertArrayEquals(m.weights(), mc.weights(), 0.0);
    SharpnessEvaluator ev = new SharpnessEvaluator().setMetricName("topEigenvalue").setSampleSize(50).setWeightCol("w");
    SharpnessEvaluator evc = checkCopy(ev, ev.rho(), 0.03);
    evc.setSampleSize(7);
    assertEquals(50, ev.getSampleSize());
  }

  @Test
  void defaultReadWriteKeepsTheUidAndEveryParam() throws Exception {
    SharpnessAwareClassifier est = new SharpnessAwareClassifier().setRule("asam").setRho(0.5).setMicroBatchSize(4)
        .setHiddenLayers(new int[] {5}).setWeightCol("w").setThresholds(new double[] {0.2, 0.3, 0.5});
    checkDefaultReadWrite(est, tmp.resolve("est").toString(), spark);
    checkDefaultReadWrite(new SharpnessAwareClassifier(), tmp.resolve("est-defaults").toString(), spark);

    SharpnessAwareClassificationModel m = model("model_rw");
    m.setProbabilityCol("prob");
    SharpnessAwareClassificationModel back = checkDefaultReadWrite(m, tmp.resolve("model").toString(), spark);
    assertArrayEquals(m.weights(), back.weights(), 0.0);

    SharpnessEvaluator ev = new SharpnessEvaluator().setMetricName("hessianTrace").setRho(0.02).setSampleSize(99)
        .setWeightCol("w").setSeed(5);
    checkDefaultReadWrite(ev, tmp.resolve("eval").toString(), spark);
    SharpnessEvaluator loaded = checkDefaultReadWrite(new SharpnessEvaluator(), tmp.resolve("eval-defaults").toString(),
        spark);
    // a loaded evaluator is an independent instance: its params are not another evaluator's
    assertNotEquals(loaded.rho(), new SharpnessEvaluator().rho());
  }

  @Test
  void weightColIsMllibsSharedParam() {
    SharpnessAwareClassifier est = new SharpnessAwareClassifier().setWeightCol("w");
    assertTrue(est instanceof HasWeightCol, "the estimator must implement HasWeightCol");
    HasWeightCol generic = (HasWeightCol) est;
    assertSame(est.weightCol(), generic.weightCol());
    assertSame(est.getParam("weightCol"), generic.weightCol());
    assertEquals(est.uid(), generic.weightCol().parent());
    assertEquals("w", generic.getWeightCol());
    // what generic MLlib code does with a HasWeightCol stage: set it through the shared param
    generic.set(generic.weightCol(), "v");
    assertEquals("v", est.getWeightCol());
    HasWeightCol copied = (HasWeightCol) est.copy(ParamMap.empty());
    assertEquals("v", copied.getWeightCol());
    assertEquals(est.uid(), copied.weightCol().parent());

    SharpnessEvaluator ev = new SharpnessEvaluator().setWeightCol("w");
    assertTrue(ev instanceof HasWeightCol, "the evaluator must implement HasWeightCol");
    assertSame(ev.weightCol(), ((HasWeightCol) ev).weightCol());
    assertEquals("w", ((HasWeightCol) ev).getWeightCol());
  }
}
