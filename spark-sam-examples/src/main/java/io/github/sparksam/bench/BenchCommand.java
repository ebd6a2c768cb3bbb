package io.github.sparksam.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.sparksam.backend.BlasInfo;
import io.github.sparksam.cli.CommonOptions;
import io.github.sparksam.cli.OutputDir;
import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.nn.Activation;
import io.github.sparksam.nn.Network;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.ml.classification.ProbabilisticClassificationModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spark-sam bench}: one process, one run, side by side on Fashion-MNIST: the plain
 * single-thread Java loop (the limit), our trainer with each rule on local Spark, MLlib's MLP and
 * logistic regression, and PyTorch on the CPU when Debian's python3-torch is installed. Each case
 * runs several times; per-epoch times are medians of epochs 2..N (epoch 1 includes JIT warm-up),
 * with min-max spread over runs. Writes {@code bench.json} and {@code bench.md}.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Side-by-side benchmark on Fashion-MNIST: plain Java loop, spark-sam rules, MLlib, PyTorch.")
public class BenchCommand implements Callable<Integer> {

  /**
   * Our cases, one Spark job per step ({@code aggregation=collect}); each also runs with
   * {@code aggregation=allReduce} as {@code NAME-allreduce}, and {@code sgd} with {@code tree} as {@code sgd-tree}.
   */
  static final List<String> SPARK_SAM_CASES = List.of("sgd", "sgd-local", "msam", "sam-global", "asam", "saf", "mesa",
      "softmax-sgd", "cnn");  // #14: cnn (and cnn-allreduce)
  static final String ALL_REDUCE = "-allreduce";
  static final String TREE = "-tree";
  static final List<String> ALL_CASES = allCases();
  static final List<String> QUICK_CASES = List.of("plain", "sgd", "sgd-allreduce", "sgd-local", "msam", "msam-allreduce",
      "saf", "mesa", "mllib-lr");

  private static List<String> allCases() {
    List<String> all = new ArrayList<>(List.of("plain", "plain-cnn"));
    all.addAll(SPARK_SAM_CASES);
    for (String c : SPARK_SAM_CASES) if (!c.equals("sgd-local")) all.add(c + ALL_REDUCE);
    all.add("sgd" + TREE);
    all.addAll(List.of("mllib-mlp-lbfgs", "mllib-mlp-gd", "mllib-lr", "softmax-lbfgs", "torch", "torch-cnn"));
    return List.copyOf(all);
  }

  @Spec CommandSpec spec;
  @Mixin CommonOptions common = new CommonOptions();

