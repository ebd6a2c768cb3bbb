package io.github.sparksam.sam;

import io.github.sparksam.backend.LossStats;
import io.github.sparksam.nn.ParamLayout;
import io.github.sparksam.optim.GradientClipping;
import io.github.sparksam.train.LocalRule;
import io.github.sparksam.train.PlainGradient;
import io.github.sparksam.train.StepContext;
import io.github.sparksam.train.UpdateRule;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Sharpness-Aware Minimization (Foret, Kleiner, Mobahi and Neyshabur 2021, ICLR) and, with an
 * {@link AsamPerturbation}, ASAM (Kwon et al. 2021, ICML): the base optimizer takes its step at w
 * with the gradient evaluated at {@code w + eps}, where eps is the {@link Perturbation} of the
 * ascent gradient. The base optimizer, coupled L2 at w and clipping are the trainer's
 * ({@link StepContext#applyUpdate}); this rule only changes the direction.
 *
 * <ul>
 *   <li>{@link PerturbationScope#PARTITION} (m-SAM, default): each task perturbs on its own
 *       micro-batches ({@link MicroBatchSam}); one Spark job per step; works with local steps.
 *   <li>{@link PerturbationScope#GLOBAL} (exact large-batch SAM): job 1 sums the gradient at w,
 *       the driver computes one eps, job 2 sums the gradient at {@code w + eps} on the same rows.
 *       Cannot run inside tasks, so no local steps.
 * </ul>
 *
 * {@code rho = 0} short-circuits to one plain pass, bit-identical to the base optimizer. Weight
 * decay: {@link WeightDecayMode#DECOUPLED} (spec Style A) perturbs with the loss gradient and
 * decays at w; {@link WeightDecayMode#LOSS} (Style B, the JAX original) puts
 * {@code (l2/2)||w||^2} in the loss, so it enters the ascent and its gradient is taken at
 * {@code w + eps}. Epoch metrics: {@code perturbationNorm} (mean ||eps||) and
 * {@code examplesPerPerturbation} (the realised m).
 *
 * <p>Two options the SAM references leave to the user (spec 3.2 step 7, 8.x GSAM, 9.5):
 * {@link RhoSchedule} ({@code constant}, or {@code learningRate}: {@code rho_t = rho * lr_t / lr_0}
 * with {@code lr_0} the base learning rate, GSAM's {@code ProportionScheduler} with
 * {@code rho_min = 0, lr_min = 0}), and clipping of the ascent gradient g1 to a global norm before
 * eps is computed from it ({@code ascentClipNorm}; the descent gradient g2 is clipped by the
 * trainer). SAM's and ASAM's eps are normalised, so clipping g1 changes eps only through xi
 * (davda54 #32): it matters for tiny gradients, not for large ones.
 */
public final class SharpnessAwareMinimization implements UpdateRule {
  private static final long serialVersionUID = 1L;

  /** Where the perturbation is computed. */
  public enum PerturbationScope {
    /** Per task and micro-batch (m-SAM). */
    PARTITION,
    /** One perturbation from the whole global batch (two Spark jobs per step). */
    GLOBAL;

    /** {@code partition} or {@code global}. */
    public static PerturbationScope parse(String s) {
      switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
        case "partition": return PARTITION;
        case "global": return GLOBAL;
        default: throw new IllegalArgumentException("perturbation must be partition or global, got '" + s + "'");
      }
    }
  }

  /** How the coupled L2 term relates to the perturbation. */
  public enum WeightDecayMode {
    /** Ascent from the loss gradient only; decay evaluated at w (Style A, PyTorch references). */
    DECOUPLED,
    /** L2 inside the loss: in the ascent gradient and evaluated at w + eps (Style B, JAX original). */
    LOSS;

    /** {@code decoupled} or {@code loss}. */
    public static WeightDecayMode parse(String s) {
      switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
        case "decoupled": return DECOUPLED;
        case "loss": return LOSS;
        default: throw new IllegalArgumentException("weightDecayMode must be decoupled or loss, got '" + s + "'");
      }
    }
  }

  /** How rho follows the training. */
  public enum RhoSchedule {
    /** rho at every step. */
    CONSTANT("constant"),
    /** {@code rho_t = rho * lr_t / lr_0}: rho follows the learning-rate schedule. */
    LEARNING_RATE("learningRate");

    private final String paramValue;

    RhoSchedule(String v) { this.paramValue = v; }

    public String paramValue() { return paramValue; }

    /** {@code constant} or {@code learningRate} (case-insensitive). */
    public static RhoSchedule parse(String s) {
      for (RhoSchedule r : values()) if (r.paramValue.equalsIgnoreCase(s == null ? "" : s)) return r;
      throw new IllegalArgumentException("rhoSchedule must be constant or learningRate, got '" + s + "'");
    }
  }

  private final Perturbation perturbation;
  private final PerturbationScope scope;
  private final int microBatchSize;
  private final WeightDecayMode weightDecayMode;
  private final double coupledL2;
  private final ParamLayout layout;
  private final LocalRule localRule;
  private final RhoSchedule rhoSchedule;
  private final double baseLearningRate;
  private final double ascentClipNorm;

  /** Constant rho, no clipping of the ascent gradient. */
  public SharpnessAwareMinimization(Perturbation perturbation, PerturbationScope scope, int microBatchSize,
                                    WeightDecayMode weightDecayMode, double coupledL2, ParamLayout layout) {
    this(perturbation, scope, microBatchSize, weightDecayMode, coupledL2, layout, RhoSchedule.CONSTANT, Double.NaN, 0.0);
  }

  /**
   * @param perturbation    SAM or ASAM
   * @param scope           partition (m-SAM) or global
   * @param microBatchSize  m for partition scope (0: each task's whole slice); ignored for global
   * @param weightDecayMode decoupled or loss
   * @param coupledL2       the coupled L2 coefficient the trainer applies at w (0 with AdamW, in
   *                        which case the mode makes no difference)
   * @param layout          the model's layout (which entries are weights); null: all entries
   * @param rhoSchedule      constant, or rho proportional to the step's learning rate
   * @param baseLearningRate lr_0 of {@link RhoSchedule#LEARNING_RATE} (> 0; ignored for constant)
   * @param ascentClipNorm   clip the ascent gradient to this global L2 norm before perturbing (0: off)
   */
  public SharpnessAwareMinimization(Perturbation perturbation, PerturbationScope scope, int microBatchSize,
                                    WeightDecayMode weightDecayMode, double coupledL2, ParamLayout layout,
                                    RhoSchedule rhoSchedule, double baseLearningRate, double ascentClipNorm) {
    this.perturbation = Objects.requireNonNull(perturbation, "perturbation");
    this.scope = Objects.requireNonNull(scope, "scope");
    if (microBatchSize < 0) throw new IllegalArgumentException("microBatchSize must be >= 0, got " + microBatchSize);
    this.microBatchSize = microBatchSize;
    this.weightDecayMode = Objects.requireNonNull(weightDecayMode, "weightDecayMode");
    if (!(coupledL2 >= 0) || Double.isInfinite(coupledL2)) {
      throw new IllegalArgumentException("the L2 coefficient must be finite and >= 0, got " + coupledL2);
    }
    this.coupledL2 = coupledL2;
    this.layout = layout;
    this.rhoSchedule = Objects.requireNonNull(rhoSchedule, "rhoSchedule");
    if (rhoSchedule == RhoSchedule.LEARNING_RATE && !(baseLearningRate > 0 && Double.isFinite(baseLearningRate))) {
      throw new IllegalArgumentException("rhoSchedule=learningRate needs a finite base learning rate > 0, got "
          + baseLearningRate);
    }
    this.baseLearningRate = baseLearningRate;
    this.ascentClipNorm = MicroBatchSam.checkClipNorm(ascentClipNorm);
    this.localRule = localRuleFor(perturbation);
  }

  private LocalRule localRuleFor(Perturbation p) {
    return p.rho() == 0 || scope == PerturbationScope.GLOBAL
        ? PlainGradient.INSTANCE
        : new MicroBatchSam(p, microBatchSize, lossL2(), layout, ascentClipNorm);
  }

  /** The perturbation of a step taken with learning rate {@code lr}: rho, or {@code rho * lr / lr_0}. */
  public Perturbation perturbationAt(double lr) {
    if (rhoSchedule == RhoSchedule.CONSTANT) return perturbation;
    return perturbation.withRho(perturbation.rho() * (lr / baseLearningRate));
  }

  static double checkRho(double rho) {
    if (!(rho >= 0) || Double.isInfinite(rho)) throw new IllegalArgumentException("rho must be finite and >= 0, got " + rho);
    return rho;
  }

  /** The L2 coefficient that is part of the loss (weightDecayMode=loss), else 0. */
  private double lossL2() { return weightDecayMode == WeightDecayMode.LOSS ? coupledL2 : 0.0; }

  @Override public LocalRule localRule() { return localRule; }

  @Override public void step(StepContext ctx) {
    Perturbation p = perturbationAt(ctx.learningRate());
    if (p.rho() == 0 || scope == PerturbationScope.PARTITION) {
      StepContext.Pass pass = ctx.pass(p == perturbation ? localRule : localRuleFor(p), ctx.params());
      ctx.applyUpdate(pass.meanDirection(), pass.stats());
      return;
    }
    GlobalStep s = globalStep(p, ctx.params(), at -> ctx.pass(PlainGradient.INSTANCE, at));
    ctx.applyUpdate(s.direction(), s.stats());
  }

  /**
   * The outcome of a global SAM step before the trainer's part: the mean direction (without the
   * coupled L2 term at w, which the trainer adds), the clean pass's stats (with this rule's metric
   * sums) and ||eps||.
   */
  public record GlobalStep(double[] direction, LossStats stats, double perturbationNorm) {}

  /**
   * The driver logic of global scope, for any way of running a pass: pass 1 at {@code w}, eps from
   * its mean gradient (plus {@code l2 * w} on weights in loss mode), pass 2 at a fresh
   * {@code w + eps}, direction = pass 2's sum / pass 1's weight sum (plus {@code l2 * eps} on
   * weights in loss mode). {@code w} is not modified.
   */
  public GlobalStep globalStep(double[] w, Function<double[], StepContext.Pass> pass) {
    return globalStep(perturbation, w, pass);
  }

  /** {@link #globalStep(double[], Function)} with perturbation {@code p} (a scheduled rho). */
  public GlobalStep globalStep(Perturbation p, double[] w, Function<double[], StepContext.Pass> pass) {
    StepContext.Pass clean = pass.apply(w);
    LossStats stats = clean.stats();
    if (!(stats.weightSum > 0)) return new GlobalStep(clean.meanDirection(), stats, 0.0);  // the trainer reports it
    double[] g = clean.meanDirection();
    double l2 = lossL2();
    if (l2 > 0) addWeights(layout, w, g, l2);
    if (ascentClipNorm > 0) GradientClipping.clipByGlobalNorm(g, ascentClipNorm);
    double[] eps = new double[w.length];
    double norm = p.perturb(g, w, eps);
    double[] at = new double[w.length];
    for (int i = 0; i < at.length; i++) at[i] = w[i] + eps[i];
    StepContext.Pass adv = pass.apply(at);
    double[] d = adv.directionSum().clone();
    double inv = 1.0 / stats.weightSum;
    for (int i = 0; i < d.length; i++) d[i] *= inv;
    if (l2 > 0) addWeights(layout, eps, d, l2);
    stats.add(MicroBatchSam.NORM_SUM, norm);
    stats.add(MicroBatchSam.COUNT, 1);
    return new GlobalStep(d, stats, norm);
  }

  /** {@code dst += scale * src} on weight entries ({@code layout} null: every entry). */
  static void addWeights(ParamLayout layout, double[] src, double[] dst, double scale) {
    if (layout == null) {
      for (int i = 0; i < dst.length; i++) dst[i] += scale * src[i];
      return;
    }
    for (ParamLayout.Tensor t : layout.tensors()) {
      if (t.kind() != ParamLayout.Kind.WEIGHT) continue;
      for (int i = t.offset(), end = t.offset() + t.size(); i < end; i++) dst[i] += scale * src[i];
    }
  }

  /** Local steps run inside tasks, which see no learning rate: only with a constant rho. */
  @Override public boolean supportsLocalSteps() {
    return scope == PerturbationScope.PARTITION && rhoSchedule == RhoSchedule.CONSTANT;
  }

  @Override public Map<String, Double> epochMetrics(LossStats epochStats) {
    double count = epochStats.metric(MicroBatchSam.COUNT);
    if (count == 0) return Map.of();
    Map<String, Double> m = new TreeMap<>();
    m.put("perturbationNorm", epochStats.metric(MicroBatchSam.NORM_SUM) / count);
    m.put("examplesPerPerturbation", epochStats.count / count);
    return m;
  }

  @Override public String name() { return perturbation.name(); }

  public Perturbation perturbation() { return perturbation; }

  public PerturbationScope scope() { return scope; }

  public int microBatchSize() { return microBatchSize; }

  public WeightDecayMode weightDecayMode() { return weightDecayMode; }

  public RhoSchedule rhoSchedule() { return rhoSchedule; }

  public double ascentClipNorm() { return ascentClipNorm; }

  @Override public String toString() {
    String sc = scope.name().toLowerCase(Locale.ROOT);
    return "SharpnessAwareMinimization(" + perturbation + ", perturbation=" + sc
        + (scope == PerturbationScope.GLOBAL ? " (two Spark jobs per step, no local steps)"
            : ", microBatchSize=" + (microBatchSize == 0 ? "0 (whole task slice)" : microBatchSize))
        + ", weightDecayMode=" + weightDecayMode.name().toLowerCase(Locale.ROOT)
        + (rhoSchedule == RhoSchedule.CONSTANT ? "" : ", rhoSchedule=learningRate (rho * lr_t / " + baseLearningRate
            + "; needs the step's rate, so no local steps)")
        + (ascentClipNorm > 0 ? ", ascent gradient clipped to norm " + ascentClipNorm : "")
        + (perturbation.rho() == 0 ? ", rho=0: plain base optimizer" : "") + ")";
  }
}
