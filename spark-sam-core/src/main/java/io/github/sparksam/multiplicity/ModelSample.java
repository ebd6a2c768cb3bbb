package io.github.sparksam.multiplicity;

import static org.apache.spark.sql.functions.col;

import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.nn.Network;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A sample of competing models for the sampled multiplicity measures (any model family, MLPs
 * included): a baseline fitted with the template's seed, then {@code K} re-trainings that differ by
 *
 * <ul>
 *   <li>{@code seeds}: the random seed (initialisation and batch order), as in Hsu and Calmon's
 *       sampling baseline;
 *   <li>{@code bootstrap}: the seed and Poisson(1) example weights (a bootstrap resample drawn from
 *       a hash of the seed, the model index and the example id; Cooper et al.'s self-consistency
 *       uses bootstrap-trained models);
 *   <li>{@code rules}: the seed and a sharpness-aware rule/hyperparameter from a list, cycled
 *       ({@code none}, {@code sam:0.05}, {@code asam:0.5}, {@code saf}, {@code mesa}, ...).
 * </ul>
 *
 * <p>Each model is an ordinary {@link SharpnessAwareClassifier} fit (distributed training). The
 * sample is then evaluated in single passes: every model's criterion ({@link #criteria}), and every
 * model's P(y=1) on every target row ({@link #scores}).
 */