  @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder. Default: ${DEFAULT-VALUE}")
  String data = FashionMnist.DEFAULT_DIR;
  @Option(names = "--quick", description = "CI smoke: 3000 rows, 2 epochs, 1 run, a few cases; never fails on timings.")
  boolean quick;
  @Option(names = "--cases", split = ",", description = "Cases to run (default: all). One of: plain, sgd, sgd-local, msam, "
      + "sam-global, asam, saf, mesa, softmax-sgd (each but sgd-local also as NAME-allreduce: aggregation=allReduce), "
      + "sgd-tree (aggregation=tree), mllib-mlp-lbfgs, mllib-mlp-gd, mllib-lr, softmax-lbfgs (full-batch L-BFGS), torch; "
      + "cnn (also cnn-allreduce), plain-cnn and torch-cnn, the default cnn layers")
  List<String> cases;
  // #16: softmax regression by L-BFGS, ours (softmax-lbfgs) against MLlib's (mllib-lr), same objective and stopping rule
  @Option(names = "--lr-iterations", description = "maxIter of mllib-lr and softmax-lbfgs (--quick: 3). Default: ${DEFAULT-VALUE}")
  int lrIterations = 100;
  @Option(names = "--lr-tol", description = "tol of mllib-lr and softmax-lbfgs. Default: ${DEFAULT-VALUE}")
  double lrTol = 1e-6;
  @Option(names = "--lr-reg", description = "L2 penalty of mllib-lr (regParam, standardization off) and softmax-lbfgs "
      + "(weightDecay). Default: ${DEFAULT-VALUE}")
  double lrReg = 1e-4;
  @Option(names = "--epochs", description = "Default: ${DEFAULT-VALUE}") int epochs = 3;
  @Option(names = "--repeats", description = "Runs per case. Default: ${DEFAULT-VALUE}") int repeats = 3;
  @Option(names = "--rounds", description = "Runs the list of cases this many times, one after the other (each "
      + "time with --repeats runs per case), and pools the runs: with --repeats 1 the cases alternate, so that a "
      + "machine whose speed drifts (a shared host) slows every case alike. Default: ${DEFAULT-VALUE}")
  int rounds = 1;
  @Option(names = "--limit", description = "Training rows; 0 = all. Default: ${DEFAULT-VALUE}") int limit = 0;
  @Option(names = "--batch-size", description = "Default: ${DEFAULT-VALUE}") int batchSize = 128;
  @Option(names = "--lr", description = "Default: ${DEFAULT-VALUE}") double lr = 0.1;
  @Option(names = "--local-steps", description = "K of the sgd-local case. Default: ${DEFAULT-VALUE}") int localSteps = 16;
  @Option(names = "--mllib-iterations", description = "maxIter of MLlib's MLP. Default: ${DEFAULT-VALUE}") int mllibIter = 20;
  @Option(names = "--target-accuracy", description = "Test accuracy for time-to-accuracy; default: MLlib MLP l-bfgs's final accuracy")
  Double targetAccuracy;
  @Option(names = "--torch-threads", description = "PyTorch threads. Default: ${DEFAULT-VALUE} (local[2] uses 2 cores)")
  int torchThreads = 2;
  @Option(names = "--python", description = "Python with torch. Default: ${DEFAULT-VALUE}") String python = "/usr/bin/python3";
  @Option(names = "--seed", description = "Default: ${DEFAULT-VALUE}") long seed = 42;
  @Option(names = "--replicate", split = ",", description = "Scaling: run the spark-sam cases also on the training set "
      + "replicated this many times (e.g. 1,2,4,8; rows of copies are distinct examples) and report the cached bytes "
      + "per row. Default: 1")
  List<Integer> replicate = List.of(1);
  @Option(names = "--partitions", description = "Partitions of the training data for the spark-sam cases; 0 = the "
      + "default parallelism. Default: ${DEFAULT-VALUE}")
  int partitions = 0;
  // #15: a larger model against PyTorch, and what reaches the driver per step (collect against tree)
  @Option(names = "--hidden", split = ",", description = "Hidden layer widths of the MLP of every case (ours, plain, "
      + "MLlib, PyTorch), e.g. 1024,1024. Default: 128")
  List<Integer> hidden = List.of(128);
  @Option(names = "--driver-bytes", split = ",", paramLabel = "P", description = "Instead of the cases: for each "
      + "partition count P (e.g. 16,64) fit one epoch of --driver-bytes-steps steps with aggregation=collect and with "
      + "aggregation=tree and report the bytes the driver receives per step (serialized task results of the step jobs)")
  List<Integer> driverBytes;
  @Option(names = "--driver-bytes-steps", description = "Steps of each --driver-bytes fit. Default: ${DEFAULT-VALUE}")
  int driverBytesSteps = 10;
  @Option(names = "--out", paramLabel = "DIR", description = "Output folder. Default: ${DEFAULT-VALUE}")
  String out = "./spark-sam-bench";

  /** One case's runs. */
  record CaseResult(String name, String description, List<double[]> epochSeconds, List<double[]> testAccuracy,
                    long stepsPerEpoch, String note) {
    /** This case's runs and {@code later}'s (another round of the same case). */
    CaseResult pooledWith(CaseResult later) {
      List<double[]> s = new ArrayList<>(epochSeconds), a = new ArrayList<>(testAccuracy);
      s.addAll(later.epochSeconds());
      a.addAll(later.testAccuracy());
      return new CaseResult(name, description, s, a, stepsPerEpoch, note != null ? note : later.note());
    }

    BenchStats perEpoch() {
      double[] med = epochSeconds.stream().mapToDouble(e -> BenchStats.of(BenchStats.steadyEpochs(e)).median()).toArray();
      return BenchStats.of(med);
    }

    double finalAccuracy() {
      return BenchStats.of(testAccuracy.stream().mapToDouble(a -> a[a.length - 1]).toArray()).median();
    }

    /** Median over runs of the training seconds until test accuracy first reaches {@code target}; NaN if never. */
    double timeTo(double target) {
      double[] t = new double[epochSeconds.size()];
      for (int r = 0; r < t.length; r++) {
        double sum = 0;
        t[r] = Double.NaN;
        for (int e = 0; e < epochSeconds.get(r).length; e++) {
          sum += epochSeconds.get(r)[e];
          if (testAccuracy.get(r)[e] >= target) {
            t[r] = sum;
            break;
          }
        }
      }
      return BenchStats.of(t).median();
    }
  }

