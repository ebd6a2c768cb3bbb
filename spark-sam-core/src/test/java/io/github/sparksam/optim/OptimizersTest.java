package io.github.sparksam.optim;

import static io.github.sparksam.optim.SchedulesTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OptimizersTest {

  static Optimizer create(String name, double momentum) {
    return Optimizers.create(name, momentum, 0.9, 0.999, 1e-8, 0.01, null);
  }

  @Test
  void names() {
    assertArrayEquals(new String[] {"sgd", "momentum", "nesterov", "adam", "adamw"}, Optimizers.NAMES);
    assertEquals("Sgd(momentum=0.0, nesterov=false, dampening=0.0)", create("sgd", 0.0).toString());
    assertEquals("Sgd(momentum=0.9, nesterov=false, dampening=0.0)", create("sgd", 0.9).toString());
    assertEquals("Sgd(momentum=0.9, nesterov=false, dampening=0.0)", create("momentum", 0.9).toString());
    assertEquals("Sgd(momentum=0.9, nesterov=true, dampening=0.0)", create("nesterov", 0.9).toString());
    assertEquals("Adam(beta1=0.9, beta2=0.999, epsilon=1.0E-8)", create("adam", 0.0).toString());
    Optimizer w = Optimizers.create("adamw", 0.0, 0.9, 0.999, 1e-8, 0.01, new double[] {1, 0});
    assertInstanceOf(AdamW.class, w);
    assertEquals(0.01, ((AdamW) w).weightDecay(), 0.0);
    assertArrayEquals(new double[] {1, 0}, ((AdamW) w).decayMask(), 0.0);
  }

  @Test
  void caseInsensitive() {
    assertInstanceOf(Adam.class, create("ADAM", 0.0));
    assertInstanceOf(AdamW.class, create("AdamW", 0.0));
    assertTrue(((Sgd) create("Nesterov", 0.5)).nesterov());
    assertInstanceOf(CosineDecay.class, Optimizers.schedule("Cosine", 0.1, 1, 0.1, 0.0, 0));
  }

  @Test
  void unknownNameListsValidOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> create("rmsprop", 0.0));
    assertTrue(e.getMessage().contains("rmsprop"), e.getMessage());
    for (String n : Optimizers.NAMES) assertTrue(e.getMessage().contains(n), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> create(null, 0.0));
    e = assertThrows(IllegalArgumentException.class, () -> Optimizers.schedule("poly", 0.1, 1, 0.1, 0, 0));
    assertTrue(e.getMessage().contains("constant, step, cosine"), e.getMessage());
  }

  @Test
  void badOptimizerHyperParameters() {
    assertMessage(() -> create("momentum", 0.0), "momentum");
    assertMessage(() -> create("nesterov", 0.0), "momentum");
    assertMessage(() -> create("sgd", 1.0), "momentum");
    assertMessage(() -> create("sgd", -0.5), "momentum");
    assertMessage(() -> create("momentum", 1.2), "momentum");
    assertMessage(() -> Optimizers.create("adam", 0, 1.0, 0.999, 1e-8, 0, null), "beta1");
    assertMessage(() -> Optimizers.create("adam", 0, -0.1, 0.999, 1e-8, 0, null), "beta1");
    assertMessage(() -> Optimizers.create("adamw", 0, 0.9, 1.0, 1e-8, 0, null), "beta2");
    assertMessage(() -> Optimizers.create("adam", 0, 0.9, 0.999, 0.0, 0, null), "epsilon");
    assertMessage(() -> Optimizers.create("adamw", 0, 0.9, 0.999, -1e-8, 0, null), "epsilon");
    assertMessage(() -> Optimizers.create("adamw", 0, 0.9, 0.999, 1e-8, -0.1, null), "weightDecay");
    assertMessage(() -> Optimizers.create("sgd", 0, 0.9, 0.999, 1e-8, -0.1, null), "weightDecay");
  }

  @Test
  void schedules() {
    assertEquals("ConstantRate(lr=0.1)", Optimizers.schedule("constant", 0.1, 0, 0, 0, 0).toString());
    assertEquals(
        "StepDecay(lr=0.1, stepSize=30, gamma=0.1)",
        Optimizers.schedule("step", 0.1, 30, 0.1, 0, 0).toString());
    LearningRateSchedule s = Optimizers.schedule("cosine", 0.1, 0, 0, 0.001, 5);
    assertEquals("LinearWarmup(warmupSteps=5, after=CosineDecay(lr=0.1, minLr=0.001))", s.toString());
    // step 0 of 100: cosine gives 0.1, warm-up scales by 1/5
    assertEquals(0.02, s.rate(0, 100), 1e-12);
    assertMessage(() -> Optimizers.schedule("constant", -0.1, 0, 0, 0, 0), "lr");
    assertMessage(() -> Optimizers.schedule("step", -0.1, 10, 0.1, 0, 0), "lr");
    assertMessage(() -> Optimizers.schedule("cosine", -0.1, 0, 0, 0, 0), "lr");
    assertMessage(() -> Optimizers.schedule("step", 0.1, 0, 0.1, 0, 0), "stepSize");
    assertMessage(() -> Optimizers.schedule("constant", 0.1, 0, 0, 0, -1), "warmupSteps");
  }
}