public final class ModelSample implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ModelSample.class);

  /** One fitted model: its network and weights, and how it was made. */
  public record Member(String description, Network network, double[] weights) implements Serializable {
    double probability(double[] x, Network.Workspace ws) {
      double[] raw = network.predictRaw(weights, x, ws);
      double z = network.head() == Network.Head.BINOMIAL ? raw[1] : raw[1] - raw[0];
      return LogisticBatchKernel.sigmoid(z);
    }
  }

  private final List<Member> members;   // index 0: the baseline

  private ModelSample(List<Member> members) { this.members = members; }

  public static ModelSample of(List<Member> members) { return new ModelSample(new ArrayList<>(members)); }

  public List<Member> members() { return members; }

  public int size() { return members.size() - 1; }

  /**
   * Fits the baseline and {@code k} competitors. {@code rules} is used by the {@code rules} strategy
   * ("name" or "name:rho").
   */
  public static ModelSample fit(SharpnessAwareClassifier template, Dataset<Row> train, String strategy, int k,
                                List<String> rules, String idCol) {
    String s = strategy.toLowerCase(Locale.ROOT);
    if (!List.of("seeds", "bootstrap", "rules").contains(s)) {
      throw new IllegalArgumentException("unknown sampling strategy '" + strategy + "'; use seeds, bootstrap or rules");
    }
    if (k < 1) throw new IllegalArgumentException("the number of sampled models must be >= 1, got " + k);
    if (s.equals("rules") && (rules == null || rules.isEmpty())) {
      throw new IllegalArgumentException("the rules strategy needs a list of rules (e.g. none, sam:0.05, asam:0.5)");
    }
    long seed = template.getSeed();
    List<Member> out = new ArrayList<>();
    long t0 = System.nanoTime();
    out.add(member("baseline (seed " + seed + ")", template.fit(train)));
    for (int i = 1; i <= k; i++) {
      SharpnessAwareClassifier est = template.copy(ParamMap.empty()).setSeed(seed + i);
      Dataset<Row> data = train;
      String desc = "seed " + (seed + i);
      if (s.equals("bootstrap")) {
        data = train.withColumn("__bootstrap_weight", poissonWeights(seed, i).apply(col(idCol).cast("long")));
        est.setWeightCol("__bootstrap_weight");
        desc += ", bootstrap " + i;
      } else if (s.equals("rules")) {
        String r = rules.get((i - 1) % rules.size());
        String[] parts = r.split(":");
        est.setRule(parts[0].trim());
        if (parts.length > 1) est.setRho(Double.parseDouble(parts[1].trim()));
        desc += ", rule " + r;
      }
      out.add(member(desc, est.fit(data)));
      LOG.info("spark-sam multiplicity: fitted model {}/{} ({}), {} s so far", i, k, desc,
          String.format(Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9));
    }
    return new ModelSample(out);
  }

  private static Member member(String desc, SharpnessAwareClassificationModel m) {
    if (m.numClasses() != 2) throw new IllegalArgumentException("the multiplicity job needs a binary label");
    return new Member(desc, m.network(), m.weights());
  }

  /** Poisson(1) weight of example {@code id} in bootstrap resample {@code i}. */
  static UserDefinedFunction poissonWeights(long seed, int i) {
    return functions.udf((UDF1<Long, Double>) id -> {
      SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i * 0xBF58476D1CE4E5B9L + id);
      double l = Math.exp(-1), p = 1;
      int n = -1;
      do {
        n++;
        p *= r.nextDouble();
      } while (p > l);
      return (double) n;
    }, DataTypes.DoubleType);
  }

  /**
   * One pass: per member, {@code [log-loss sum, errors, rows]} on {@code data} (features, label),
   * unweighted. Returns mean log-loss and error rate per member.
   */
  public double[][] criteria(Dataset<Row> data, String featuresCol, String labelCol) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(data.sparkSession().sparkContext());
    Broadcast<ModelSample> bc = jsc.broadcast(this);
    int m = members.size();
    List<double[]> parts;
    try {
      parts = data.select(col(featuresCol), col(labelCol).cast("double")).toJavaRDD().mapPartitions(it -> {
        ModelSample ms = bc.value();
        double[] acc = new double[3 * m];
        Network.Workspace[] ws = new Network.Workspace[m];
        for (int j = 0; j < m; j++) ws[j] = ms.members.get(j).network().predictionWorkspace();
        while (it.hasNext()) {
          Row r = it.next();
          double[] x = ((Vector) r.get(0)).toArray();
          double y = r.getDouble(1);
          for (int j = 0; j < m; j++) {
            double p = ms.members.get(j).probability(x, ws[j]);
            double pc = Math.min(1 - 1e-15, Math.max(1e-15, p));
            acc[3 * j] += y > 0.5 ? -Math.log(pc) : -Math.log(1 - pc);
            acc[3 * j + 1] += (p >= 0.5 ? 1 : 0) != (y > 0.5 ? 1 : 0) ? 1 : 0;
            acc[3 * j + 2] += 1;
          }
        }
        return List.of(acc).iterator();
      }).collect();
    } catch (Exception e) {
      throw Errors.rethrow(e);
    } finally {
      bc.destroy();
    }
    double[] tot = new double[3 * m];
    for (double[] a : parts) for (int i = 0; i < tot.length; i++) tot[i] += a[i];
    double[][] out = new double[m][2];
    for (int j = 0; j < m; j++) {
      if (tot[3 * j + 2] == 0) throw new IllegalArgumentException("the data for the Rashomon-set criterion has no rows");
      out[j][0] = tot[3 * j] / tot[3 * j + 2];
      out[j][1] = tot[3 * j + 1] / tot[3 * j + 2];
    }
    return out;
  }

  /** One target row's scores: P(y=1) of every member (index 0: baseline). */
  public record Scores(long id, double label, double[] p) implements Serializable {}

  /** One pass over the targets: every member's P(y=1) per row, collected to the driver (ordered by id). */
  public List<Scores> scores(Dataset<Row> targets, String idCol, String featuresCol, String labelCol) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(targets.sparkSession().sparkContext());
    Broadcast<ModelSample> bc = jsc.broadcast(this);
    int m = members.size();
    List<Scores> rows;
    try {
      rows = targets.select(col(idCol).cast("long"), col(featuresCol), col(labelCol).cast("double")).toJavaRDD()
          .mapPartitions(it -> {
            ModelSample ms = bc.value();
            Network.Workspace[] ws = new Network.Workspace[m];
            for (int j = 0; j < m; j++) ws[j] = ms.members.get(j).network().predictionWorkspace();
            List<Scores> out = new ArrayList<>();
            while (it.hasNext()) {
              Row r = it.next();
              double[] x = ((Vector) r.get(1)).toArray();
              double[] p = new double[m];
              for (int j = 0; j < m; j++) p[j] = ms.members.get(j).probability(x, ws[j]);
              out.add(new Scores(r.getLong(0), r.isNullAt(2) ? Double.NaN : r.getDouble(2), p));
            }
            return out.iterator();
          }).collect();
    } catch (Exception e) {
      throw Errors.rethrow(e);
    } finally {
      bc.destroy();
    }
    List<Scores> sorted = new ArrayList<>(rows);
    sorted.sort((a, b) -> Long.compare(a.id(), b.id()));
    return sorted;
  }
}