  @Override public Integer call() throws Exception {
    PrintWriter console = spec.commandLine().getOut();
    if (quick) {
      limit = limit == 0 ? 3000 : limit;
      epochs = 2;
      repeats = 1;
      mllibIter = 3;
    }
    List<String> run = cases != null ? cases : quick ? QUICK_CASES : ALL_CASES;
    for (String c : run) {
      if (!ALL_CASES.contains(c)) throw new IllegalArgumentException("--cases: unknown case '" + c + "'; valid: " + ALL_CASES);
    }
    if (epochs < 1 || repeats < 1 || rounds < 1) {
      throw new IllegalArgumentException("--epochs, --repeats and --rounds must be >= 1");
    }
    if (limit < 0) throw new IllegalArgumentException("--limit must be >= 0, got " + limit);
    if (batchSize < 1) throw new IllegalArgumentException("--batch-size must be >= 1, got " + batchSize);
    if (!(lr > 0) || !Double.isFinite(lr)) throw new IllegalArgumentException("--lr must be > 0, got " + lr);
    if (localSteps < 1) throw new IllegalArgumentException("--local-steps must be >= 1, got " + localSteps);
    if (partitions < 0) throw new IllegalArgumentException("--partitions must be >= 0, got " + partitions);
    if (lrIterations < 1) throw new IllegalArgumentException("--lr-iterations must be >= 1, got " + lrIterations); // #16
    if (!(lrTol > 0) || Double.isInfinite(lrTol)) throw new IllegalArgumentException("--lr-tol must be > 0, got " + lrTol); // #16
    if (!(lrReg >= 0) || Double.isInfinite(lrReg)) throw new IllegalArgumentException("--lr-reg must be >= 0, got " + lrReg); // #16
    for (int f : replicate) if (f < 1) throw new IllegalArgumentException("--replicate factors must be >= 1, got " + f);
    for (int h : hidden) if (h < 1) throw new IllegalArgumentException("--hidden widths must be >= 1, got " + h);
    if (driverBytes != null) {
      for (int p : driverBytes) if (p < 1) throw new IllegalArgumentException("--driver-bytes needs partition counts >= 1, got " + p);
      if (driverBytesSteps < 1) throw new IllegalArgumentException("--driver-bytes-steps must be >= 1, got " + driverBytesSteps);
    }
    io.github.sparksam.cli.DataChecks.requireFashionMnistBeforeSpark(data);
    SparkSession spark = common.createSession("spark-sam bench");
    try {
      if (driverBytes != null) {
        return new DriverBytes(spark, data, batchSize, lr, seed, hiddenLayers(), driverBytesSteps).run(driverBytes, out,
            console);
      }
      return bench(spark, run, console);
    } finally {
      spark.stop();
    }
  }

  private int bench(SparkSession spark, List<String> run, PrintWriter console) throws Exception {
    int parts = partitions > 0 ? partitions : spark.sparkContext().defaultParallelism();
    Dataset<Row> train = FashionMnist.loadTrain(spark, data, parts, limit).cache();
    Dataset<Row> test = FashionMnist.loadTest(spark, data, parts, quick ? 1000 : 0).cache();
    LocalData localTrain = LocalData.collect(train);
    LocalData localTest = LocalData.collect(test);
    Network mlp = Network.mlp(784, hiddenLayers(), 10, Activation.RELU, Network.Head.MULTINOMIAL);
    long steps = (localTrain.rows() + batchSize - 1) / batchSize;
    String blas = BlasInfo.describe();
    console.printf("spark-sam bench: %d train / %d test rows, %d partitions, master %s, %d epochs x %d runs, BLAS %s%n",
        localTrain.rows(), localTest.rows(), parts, spark.sparkContext().master(), epochs, repeats, blas);
    console.flush();
    // warm the JIT and Spark once, outside every measurement
    warmUp(spark, train, mlp, localTrain, localTest);

    Map<String, CaseResult> results = new LinkedHashMap<>();
    Map<Integer, Double> bytesPerRow = new LinkedHashMap<>();
    boolean scaling = replicate.size() > 1 || replicate.get(0) != 1;
    for (int f : replicate) {
      Dataset<Row> trainF = train;
      for (int k = 1; k < f; k++) trainF = trainF.union(train);
      if (scaling) {
        bytesPerRow.put(f, cachedBytesPerRow(trainF, parts, spark));
        console.printf("spark-sam bench: %dx rows: %.0f cached bytes per row%n", f, bytesPerRow.get(f));
      }
      for (int round = 0; round < rounds; round++) for (String c : run) {
        boolean ours = !c.startsWith("plain") && !c.startsWith("mllib") && !c.startsWith("torch");  // #14: torch-cnn
        if (f != 1 && !ours) continue;        // the baselines run on 1x only
        String name = scaling && ours ? c + "@" + f + "x" : c;
        console.printf("spark-sam bench: %s%s ...%n", name, rounds == 1 ? "" : " (round " + (round + 1) + "/" + rounds + ")");
        console.flush();
        CaseResult r = runCase(c, trainF, test, localTrain, localTest, mlp, steps * f, parts, spark);
        if (r != null) {
          r = new CaseResult(name, r.description() + (f == 1 ? "" : ", training set replicated " + f + "x"),
              r.epochSeconds(), r.testAccuracy(), r.stepsPerEpoch(), r.note());
          CaseResult before = results.get(name);
          if (before != null) r = before.pooledWith(r);
          results.put(name, r);
          console.printf("spark-sam bench: %s: per epoch %s s, final test accuracy %.4f%s%n", name, r.perEpoch(),
              r.finalAccuracy(), r.note() == null ? "" : " (" + r.note() + ")");
          console.flush();
        }
      }
    }
    report(spark, results, bytesPerRow, parts, blas, console);
    train.unpersist();
    test.unpersist();
    return 0;
  }

