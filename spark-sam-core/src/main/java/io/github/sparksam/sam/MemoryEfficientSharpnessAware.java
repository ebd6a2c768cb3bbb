package io.github.sparksam.sam;

import io.github.sparksam.backend.Buf;
import io.github.sparksam.backend.LossStats;
import io.github.sparksam.train.LocalBatch;
import io.github.sparksam.train.LocalRule;
import io.github.sparksam.train.PartitionWorker;
import io.github.sparksam.train.StepContext;
import io.github.sparksam.train.UpdateRule;
import java.util.Locale;
import java.util.Map;

/**
 * MESA, Memory-Efficient Sharpness-Aware training (Du et al. 2022, "Sharpness-Aware Training for
 * Free", NeurIPS): SAF's {@link TrajectoryLoss} with the past outputs replaced by those of an
 * exponential-moving-average "teacher" of the weights, {@code v <- beta v + (1 - beta) w} after
 * every optimizer step. No per-example state; the cost is one extra forward pass per example while
 * the term is on and a second weight vector in each step's broadcast.
 *
 * <p>The teacher lives on the driver, in this rule: initialised from the first step's weights,
 * shipped inside the step's {@link LocalRule} (broadcast with the pass), updated after
 * {@link StepContext#applyUpdate}. In epochs outside {@code klStart < e < klEnd} neither the
 * teacher nor its forward pass is shipped or run (the EMA still advances every step).
 * {@code beta = 0} makes the teacher equal to the current weights, so the term and its gradient
 * vanish (the base optimizer); {@code beta = 1} keeps the teacher at the initial weights.
 *
 * <p>Not supported with {@code localSteps > 1}: the trainer's local rounds never return to the
 * driver between steps, so the per-step EMA could not be kept.
 */
public final class MemoryEfficientSharpnessAware implements UpdateRule {
  private static final long serialVersionUID = 1L;

  static final String TRAJECTORY = "mesa.trajectorySum";
  static final String TRAJECTORY_WEIGHT = "mesa.trajectoryWeight";

  private final TrajectoryLoss loss;
  private final double decay;
  private final int klStart;
  private final int klEnd;
  private double[] teacher;
  private long updates;

  /**
   * @param lambda  coefficient of the trajectory term (>= 0)
   * @param tau     temperature (> 0)
   * @param decay   beta, the teacher's EMA decay per optimizer step, in [0, 1]
   * @param klStart the term is on for 0-based epochs e with klStart < e < klEnd (>= -1)
   * @param klEnd   exclusive end (Integer.MAX_VALUE: never off)
   */
  public MemoryEfficientSharpnessAware(double lambda, double tau, double decay, int klStart, int klEnd) {
    this.loss = new TrajectoryLoss(lambda, tau);
    if (!(decay >= 0 && decay <= 1)) throw new IllegalArgumentException("emaDecay must be in [0, 1], got " + decay);
    if (klStart < -1) throw new IllegalArgumentException("klStartEpoch must be >= -1, got " + klStart);
    if (klEnd < 0) throw new IllegalArgumentException("klEndEpoch must be >= 0, got " + klEnd);
    this.decay = decay;
    this.klStart = klStart;
    this.klEnd = klEnd;
  }

  /** From the estimator's settings for a run of {@code epochs}. */
  public static MemoryEfficientSharpnessAware of(RuleSettings s, int epochs) {
    return new MemoryEfficientSharpnessAware(s.mesaLambda(), s.temperature(), s.emaDecay(), s.effectiveKlStart(epochs),
        s.effectiveKlEnd());
  }

  public TrajectoryLoss trajectoryLoss() { return loss; }

  public double emaDecay() { return decay; }

  /** Whether the term is on in 0-based epoch {@code e}. */
  public boolean active(int e) { return klStart < e && e < klEnd; }

  /** A copy of the teacher weights (null before the first step). */
  public double[] teacher() { return teacher == null ? null : teacher.clone(); }

  /** Optimizer steps the teacher has averaged so far. */
  public long emaUpdates() { return updates; }

  @Override public LocalRule localRule() {
    return new Local(loss, teacher == null ? null : teacher.clone());
  }

