package io.github.sparksam.sam;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.nn.ParamLayout;
import io.github.sparksam.optim.GradientClipping;
import io.github.sparksam.train.LocalBatch;
import io.github.sparksam.train.LocalRule;
import io.github.sparksam.train.PartitionWorker;
import java.util.Arrays;

/**
 * The task half of m-SAM (Foret et al. 2021, section 4 "m-sharpness"; Andriushchenko and
 * Flammarion 2022, "Towards Understanding Sharpness-Aware Minimization", ICML): the task splits its
 * slice of the step's batch into consecutive micro-batches S_j of {@code microBatchSize} examples
 * (0: the whole slice; the slice's last micro-batch may be shorter) and, for each, takes the mean gradient at w, its own perturbation eps_j, and adds
 * the <em>weighted sum</em> of the gradients at {@code w + eps_j} on the same rows to the
 * direction. The driver divides the total by the clean weight sum, so the step uses the
 * example-weighted mean {@code sum_j (|S_j|/|B|) grad L_{S_j}(w + eps_j)} (spec 5.1), whatever the
 * partitioning. With {@code microBatchSize = 1} the micro-batches, hence the result, do not depend
 * on the partition count; with the whole batch on one partition it is global SAM.
 *
 * <p>Loss statistics are those of the clean pass. Adds the named sums {@code perturbationNormSum}
 * and {@code perturbations} to the stats for {@link SharpnessAwareMinimization#epochMetrics}.
 * Works inside tasks' local steps. Uses the worker's scratch buffers 2 (perturbed weights) and 3
 * (clean micro-batch gradient) and its double scratch 0 and 1.
 */
public final class MicroBatchSam implements LocalRule {
  private static final long serialVersionUID = 1L;

  /** Names of the sums this rule adds to {@link LossStats}. */
  public static final String NORM_SUM = "perturbationNormSum";
  public static final String COUNT = "perturbations";

  private final Perturbation perturbation;
  private final int microBatchSize;
  private final double lossL2;
  private final ParamLayout layout;
  private final double ascentClipNorm;

  /** Without clipping of the ascent gradient. */
  public MicroBatchSam(Perturbation perturbation, int microBatchSize, double lossL2, ParamLayout layout) {
    this(perturbation, microBatchSize, lossL2, layout, 0.0);
  }

  /**
   * @param perturbation   SAM or ASAM
   * @param microBatchSize m (0: the task's whole slice)
   * @param lossL2         the L2 coefficient inside the loss (weightDecayMode=loss; else 0): it
   *                       enters the ascent gradient, and the descent adds {@code lossL2 * eps} on
   *                       weights (the trainer adds {@code lossL2 * w} itself)
   * @param layout         which entries are weights (null: all)
   * @param ascentClipNorm clip each micro-batch's ascent gradient to this global L2 norm before the
   *                       perturbation is computed from it (0: no clipping; {@code clipping=ascent|both})
   */
  public MicroBatchSam(Perturbation perturbation, int microBatchSize, double lossL2, ParamLayout layout,
                       double ascentClipNorm) {
    this.perturbation = java.util.Objects.requireNonNull(perturbation, "perturbation");
    if (microBatchSize < 0) throw new IllegalArgumentException("microBatchSize must be >= 0, got " + microBatchSize);
    this.microBatchSize = microBatchSize;
    this.lossL2 = lossL2;
    this.layout = layout;
    this.ascentClipNorm = checkClipNorm(ascentClipNorm);
  }

  static double checkClipNorm(double v) {
    if (!(v >= 0)) throw new IllegalArgumentException("the ascent clipping norm must be >= 0, got " + v);
    return v;
  }

  @Override public void direction(PartitionWorker worker, Buf params, LocalBatch batch, Buf grad, LossStats stats) {
    int size = batch.size();
    int m = microBatchSize == 0 ? size : microBatchSize;
    Buf clean = worker.scratch(3);
    Buf perturbed = worker.scratch(2);
    double[] d0 = worker.doubleScratch(0);
    double[] d1 = worker.doubleScratch(1);
    double normSum = 0;
    long count = 0;
    for (int from = 0; from < size; from += m) {
      LocalBatch mb = batch.slice(from, Math.min(size, from + m));
      double norm = accumulate(perturbation, lossL2, ascentClipNorm, layout, params,
          (at, g, st) -> worker.gradient(at, mb, g, st), clean, perturbed, d0, d1, grad, stats);
      if (norm >= 0) {
        normSum += norm;
        count++;
      }
    }
    stats.add(NORM_SUM, normSum);
    stats.add(COUNT, count);
  }

  /** One micro-batch's gradients (a weighted sum added into {@code grad}, stats added). */
  interface MicroBatch {
    void gradient(Buf at, Buf grad, LossStats stats);
  }

  /**
   * One micro-batch of m-SAM: clean gradient at {@code params} (its stats go to {@code stats}),
   * perturbation from its weighted mean (clipped to {@code ascentClipNorm} when that is positive),
   * and the weighted-sum gradient at {@code params + eps}
   * added into {@code grad}. Returns the perturbation's norm, or -1 when the micro-batch carries no
   * example weight (then it adds nothing). All vector math is in double; the perturbed weights are
   * built fresh from {@code params} (never restored by subtraction).
   */
  static double accumulate(Perturbation perturbation, double lossL2, double ascentClipNorm, ParamLayout layout,
                           Buf params, MicroBatch mb,
                           Buf clean, Buf perturbed, double[] d0, double[] d1, Buf grad, LossStats stats) {
    int n = params.length();
    clean.zero(0, n);
    LossStats cs = new LossStats();
    mb.gradient(params, clean, cs);
    stats.merge(cs);
    double weight = cs.weightSum;
    if (!(weight > 0)) return -1;
    Arrays.fill(d0, 0, n, 0.0);
    clean.addTo(d0, 0, 0, n, 1.0 / weight);                       // mean ascent gradient
    for (int i = 0; i < n; i++) d1[i] = params.get(i);            // w
    if (lossL2 > 0) SharpnessAwareMinimization.addWeights(layout, d1, d0, lossL2);
    if (ascentClipNorm > 0) GradientClipping.clipByGlobalNorm(d0, ascentClipNorm);
    double norm = perturbation.perturb(d0, d1, d1);                // eps overwrites w in d1
    for (int i = 0; i < n; i++) d0[i] = params.get(i) + d1[i];    // w + eps
    perturbed.setFrom(d0, 0, 0, n);
    mb.gradient(perturbed, grad, new LossStats());
    if (lossL2 > 0) {
      double s = lossL2 * weight;
      forEachWeight(layout, n, i -> grad.set(i, grad.get(i) + s * d1[i]));
    }
    return norm;
  }

  private static void forEachWeight(ParamLayout layout, int n, java.util.function.IntConsumer f) {
    if (layout == null) {
      for (int i = 0; i < n; i++) f.accept(i);
      return;
    }
    for (ParamLayout.Tensor t : layout.tensors()) {
      if (t.kind() != ParamLayout.Kind.WEIGHT) continue;
      for (int i = t.offset(), end = t.offset() + t.size(); i < end; i++) f.accept(i);
    }
  }

  public Perturbation perturbation() { return perturbation; }

  public int microBatchSize() { return microBatchSize; }

  @Override public String toString() {
    return "MicroBatchSam(" + perturbation + ", microBatchSize=" + (microBatchSize == 0 ? "slice" : microBatchSize)
        + (lossL2 > 0 ? ", l2InLoss=" + lossL2 : "") + (ascentClipNorm > 0 ? ", ascentClipNorm=" + ascentClipNorm : "")
        + ")";
  }
}