  /** Blockifies {@code d} as training does (float32, 4096-row blocks), caches it and reads Spark's memory size per row. */
  private static double cachedBytesPerRow(Dataset<Row> d, int parts, SparkSession spark) {
    var blocked = io.github.sparksam.data.Blockifier.blockify(d, new io.github.sparksam.data.InputColumns("features",
        "label", null), io.github.sparksam.backend.Precision.FLOAT32, parts, 10)
        .persist(org.apache.spark.storage.StorageLevel.MEMORY_ONLY());
    try {
      long rows = blocked.map(p -> (long) p.numRows).reduce(Long::sum);
      for (org.apache.spark.storage.RDDInfo info : spark.sparkContext().getRDDStorageInfo()) {
        if (info.id() == blocked.id()) return info.memSize() / (double) rows;
      }
      return Double.NaN;
    } finally {
      blocked.unpersist(true);
    }
  }

  private void warmUp(SparkSession spark, Dataset<Row> train, Network mlp, LocalData localTrain, LocalData localTest) {
    Dataset<Row> small = train.limit(Math.min(2000, localTrain.rows()));
    int parts = partitions > 0 ? partitions : spark.sparkContext().defaultParallelism();
    new SharpnessAwareClassifier().setEpochs(1).setBatchSize(batchSize).setNumPartitions(parts).fit(small);
    // both aggregation paths: the first measured case must not pay for compiling the other one's code
    new SharpnessAwareClassifier().setEpochs(3).setBatchSize(batchSize).setNumPartitions(parts).setAggregation("auto")
        .fit(train.limit(Math.min(6000, localTrain.rows())));
    LocalData l = new LocalData(localTrain.x(), localTrain.y(), Math.min(2000, localTrain.rows()), localTrain.features());
    PlainSgdLoop.run(mlp, l, localTest, 1, batchSize, lr, seed);
  }

