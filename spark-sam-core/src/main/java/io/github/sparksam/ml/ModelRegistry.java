package io.github.sparksam.ml;

import java.lang.ref.WeakReference;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Driver-side map from the token a {@link SharpnessAwareClassificationModel#transform} writes into
 * its output column's metadata ({@link SharpnessAwareClassificationModel#MODEL_TAG}) to the model
 * instance. Weak: the entry lives as long as the model does, and a transformed DataFrame keeps its
 * model reachable through the prediction UDFs in its plan. Only valid inside the JVM that ran the
 * transform (the driver), which is where {@code Evaluator.evaluate} runs.
 */
public final class ModelRegistry {
  private static final Map<String, WeakReference<SharpnessAwareClassificationModel>> MODELS = new ConcurrentHashMap<>();

  private ModelRegistry() {}

  static void register(String token, SharpnessAwareClassificationModel m) {
    if (MODELS.size() > 256) {
      for (Iterator<WeakReference<SharpnessAwareClassificationModel>> it = MODELS.values().iterator(); it.hasNext(); ) {
        if (it.next().get() == null) it.remove();
      }
    }
    MODELS.putIfAbsent(token, new WeakReference<>(m));
  }

  /** The model registered under {@code token}, or null when unknown or collected. */
  public static SharpnessAwareClassificationModel lookup(String token) {
    WeakReference<SharpnessAwareClassificationModel> r = MODELS.get(token);
    return r == null ? null : r.get();
  }
}