  @Override public void step(StepContext ctx) {
    if (teacher == null) teacher = ctx.params().clone();
    // a copy: in local mode the broadcast hands tasks the driver's object itself
    LocalRule rule = new Local(loss, active(ctx.epoch()) ? teacher.clone() : null);
    StepContext.Pass pass = ctx.pass(rule, ctx.params());
    ctx.applyUpdate(pass.meanDirection(), pass.stats());
    emaUpdate(teacher, ctx.params(), decay);
    updates++;
  }

  /** {@code v <- beta v + (1 - beta) w}, in place. */
  static void emaUpdate(double[] v, double[] w, double beta) {
    double a = 1.0 - beta;
    for (int i = 0; i < v.length; i++) v[i] = beta * v[i] + a * w[i];
  }

  /** The checkpointed state: the teacher (null before the first step) and its update count. */
  record TeacherState(double[] teacher, long updates) implements java.io.Serializable {}

  @Override public java.io.Serializable checkpointState(io.github.sparksam.train.RuleStateAccess access) {
    return new TeacherState(teacher == null ? null : teacher.clone(), updates);
  }

  @Override public void restoreState(java.io.Serializable state, io.github.sparksam.train.RuleStateAccess access) {
    if (!(state instanceof TeacherState t)) {
      throw new IllegalArgumentException("resumeFrom: the checkpoint holds no MESA teacher state ("
          + (state == null ? "none" : state.getClass().getName()) + ")");
    }
    teacher = t.teacher() == null ? null : t.teacher().clone();
    updates = t.updates();
  }

  @Override public boolean supportsLocalSteps() { return false; }

  /** For epochs with the term on: {@code trajectoryLoss}, the weighted mean of the term. */
  @Override public Map<String, Double> epochMetrics(LossStats s) {
    double w = s.metric(TRAJECTORY_WEIGHT);
    if (w == 0) return Map.of();
    return Map.of("trajectoryLoss", s.metric(TRAJECTORY) / w);
  }

  @Override public String name() { return "mesa"; }

  @Override public String toString() {
    return String.format(Locale.ROOT, "MESA(lambda=%s, tau=%s, emaDecay=%s, on for epochs %d < e < %s)", loss.lambda(),
        loss.temperature(), decay, klStart, klEnd == Integer.MAX_VALUE ? "inf" : Integer.toString(klEnd));
  }

  /** The task side: the gradient, plus the term against the teacher's logits when a teacher is shipped. */
  static final class Local implements LocalRule {
    private static final long serialVersionUID = 1L;
    private final TrajectoryLoss loss;
    private final double[] teacher;

    Local(TrajectoryLoss loss, double[] teacher) {
      this.loss = loss;
      this.teacher = teacher;
    }

    @Override public void direction(PartitionWorker worker, Buf params, LocalBatch batch, Buf grad, LossStats stats) {
      if (teacher == null) {
        worker.gradient(params, batch, grad, stats);
        return;
      }
      Buf t = worker.scratch(2);
      t.setFrom(teacher, 0, 0, teacher.length);
      int k = worker.network().numOutputs();
      double[] work = TrajectoryLoss.workFor(k);
      worker.gradient(params, batch, grad, stats, new PartitionWorker.ChunkHook() {
        private Buf teacherLogits;

        @Override public void beforeChunk(LocalBatch chunk) {
          teacherLogits = worker.forwardChunk(t, chunk);   // valid until the next forwardChunk
        }

        @Override public void adjust(LocalBatch chunk, Buf logits, Buf delta, LossStats st) {
          double sum = 0, weight = 0;
          for (int j = 0; j < chunk.size(); j++) {
            double w = worker.weight(chunk, j);
            sum += w * loss.accumulate(teacherLogits, j * k, logits, j * k, k, w, delta, j * k, work);
            weight += w;
          }
          st.add(TRAJECTORY, sum);
          st.add(TRAJECTORY_WEIGHT, weight);
        }
      });
    }

    @Override public String toString() { return "MESA.Local(" + loss + (teacher == null ? ", off)" : ")"); }
  }
}