  private CaseResult runCase(String c, Dataset<Row> train, Dataset<Row> test, LocalData localTrain, LocalData localTest,
                             Network mlp, long steps, int parts, SparkSession spark) throws Exception {
    numPartitions = parts;
    master = spark.sparkContext().master();
    List<double[]> secs = new ArrayList<>(), accs = new ArrayList<>();
    switch (c) {
      case "plain" -> {
        for (int r = 0; r < repeats; r++) {
          PlainSgdLoop.Result res = PlainSgdLoop.run(mlp, localTrain, localTest, epochs, batchSize, lr, seed);
          secs.add(res.epochSeconds());
          accs.add(res.testAccuracy());
        }
        return new CaseResult(c, "plain Java loop, 1 thread, same network/BLAS/batches (the limit)", secs, accs, steps, null);
      }
      case "plain-cnn" -> {   // #14: the cnn cases' network in the same single-thread loop
        Network cnn = Network.cnn(new io.github.sparksam.nn.layers.Shape(1, 28, 28),
            SharpnessAwareClassifier.DEFAULT_CNN_LAYERS, 10, Activation.RELU, Network.Head.MULTINOMIAL);
        for (int r = 0; r < repeats; r++) {
          PlainSgdLoop.Result res = PlainSgdLoop.run(cnn, localTrain, localTest, epochs, batchSize, lr, seed);
          secs.add(res.epochSeconds());
          accs.add(res.testAccuracy());
        }
        return new CaseResult(c, "plain Java loop, 1 thread, CNN [" + SharpnessAwareClassifier.DEFAULT_CNN_LAYERS
            + "], same BLAS/batches (a single-thread limit)", secs, accs, steps, null);
      }
      case "mllib-mlp-lbfgs", "mllib-mlp-gd" -> {
        String solver = c.endsWith("lbfgs") ? "l-bfgs" : "gd";
        for (int r = 0; r < repeats; r++) {
          MultilayerPerceptronClassifier m = new MultilayerPerceptronClassifier().setLayers(mllibLayers())
              .setMaxIter(mllibIter).setSolver(solver).setSeed(seed);
          long t0 = System.nanoTime();
          var model = m.fit(train);
          double s = (System.nanoTime() - t0) / 1e9;
          secs.add(new double[] {s});
          accs.add(new double[] {accuracy(model, test)});
        }
        return new CaseResult(c, "MLlib MultilayerPerceptronClassifier " + solver + ", maxIter " + mllibIter
            + " (time = whole fit)", secs, accs, mllibIter, null);
      }
      case "mllib-lr" -> { // #16: the objective and stopping rule of softmax-lbfgs
        int iters = quick ? 3 : lrIterations;
        String note = null;
        for (int r = 0; r < repeats; r++) {
          LogisticRegression m = new LogisticRegression().setFamily("multinomial").setMaxIter(iters).setTol(lrTol)
              .setRegParam(lrReg).setElasticNetParam(0).setStandardization(false);
          long t0 = System.nanoTime();
          var model = m.fit(train);
          secs.add(new double[] {(System.nanoTime() - t0) / 1e9});
          accs.add(new double[] {accuracy(model, test)});
          double[] h = model.summary().objectiveHistory();
          note = String.format(Locale.ROOT, "%d iterations, objective %.6f", model.summary().totalIterations(),
              h[h.length - 1]);
        }
        return new CaseResult(c, "MLlib LogisticRegression multinomial L-BFGS, maxIter " + iters + ", tol " + lrTol
            + ", regParam " + lrReg + ", standardization off (time = whole fit)", secs, accs, iters, note);
      }
      case "softmax-lbfgs" -> { // #16
        int iters = quick ? 3 : lrIterations;
        String note = null;
        for (int r = 0; r < repeats; r++) {
          SharpnessAwareClassifier m = new SharpnessAwareClassifier().setModelType("softmax").setOptimizer("lbfgs")
              .setEpochs(iters).setTol(lrTol).setWeightDecay(lrReg).setPrecision("float64").setSeed(seed)
              .setNumPartitions(parts);
          long t0 = System.nanoTime();
          var model = m.fit(train);
          secs.add(new double[] {(System.nanoTime() - t0) / 1e9});
          accs.add(new double[] {accuracy(model, test)});
          var ep = model.summary().epochs();
          note = String.format(Locale.ROOT, "%d iterations, objective %.6f", ep.size(),
              ep.get(ep.size() - 1).ruleMetrics().get("objective"));
        }
        return new CaseResult(c, "spark-sam softmax regression, optimizer=lbfgs (Breeze), maxIter " + iters + ", tol "
            + lrTol + ", weightDecay " + lrReg + ", float64 (time = whole fit)", secs, accs, iters, note);
      }
      case "torch", "torch-cnn" -> {  // #14: torch-cnn, the cnn case's architecture in PyTorch
        return torch(c, localTrain, secs, accs, steps);
      }
      default -> {
        SharpnessAwareClassifier est = estimator(c);
        for (int r = 0; r < repeats; r++) {
          double[] acc = new double[epochs];
          est.setEpochListener((m, net, params) -> acc[m.epoch() - 1] = PlainSgdLoop.accuracy(net, params, localTest));
          var model = est.fit(train);
          secs.add(model.summary().epochs().stream().mapToDouble(e -> e.seconds()).toArray());
          accs.add(acc);
        }
        return new CaseResult(c, describe(c, parts), secs, accs, steps, null);
      }
    }
  }

  private int numPartitions;
  private String master = "local Spark";

  int[] hiddenLayers() { return hidden.stream().mapToInt(Integer::intValue).toArray(); }

  private int[] mllibLayers() {
    int[] l = new int[hidden.size() + 2];
    l[0] = 784;
    for (int i = 0; i < hidden.size(); i++) l[i + 1] = hidden.get(i);
    l[l.length - 1] = 10;
    return l;
  }

  private String mlpShape() {
    StringBuilder b = new StringBuilder();
    for (int w : mllibLayers()) b.append(b.length() == 0 ? "" : "-").append(w);
    return b.toString();
  }

  private SharpnessAwareClassifier estimator(String c) {
    if (c.endsWith(ALL_REDUCE)) return estimator(c.substring(0, c.length() - ALL_REDUCE.length())).setAggregation("allReduce");
    if (c.endsWith(TREE)) return estimator(c.substring(0, c.length() - TREE.length())).setAggregation("tree");
    SharpnessAwareClassifier e = new SharpnessAwareClassifier().setHiddenLayers(hiddenLayers()).setOptimizer("sgd")
        .setLearningRate(lr).setBatchSize(batchSize).setEpochs(epochs).setSeed(seed).setNumPartitions(numPartitions)
        .setAggregation("collect");    // the estimator's default is auto; NAME-allreduce and sgd-tree name theirs
    return switch (c) {
      case "sgd" -> e;
      case "sgd-local" -> e.setLocalSteps(localSteps);
      case "msam" -> e.setRule("sam").setPerturbation("partition").setMicroBatchSize(0); // #16: slice, as measured so far
      case "sam-global" -> e.setRule("sam").setPerturbation("global");
      case "asam" -> e.setRule("asam").setRho(0.5).setMicroBatchSize(0); // #16: per partition slice, as before
      case "saf" -> e.setRule("saf").setSafLag(1).setKlStartEpoch(0);
      case "mesa" -> e.setRule("mesa").setKlStartEpoch(0);
      case "softmax-sgd" -> e.setModelType("softmax");
      case "cnn" -> e.setModelType("cnn").setInputShape(new int[] {1, 28, 28})  // #14
          .setLayers(SharpnessAwareClassifier.DEFAULT_CNN_LAYERS);
      default -> throw new IllegalArgumentException(c);
    };
  }

  private String describe(String c, int parts) {
    if (c.endsWith(ALL_REDUCE)) {
      return describeRule(c.substring(0, c.length() - ALL_REDUCE.length()), parts).replace("one Spark job per step",
          "one barrier stage per epoch").replace("two jobs per step", "two all-reduces per step")
          .replace("; one job per step", "") + ", aggregation=allReduce";
    }
    if (c.endsWith(TREE)) {
      return describeRule(c.substring(0, c.length() - TREE.length()), parts) + ", aggregation=tree (sums meet in a "
          + "fixed tree of shuffles)";
    }
    return describeRule(c, parts) + ", aggregation=collect";
  }

  private String describeRule(String c, int parts) {
    String model = c.startsWith("cnn") || c.equals("softmax-sgd") ? "" : ", MLP " + mlpShape();
    String base = "spark-sam on " + master + " (" + parts + " partitions" + model + "), ";
    return base + switch (c) {
      case "sgd" -> "SGD, synchronous (one Spark job per step)";
      case "sgd-local" -> "SGD with localSteps=" + localSteps + " (model averaging every " + localSteps + " steps)";
      case "msam" -> "m-SAM (rho 0.05, perturbation per partition slice; one job per step)";
      case "sam-global" -> "global SAM (rho 0.05; two jobs per step)";
      case "asam" -> "ASAM (rho 0.5, eta 0.01, weights only; per partition)";
      case "saf" -> "SAF (lambda 0.3, tau 5, lag 1, term on from epoch 2)";
      case "mesa" -> "MESA (lambda 0.8, tau 5, EMA 0.999, term on from epoch 2)";
      case "softmax-sgd" -> "softmax regression, SGD (compare with mllib-lr)";
      case "cnn" -> "CNN [" + SharpnessAwareClassifier.DEFAULT_CNN_LAYERS + "], SGD, one Spark job per step";  // #14
      default -> c;
    };
  }

  /** The cases on the default CNN: cnn and cnn-allreduce (also replicated, cnn@2x), plain-cnn and torch-cnn. */
  static boolean isCnnCase(String name) { return name.startsWith("cnn") || name.endsWith("-cnn"); }

  /** The median seconds per epoch of case {@code name}, NaN if it did not run. */
  private static double medianOf(Map<String, CaseResult> results, String name) {
    CaseResult r = results.get(name);
    return r == null || r.epochSeconds().isEmpty() ? Double.NaN : r.perEpoch().median();
  }

  /** Time per epoch against rows: each case at every replication factor, as a ratio to its 1x time. */
  private void scalingTable(Map<String, CaseResult> results, Map<Integer, Double> bytesPerRow, ObjectNode root,
                            StringBuilder md) {
    md.append("\nScaling with rows (training set replicated; time per epoch relative to 1x):\n\n"
        + "| case | rows | s/epoch median [min-max] | x rows | x time | cached bytes/row |\n|---|---|---|---|---|---|\n");
    ArrayNode arr = root.putArray("scaling");
    for (CaseResult base : results.values()) {
      if (!base.name().endsWith("@1x")) continue;
      String c = base.name().substring(0, base.name().length() - 3);
      double t1 = base.perEpoch().median();
      for (Map.Entry<Integer, Double> f : bytesPerRow.entrySet()) {
        CaseResult r = results.get(c + "@" + f.getKey() + "x");
        if (r == null || r.epochSeconds().isEmpty()) continue;
        BenchStats pe = r.perEpoch();
        long rows = r.stepsPerEpoch() * batchSize;
        arr.addObject().put("case", c).put("factor", f.getKey()).put("secondsPerEpochMedian", pe.median())
            .put("ratioToOneX", pe.median() / t1).put("cachedBytesPerRow", f.getValue());
        md.append(String.format(Locale.ROOT, "| %s | %dx (~%d) | %.3f [%.3f-%.3f] | %d | %.2f | %.0f |%n", c, f.getKey(),
            rows, pe.median(), pe.min(), pe.max(), f.getKey(), pe.median() / t1, f.getValue()));
      }
    }
  }

  private static double accuracy(ProbabilisticClassificationModel<Vector, ?> model, Dataset<Row> test) {
    return model.transform(test).filter("prediction = label").count() / (double) test.count();
  }

  private CaseResult torch(String c, LocalData localTrain, List<double[]> secs, List<double[]> accs, long steps)
      throws Exception {
    String arch = c.equals("torch-cnn") ? "CNN [" + SharpnessAwareClassifier.DEFAULT_CNN_LAYERS + "]" : "MLP";  // #14
    if (!Files.isExecutable(Path.of(python)) || new ProcessBuilder(python, "-c", "import torch").start().waitFor() != 0) {
      return new CaseResult(c, "PyTorch " + arch + " on the CPU", secs, accs, steps,
          "skipped: " + python + " cannot import torch (apt-get install python3-torch)");
    }
    Path script = Files.createTempFile("spark-sam-torch", ".py");
    try (InputStream in = BenchCommand.class.getResourceAsStream("torch_mlp.py")) {
      Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    ObjectMapper json = new ObjectMapper();
    String torchVersion = null;
    for (int r = 0; r < repeats; r++) {
      ObjectNode a = json.createObjectNode().put("threads", torchThreads).put("seed", seed + r).put("dir", data)
          .put("limit", limit).put("lr", lr).put("batch", batchSize).put("epochs", epochs)
          .put("model", c.equals("torch-cnn") ? "cnn" : "mlp");
      a.set("hidden", json.valueToTree(hidden));
      Process p = new ProcessBuilder(python, script.toString(), a.toString()).redirectErrorStream(false).start();
      String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      String stderr = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new IllegalStateException("the PyTorch run failed: " + stderr.strip());
      }
      var res = json.readTree(stdout.strip().lines().reduce((x, y) -> y).orElse("{}"));
      secs.add(json.convertValue(res.get("epochSeconds"), double[].class));
      accs.add(json.convertValue(res.get("testAccuracy"), double[].class));
      torchVersion = res.get("torch").asText();
    }
    Files.deleteIfExists(script);
    return new CaseResult(c, "PyTorch " + torchVersion + " " + arch + " on the CPU, " + torchThreads + " threads, plain SGD",
        secs, accs, steps, null);
  }

  private void report(SparkSession spark, Map<String, CaseResult> results, Map<Integer, Double> bytesPerRow, int parts,
                      String blas, PrintWriter console) throws Exception {
    double target = targetAccuracy != null ? targetAccuracy
        : results.containsKey("mllib-mlp-lbfgs") ? results.get("mllib-mlp-lbfgs").finalAccuracy() : 0.80;
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    ObjectNode cfg = root.putObject("config");
    cfg.set("hidden", json.valueToTree(hidden));
    cfg.put("master", spark.sparkContext().master()).put("partitions", parts).put("epochs", epochs).put("repeats", repeats)
        .put("rounds", rounds).put("limit", limit).put("batchSize", batchSize).put("lr", lr).put("localSteps", localSteps).put("quick", quick)
        .put("seed", seed).put("targetAccuracy", target);
    root.put("blas", blas);
    ArrayNode arr = root.putArray("cases");
    StringBuilder md = new StringBuilder();
    boolean cnnCases = results.keySet().stream().anyMatch(BenchCommand::isCnnCase);
    md.append(String.format(Locale.ROOT, "master %s, %d partitions, MLP %s%s, batch %d, lr %s, %d epochs x %d runs%s, BLAS %s; "
        + "target test accuracy %.4f%n%n", spark.sparkContext().master(), parts, mlpShape(),
        cnnCases ? " (the *cnn cases: CNN [" + SharpnessAwareClassifier.DEFAULT_CNN_LAYERS + "])" : "", batchSize, lr,
        epochs, repeats * rounds, rounds == 1 ? "" : " (" + rounds + " rounds of the cases in turn)", blas, target));
    md.append("| case | s/epoch median [min-max] | steps/s | final test acc | time to target (s) | x plain | x sgd "
        + "(same aggregation) | x torch |\n");
    md.append("|---|---|---|---|---|---|---|---|\n");
    for (CaseResult r : results.values()) {
      BenchStats pe = r.perEpoch();
      // #14: a CNN case is set against the CNN's single-thread loop, its SGD run and PyTorch CNN
      boolean cnn = isCnnCase(r.name()), allReduce = r.name().endsWith(ALL_REDUCE);
      double plain = medianOf(results, cnn ? "plain-cnn" : "plain");
      double base = medianOf(results, (cnn ? "cnn" : "sgd") + (allReduce ? ALL_REDUCE : ""));
      double torch = medianOf(results, cnn ? "torch-cnn" : "torch");
      double tt = r.timeTo(target);
      ObjectNode o = arr.addObject();
      o.put("name", r.name()).put("description", r.description());
      if (r.note() != null) o.put("note", r.note());
      if (r.epochSeconds().isEmpty()) {
        md.append(String.format(Locale.ROOT, "| %s | %s | | | | | | |%n", r.name(), r.note()));
        continue;
      }
      o.put("secondsPerEpochMedian", pe.median()).put("secondsPerEpochMin", pe.min()).put("secondsPerEpochMax", pe.max())
          .put("stepsPerSecond", r.stepsPerEpoch() / pe.median()).put("finalTestAccuracy", r.finalAccuracy())
          .put("secondsToTarget", tt).put("ratioToPlain", pe.median() / plain).put("ratioToSgd", pe.median() / base)
          .put("ratioToTorch", pe.median() / torch);
      o.set("epochSeconds", json.valueToTree(r.epochSeconds()));
      o.set("testAccuracy", json.valueToTree(r.testAccuracy()));
      md.append(String.format(Locale.ROOT, "| %s | %.3f [%.3f-%.3f] | %.1f | %.4f | %s | %.2f | %.2f | %.2f |%n", r.name(),
          pe.median(), pe.min(), pe.max(), r.stepsPerEpoch() / pe.median(), r.finalAccuracy(),
          Double.isNaN(tt) ? "not reached" : String.format(Locale.ROOT, "%.2f", tt), pe.median() / plain, pe.median() / base,
          pe.median() / torch));
    }
    if (!bytesPerRow.isEmpty()) scalingTable(results, bytesPerRow, root, md);
    md.append("\nCases:\n");
    for (CaseResult r : results.values()) md.append("- `").append(r.name()).append("`: ").append(r.description()).append('\n');
    md.append("\nPer-epoch times are medians of epochs 2..N of each run (epoch 1 includes JIT warm-up), then the median "
        + "[min-max] over runs; MLlib rows time the whole fit. Time to target sums whole epochs (epoch 1 included) until "
        + "the test accuracy after an epoch first reaches the target."
        + (cnnCases ? " The cnn cases' x plain, x sgd and x torch are against plain-cnn, cnn (same aggregation) and "
            + "torch-cnn." : "") + "\n");
    OutputDir dir = new OutputDir(out, spark.sparkContext().hadoopConfiguration());
    try (var os = dir.create("bench.json")) {
      json.writerWithDefaultPrettyPrinter().writeValue(os, root);
    }
    try (var os = dir.create("bench.md")) {
      os.write(md.toString().getBytes(StandardCharsets.UTF_8));
    }
    console.printf("%n%s%nspark-sam bench: wrote %s/{bench.json,bench.md}%n", md, dir);
    console.flush();
  }
}
