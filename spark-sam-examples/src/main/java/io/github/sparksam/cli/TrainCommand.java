package io.github.sparksam.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import io.github.sparksam.backend.BlasInfo;
import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.train.EpochMetrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spark-sam train}: trains a {@link SharpnessAwareClassifier} on Fashion-MNIST and writes {@code summary.json}
 * (contract in {@link SummaryWriter}), {@code training-curves.png} and the model ({@code model/}) into {@code --out}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train a classifier on Fashion-MNIST; write summary.json, training-curves.png and model/ to --out.")
public class TrainCommand implements Callable<Integer> {

    static final List<String> MODELS = List.of("softmax", "mlp", "cnn");
    static final List<String> ACTIVATIONS = List.of("relu", "tanh");
    static final List<String> OPTIMIZERS = List.of("sgd", "momentum", "nesterov", "adam", "adamw", "lbfgs"); // #16 lbfgs
    static final List<String> SCHEDULES = List.of("constant", "step", "cosine");
    static final List<String> PRECISIONS = List.of("float32", "float64");
    static final List<String> RULES = List.of("none", "sam", "asam", "saf", "mesa");

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder (any Hadoop path). Default: ${DEFAULT-VALUE}")
    String data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--limit", paramLabel = "N", description = "Use the first N training rows; 0 = all. Default: ${DEFAULT-VALUE}")
    int limit = 0;

    @Option(names = "--model", description = "softmax | mlp | cnn. Default: ${DEFAULT-VALUE}")
    String model = "mlp";

    // #14: convolutional networks
    @Option(names = "--layers", paramLabel = "SPEC", description = "cnn: layers before the output layer, e.g. "
            + "'conv 16 5x5 pad 2, maxpool 2, dense 128' (see docs/CNN.md). Default: "
            + SharpnessAwareClassifier.DEFAULT_CNN_LAYERS)
    String layers = SharpnessAwareClassifier.DEFAULT_CNN_LAYERS;

    @Option(names = "--input-shape", paramLabel = "C,H,W", description = "cnn: channels,height,width of a row. "
            + "Default: ${DEFAULT-VALUE} (Fashion-MNIST)")
    String inputShape = "1,28,28";

    @Option(names = "--hidden", split = ",", paramLabel = "N", description = "Hidden layer sizes, comma-separated (mlp). Default: 128")
    int[] hidden = {128};

    @Option(names = "--activation", description = "relu | tanh. Default: ${DEFAULT-VALUE}")
    String activation = "relu";

    @Option(names = "--optimizer", description = "sgd | momentum | nesterov | adam | adamw | lbfgs (full-batch L-BFGS: "
            + "--epochs is its maxIter; no learning rate, batch size or --rule). Default: ${DEFAULT-VALUE}")
    String optimizer = "sgd";

    // #16 L-BFGS settings
    @Option(names = "--tol", description = "lbfgs: convergence tolerance, as MLlib LogisticRegression's tol. Default: ${DEFAULT-VALUE}")
    double tol = 1e-6;

    @Option(names = "--lbfgs-history", paramLabel = "M", description = "lbfgs: correction pairs kept. Default: ${DEFAULT-VALUE}")
    int lbfgsHistory = 10;

    @Option(names = "--epochs", description = "Default: ${DEFAULT-VALUE}")
    int epochs = 5;

    @Option(names = "--batch-size", description = "Global minibatch size. Default: ${DEFAULT-VALUE}")
    int batchSize = 128;

    @Option(names = "--lr", description = "Learning rate. Default: ${DEFAULT-VALUE} (for plain SGD with the cosine "
            + "schedule; use ~0.02 with momentum/nesterov and ~0.001 with adam/adamw)")
    double lr = 0.2;

    @Option(names = "--momentum", description = "Momentum (momentum and nesterov only). Default: ${DEFAULT-VALUE}")
    double momentum = 0.9;

    @Option(names = "--weight-decay", description = "Default: ${DEFAULT-VALUE}")
    double weightDecay = 0.0;

    @Option(names = "--schedule", description = "Learning-rate schedule: constant | step | cosine (decays to 0 over "
            + "the run). Default: ${DEFAULT-VALUE}")
    String schedule = "cosine";

    @Option(names = "--local-steps", description = "Steps each partition takes between synchronizations. Default: ${DEFAULT-VALUE}")
    int localSteps = 1;

    @Option(names = "--aggregation", description = "auto (allReduce where the run and cluster allow it, else tree "
            + "for many partitions of a large model, else collect) | allReduce (an epoch per barrier stage, tasks add "
            + "over their own sockets: same weights, far fewer Spark jobs; needs a task slot per partition and "
            + "--local-steps 1) | collect (a Spark job per step, the driver adds; treeAggregate is its old name) | tree "
            + "(a Spark job per step, sums meet in a fixed tree). Default: ${DEFAULT-VALUE}")   // #15
    String aggregation = "auto";

    @Option(names = "--partitions", description = "Partitions of the training data; 0 = Spark's default parallelism. Default: ${DEFAULT-VALUE}")
    int partitions = 0;

    @Option(names = "--precision", description = "float32 | float64. Default: ${DEFAULT-VALUE}")
    String precision = "float32";

    @Option(names = "--label-smoothing", description = "Default: ${DEFAULT-VALUE}")
    double labelSmoothing = 0.0;

    @Option(names = "--seed", description = "Default: ${DEFAULT-VALUE}")
    long seed = 42;

    @Option(names = "--max-grad-norm", description = "Clip the gradient's global L2 norm; 0 = off. Default: ${DEFAULT-VALUE}")
    double maxGradNorm = 0.0;

    @Option(names = "--rule", description = "Sharpness-aware rule around the optimizer: none | sam | asam | saf | mesa. Default: ${DEFAULT-VALUE}")
    String rule = "none";

    @Option(names = "--rho", description = "SAM/ASAM radius (ASAM needs ~10x SAM's). Default: ${DEFAULT-VALUE}")
    double rho = 0.05;

    @Option(names = "--perturbation", description = "SAM/ASAM scope: partition (m-SAM, one Spark job per step) | global (exact, two jobs). Default: ${DEFAULT-VALUE}")
    String perturbation = "partition";

    @Option(names = "--micro-batch", paramLabel = "M", description = "m-SAM: examples per perturbation inside a task (1: independent of the partitioning; larger is faster; 0 = the task's slice). Default: ${DEFAULT-VALUE}")
    int microBatch = 1; // #16: the estimator's default

    @Option(names = "--adaptive-eta", description = "ASAM's eta. Default: ${DEFAULT-VALUE}")
    double adaptiveEta = 0.01;

    @Option(names = "--lambda", description = "SAF/MESA trajectory-loss coefficient; default 0.3 for saf, 0.8 for mesa")
    Double lambda;

    @Option(names = "--temperature", description = "SAF/MESA temperature tau. Default: ${DEFAULT-VALUE}")
    double temperature = 5.0;

    @Option(names = "--saf-lag", description = "SAF: compare with outputs from this many epochs earlier. Default: ${DEFAULT-VALUE}")
    int safLag = 2;

    @Option(names = "--kl-start", description = "SAF/MESA: term on for 0-based epochs > this; -1 = 30%% of the epochs. Default: ${DEFAULT-VALUE}")
    int klStart = -1;

    @Option(names = "--ema-decay", description = "MESA: teacher EMA decay per step. Default: ${DEFAULT-VALUE}")
    double emaDecay = 0.999;

    // #16: SAM/ASAM's rho schedule and where --max-grad-norm clips
    @Option(names = "--rho-schedule", description = "SAM/ASAM: constant | learningRate (rho_t = rho * lr_t / --lr, "
            + "following --schedule step by step; not with --local-steps > 1). Default: ${DEFAULT-VALUE}")
    String rhoSchedule = "constant";

    @Option(names = "--clipping", description = "Which gradient --max-grad-norm clips: descent (the update direction) | "
            + "ascent (SAM/ASAM's gradient at w, before eps; acts only through xi since eps is normalised) | both. "
            + "Default: ${DEFAULT-VALUE}")
    String clipping = "descent";

    /** The rho-schedule and clipping options against each other and --rule / --max-grad-norm. */
    void validateRhoScheduleAndClipping() {
        if (!rhoSchedule.equalsIgnoreCase("constant") && !rhoSchedule.equalsIgnoreCase("learningRate")) {
            throw new IllegalArgumentException("--rho-schedule must be one of constant, learningRate; got '" + rhoSchedule + "'");
        }
        oneOf("--clipping", clipping.toLowerCase(Locale.ROOT), List.of("descent", "ascent", "both"));
        boolean samFamily = rule.equals("sam") || rule.equals("asam");
        if (!samFamily && (!rhoSchedule.equalsIgnoreCase("constant") || !clipping.equalsIgnoreCase("descent"))) {
            throw new IllegalArgumentException("--rho-schedule and --clipping ascent|both need --rule sam or asam, got --rule "
                    + rule);
        }
        if (!clipping.equalsIgnoreCase("descent") && !(maxGradNorm > 0)) {
            throw new IllegalArgumentException("--clipping " + clipping + " needs --max-grad-norm > 0");
        }
    }
    // end #16

    // #14 ------------------------------------------------------------ noisy labels, per-epoch test evaluation
    @Option(names = "--label-noise", description = "Corrupt the TRAINING labels (deterministic in example id and "
            + "--seed; the test set is never corrupted): none | symmetric | asymmetric. Default: ${DEFAULT-VALUE}")
    String labelNoise = "none";

    @Option(names = "--noise-rate", paramLabel = "P", description = "Flip probability in [0, 1) for --label-noise. "
            + "Default: ${DEFAULT-VALUE}")
    double noiseRate = 0.0;

    @Option(names = "--noise-map", paramLabel = "PAIRS", description = "asymmetric: class pairs from:to. Default: "
            + "${DEFAULT-VALUE} (Fashion-MNIST's look-alike classes)")
    String noiseMap = io.github.sparksam.data.LabelNoise.FASHION_MNIST_MAP;

    @Option(names = "--eval-test-every-epoch", description = "Evaluate the test set after every epoch (one pass each); "
            + "summary.json gets testEveryEpoch, peakTestAccuracy and peakTestEpoch")
    boolean evalTestEveryEpoch;

    /** The #14 options against each other. */
    void validateNoise() {
        oneOf("--label-noise", labelNoise, List.of(io.github.sparksam.data.LabelNoise.KINDS));
        if (!(noiseRate >= 0 && noiseRate < 1)) {
            throw new IllegalArgumentException("--noise-rate must be in [0, 1), got " + noiseRate);
        }
        if (labelNoise.equals("none") != (noiseRate == 0)) {
            throw new IllegalArgumentException("--label-noise " + labelNoise + " and --noise-rate " + noiseRate
                    + " go together: give both (a rate > 0) or neither");
        }
        if (!labelNoise.equals("none") && optimizer.equalsIgnoreCase("lbfgs")) {
            throw new IllegalArgumentException("--label-noise cannot be combined with --optimizer lbfgs");
        }
        io.github.sparksam.data.LabelNoise.partnerMap(noiseMap, io.github.sparksam.data.FashionMnist.NUM_CLASSES);
    }

    /**
     * Test loss and accuracy after each epoch (for --eval-test-every-epoch), in epoch order. The trainer evaluates
     * the test set, blocked and cached once, as an epoch evaluation set named "test"; this listener keeps its metrics.
     */
    static final class TestEveryEpoch implements io.github.sparksam.train.EpochListener {
        private static final long serialVersionUID = 1L;
        static final String SET = "test";
        final List<double[]> byEpoch = new java.util.ArrayList<>();   // epoch, loss, accuracy

        /** Registers {@code test} with {@code clf} as the evaluation set this listener reads. */
        TestEveryEpoch(SharpnessAwareClassifier clf, Dataset<Row> test) {
            clf.setEpochEvaluationSet(SET, test);
        }

        @Override public void onEpochEnd(EpochMetrics m, io.github.sparksam.nn.Network net, double[] params) {
            byEpoch.add(new double[] {m.epoch(), m.evaluation(SET + "Loss"), m.evaluation(SET + "Accuracy")});
        }

        /** testEveryEpoch, peakTestAccuracy and peakTestEpoch (the first epoch reaching the peak). */
        void writeTo(com.fasterxml.jackson.databind.node.ObjectNode summary) {
            com.fasterxml.jackson.databind.node.ArrayNode a = summary.putArray("testEveryEpoch");
            double[] peak = null;
            for (double[] e : byEpoch) {
                a.addObject().put("epoch", (int) e[0]).put("testLoss", e[1]).put("testAccuracy", e[2]);
                if (peak == null || e[2] > peak[2]) peak = e;
            }
            if (peak != null) {
                summary.put("peakTestAccuracy", peak[2]);
                summary.put("peakTestEpoch", (int) peak[0]);
            }
        }
    }
    // #14 end

    @Option(names = "--curvature-every", paramLabel = "N", description = "Record the top Hessian eigenvalue of the "
            + "training loss every N epochs (edge-of-stability plot); 0 = off. Default: ${DEFAULT-VALUE}")
    int curvatureEvery = 0;

    @Option(names = "--curvature-rows", paramLabel = "N", description = "Training rows (the first N) for --curvature-every. "
            + "Default: ${DEFAULT-VALUE}")
    int curvatureRows = 5000;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output folder (any Hadoop path).")
    String out;

    @Option(names = "--checkpoint-dir", paramLabel = "DIR", description = "Write training checkpoints here (any Hadoop path).")
    String checkpointDir = "";

    @Option(names = "--checkpoint-every", paramLabel = "N", description = "Checkpoint every N epochs; 0 = off. Default: ${DEFAULT-VALUE}")
    int checkpointEvery = 0;

    @Option(names = "--resume-from", paramLabel = "PATH", description = "Continue from this checkpoint file, or the newest in this directory.")
    String resumeFrom = "";

    /**
     * #14 compare: the boolean column of the training data whose true rows are held out of training and evaluated
     * after every epoch (the estimator's validationIndicatorCol); null: none. Set by {@code compare}, not an option.
     */
    String validationCol;

    /**
     * What a run produced (also used by the demo and by tests). {@code testByEpoch}: with --eval-test-every-epoch,
     * {epoch, test loss, test accuracy} after each epoch, else empty.
     */
    record Result(String outDir, Evaluation.Metrics train, Evaluation.Metrics test, double wallTimeSeconds, String blas,
                  List<EpochMetrics> epochs, List<double[]> testByEpoch) {
    }

    @Override
    public Integer call() throws Exception {
        execute(spec.commandLine().getOut());
        return 0;
    }

    /** Checks the option values; an {@link IllegalArgumentException} (exit code 2) names the bad one. */
    void validate() {
        oneOf("--model", model, MODELS);
        oneOf("--activation", activation, ACTIVATIONS);
        oneOf("--optimizer", optimizer, OPTIMIZERS);
        if (!(tol > 0) || Double.isInfinite(tol)) throw new IllegalArgumentException("--tol must be > 0, got " + tol); // #16
        if (lbfgsHistory < 1) throw new IllegalArgumentException("--lbfgs-history must be >= 1, got " + lbfgsHistory); // #16
        if (optimizer.equalsIgnoreCase("lbfgs") && !rule.equalsIgnoreCase("none")) { // #16
            throw new IllegalArgumentException("--rule " + rule + " cannot be combined with --optimizer lbfgs (full-batch "
                    + "L-BFGS takes line-search steps; the sharpness-aware rules need a step optimizer such as sgd)");
        }
        oneOf("--schedule", schedule, SCHEDULES);
        oneOf("--precision", precision, PRECISIONS);
        oneOf("--rule", rule, RULES);
        oneOf("--perturbation", perturbation, List.of("partition", "global"));
        if (!(rho >= 0) || !Double.isFinite(rho)) {
            throw new IllegalArgumentException("--rho must be >= 0, got " + rho);
        }
        if (lambda != null && !(lambda >= 0)) {
            throw new IllegalArgumentException("--lambda must be >= 0, got " + lambda);
        }
        if (!(maxGradNorm >= 0)) {
            throw new IllegalArgumentException("--max-grad-norm must be >= 0, got " + maxGradNorm);
        }
        validateRhoScheduleAndClipping();   // #16
        validateNoise();   // #14
        positive("--epochs", epochs);
        nonNegative("--checkpoint-every", checkpointEvery);
        if (checkpointEvery > 0 && (checkpointDir == null || checkpointDir.isBlank())) {
            throw new IllegalArgumentException("--checkpoint-every " + checkpointEvery + " needs --checkpoint-dir");
        }
        positive("--batch-size", batchSize);
        positive("--local-steps", localSteps);
        nonNegative("--curvature-every", curvatureEvery);
        positive("--curvature-rows", curvatureRows);
        nonNegative("--limit", limit);
        nonNegative("--partitions", partitions);
        if (model.equals("cnn")) {  // #14: a bad --layers or --input-shape fails before Spark starts
            io.github.sparksam.nn.Network.cnn(io.github.sparksam.nn.layers.Shape.parse(inputShape), layers, 10,
                    io.github.sparksam.nn.Activation.parse(activation), io.github.sparksam.nn.Network.Head.MULTINOMIAL);
        }
        if (hidden == null || hidden.length == 0 || Arrays.stream(hidden).anyMatch(h -> h <= 0)) {
            throw new IllegalArgumentException("--hidden needs positive layer sizes, got " + Arrays.toString(hidden));
        }
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new IllegalArgumentException("--lr must be > 0, got " + lr);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("--momentum must be in [0, 1), got " + momentum);
        }
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            throw new IllegalArgumentException("--weight-decay must be >= 0, got " + weightDecay);
        }
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new IllegalArgumentException("--label-smoothing must be in [0, 1), got " + labelSmoothing);
        }
    }

    Result execute(PrintWriter console) throws Exception {
        model = model.toLowerCase(Locale.ROOT);
        activation = activation.toLowerCase(Locale.ROOT);
        optimizer = optimizer.toLowerCase(Locale.ROOT);
        schedule = schedule.toLowerCase(Locale.ROOT);
        precision = precision.toLowerCase(Locale.ROOT);
        rule = rule.toLowerCase(Locale.ROOT);
        labelNoise = labelNoise.toLowerCase(Locale.ROOT);   // #14
        perturbation = perturbation.toLowerCase(Locale.ROOT);
        validate();
        common.confMap();  // a malformed --conf fails before anything starts
        DataChecks.requireFashionMnistBeforeSpark(data);

        SparkSession spark = common.createSession("spark-sam train");
        try {
            return train(spark, console);
        } finally {
            spark.stop();
        }
    }

    /** The loaded train and test sets of a run (loaded once, shared by the runs of {@code compare}). */
    record Inputs(Dataset<Row> train, Dataset<Row> test, long trainRows, long testRows, int partitions) {
    }

    Inputs load(SparkSession spark, PrintWriter console) {
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        FashionMnist.requireAvailable(hconf, data);
        int parts = partitions > 0 ? partitions : spark.sparkContext().defaultParallelism();
        Dataset<Row> train = FashionMnist.loadTrain(spark, data, parts, limit);
        Dataset<Row> test = FashionMnist.loadTest(spark, data, parts, 0).cache();  // counted, then evaluated
        long trainRows = train.count();
        long testRows = test.count();
        console.printf("spark-sam: %d training rows, %d test rows, %d partitions, master %s%n",
                trainRows, testRows, parts, spark.sparkContext().master());
        console.flush();
        return new Inputs(train, test, trainRows, testRows, parts);
    }

    private Result train(SparkSession spark, PrintWriter console) throws Exception {
        Inputs in = load(spark, console);
        try {
            return fitAndReport(spark, in, console);
        } finally {
            in.test().unpersist();
        }
    }

    /** Fits with this command's options on {@code in}, evaluates, writes summary, curves and model to --out. */
    Result fitAndReport(SparkSession spark, Inputs in, PrintWriter console) throws Exception {
        long t0 = System.nanoTime();
        Configuration hconf = spark.sparkContext().hadoopConfiguration();
        OutputDir dir = new OutputDir(out, hconf);
        Dataset<Row> train = in.train();
        Dataset<Row> test = in.test();
        int parts = in.partitions();
        long trainRows = in.trainRows();
        long testRows = in.testRows();

        SharpnessAwareClassifier clf = new SharpnessAwareClassifier()
                .setModelType(model)
                .setHiddenLayers(model.equals("mlp") ? hidden : new int[0]) // #16: --model softmax failed (hidden was always set)
                .setActivation(activation)
                .setOptimizer(optimizer)
                .setLearningRate(lr)
                .setMomentum(momentum)
                .setWeightDecay(weightDecay)
                .setLrSchedule(schedule)
                .setBatchSize(batchSize)
                .setEpochs(epochs)
                .setSeed(seed)
                .setLocalSteps(localSteps)
                .setAggregation(aggregation)
                .setNumPartitions(parts)
                .setPrecision(precision)
                .setLabelSmoothing(labelSmoothing)
                .setMaxGradNorm(maxGradNorm)
                .setRhoSchedule(rhoSchedule).setClipping(clipping)   // #16
                .setRule(rule)
                .setRho(rho)
                .setPerturbation(perturbation)
                .setMicroBatchSize(microBatch)
                .setAdaptiveEta(adaptiveEta)
                .setTemperature(temperature)
                .setSafLag(safLag)
                .setKlStartEpoch(klStart)
                .setEmaDecay(emaDecay)
                .setCheckpointDir(checkpointDir == null ? "" : checkpointDir)
                .setCheckpointInterval(checkpointEvery)
                .setResumeFrom(resumeFrom == null ? "" : resumeFrom)
                .setTol(tol).setLbfgsHistorySize(lbfgsHistory); // #16
        if (lambda != null) {
            clf.setSafLambda(lambda).setMesaLambda(lambda);
        }
        if (validationCol != null) {   // #14 compare: held-out rows, evaluated after every epoch
            clf.setValidationIndicatorCol(validationCol);
        }
        if (model.equals("cnn")) {  // #14
            io.github.sparksam.nn.layers.Shape s = io.github.sparksam.nn.layers.Shape.parse(inputShape);
            clf.setLayers(layers).setInputShape(new int[] {s.channels(), s.height(), s.width()});
        }
        io.github.sparksam.sharpness.CurvatureTracker tracker = null;
        if (curvatureEvery > 0) {
            tracker = new io.github.sparksam.sharpness.CurvatureTracker(train,
                    new io.github.sparksam.data.InputColumns("features", "label", null), curvatureRows, curvatureEvery, 20, seed);
            clf.setEpochListener(tracker);
        }
        TestEveryEpoch testEveryEpoch = evalTestEveryEpoch ? new TestEveryEpoch(clf, test) : null;   // #14
        if (!labelNoise.equals("none")) {
            clf.setLabelNoise(labelNoise).setLabelNoiseRate(noiseRate).setLabelNoiseMap(noiseMap);
        }
        if (testEveryEpoch != null) {
            io.github.sparksam.train.EpochListener curvature = tracker;
            clf.setEpochListener(curvature == null ? testEveryEpoch : (m, net, p) -> {
                curvature.onEpochEnd(m, net, p);
                testEveryEpoch.onEpochEnd(m, net, p);
            });
        }   // #14 end
        SharpnessAwareClassificationModel fitted;
        try {
            fitted = clf.fit(train);
        } finally {
            if (tracker != null) {
                tracker.close();
            }
        }

        Evaluation.Metrics trainMetrics = Evaluation.evaluate(fitted, validationCol == null ? train   // #14 compare
                : train.filter(org.apache.spark.sql.functions.not(org.apache.spark.sql.functions.col(validationCol))));
        Evaluation.Metrics testMetrics = Evaluation.evaluate(fitted, test);
        double wall = (System.nanoTime() - t0) / 1e9;
        List<EpochMetrics> epochMetrics = fitted.hasSummary() ? fitted.summary().epochs() : List.of();
        String blas = fitted.hasSummary() && fitted.summary().blas() != null ? fitted.summary().blas() : BlasInfo.describe();

        Map<String, Object> config = config(spark, parts, trainRows, testRows);
        if (model.equals("cnn")) {  // #14: the architecture as built
            config.put("network", fitted.network().toString());
        }
        console.printf("spark-sam train: model %s%n", fitted.network());
        if (fitted.hasSummary() && fitted.summary().aggregation() != null) {
            config.put("aggregation", fitted.summary().aggregation());   // what auto resolved to
        }
        ObjectNode summary = SummaryWriter.trainingSummary(config, epochMetrics, trainMetrics, testMetrics, wall, blas,
                fitted.hasSummary() ? fitted.summary().recovery() : null);
        if (tracker != null) {
            writeCurvature(tracker, clf, fitted.hasSummary() ? fitted.summary().stepsPerEpoch()   // #16
                    : (int) ((trainRows + batchSize - 1) / batchSize), summary, dir);
        }
        if (testEveryEpoch != null) testEveryEpoch.writeTo(summary);   // #14
        SummaryWriter.write(dir, "summary.json", summary);
        String title = String.format(Locale.ROOT, "%s %s, %s%s, lr %s, batch %d: test accuracy %.4f",
                model, model.equals("mlp") ? Arrays.toString(hidden) : model.equals("cnn") ? "[" + layers + "]" : "", optimizer,
                rule.equals("none") ? "" : " + " + rule, lr, batchSize, testMetrics.accuracy());
        Charts.writePng(Charts.trainingCurves(title, epochMetrics, trainMetrics, testMetrics), dir,
                "training-curves.png", 900, 700);
        fitted.write().overwrite().save(dir.path("model"));

        console.printf(Locale.ROOT, "spark-sam train: test accuracy %.4f (loss %.4f), train accuracy %.4f (loss %.4f), "
                        + "wall time %.1f s, BLAS %s%n", testMetrics.accuracy(), testMetrics.loss(),
                trainMetrics.accuracy(), trainMetrics.loss(), wall, blas);
        console.printf("spark-sam train: wrote %s/{summary.json,training-curves.png,model/}%n", dir);
        console.flush();
        return new Result(dir.toString(), trainMetrics, testMetrics, wall, blas, epochMetrics,
                testEveryEpoch == null ? List.of() : List.copyOf(testEveryEpoch.byEpoch));
    }

    /**
     * #16: adds {@code curvature} (per measured epoch: the top eigenvalue, and the optimizer's stability threshold at the
     * learning rate of the epoch's last step, see {@link io.github.sparksam.sharpness.StabilityThreshold}) and
     * {@code stabilityThreshold} (formula, and whether it bounds lambda_max(H) at all: not for Adam) to the summary, and
     * writes {@code edge-of-stability.png} with the threshold drawn step by step along the schedule.
     */
    private void writeCurvature(io.github.sparksam.sharpness.CurvatureTracker t, SharpnessAwareClassifier clf,
            int stepsPerEpoch, ObjectNode summary, OutputDir dir) throws java.io.IOException {
        io.github.sparksam.optim.LearningRateSchedule sched = clf.learningRateSchedule(stepsPerEpoch);
        long total = (long) stepsPerEpoch * epochs;
        java.util.function.LongFunction<io.github.sparksam.sharpness.StabilityThreshold> at = step ->
                io.github.sparksam.sharpness.StabilityThreshold.at(optimizer, clf.getMomentum(), clf.getBeta1(), sched,
                        step, total);
        io.github.sparksam.sharpness.StabilityThreshold first = at.apply(0);
        com.fasterxml.jackson.databind.node.ArrayNode a = summary.putArray("curvature");
        List<io.github.sparksam.sharpness.CurvatureTracker.Point> pts = t.points();
        double[] x = new double[pts.size()];
        double[] y = new double[pts.size()];
        for (int i = 0; i < pts.size(); i++) {
            var p = pts.get(i);
            io.github.sparksam.sharpness.StabilityThreshold th = at.apply((long) p.epoch() * stepsPerEpoch - 1);
            ObjectNode o = a.addObject().put("epoch", p.epoch()).put("topEigenvalue", p.topEigenvalue())
                    .put("learningRate", th.learningRate());
            if (Double.isFinite(th.value())) {
                o.put("stabilityThreshold", th.value());
            } else {
                o.putNull("stabilityThreshold");   // lr_t = 0: no bound
            }
            o.put("rows", t.rows()).put("passes", p.passes()).put("seconds", p.seconds());
            x[i] = p.epoch();
            y[i] = p.topEigenvalue();
        }
        summary.putObject("stabilityThreshold").put("optimizer", optimizer).put("formula", first.formula())
                .put("comparableToTopEigenvalue", first.comparableToHessian())
                .put("evaluatedAt", "the learning rate of each step (curvature[].stabilityThreshold: the epoch's last step)");
        // the threshold at every step (at most ~2000 points), skipping steps with lr_t = 0
        long stride = Math.max(1, total / 2000);
        List<double[]> line = new java.util.ArrayList<>();
        for (long s = 0; s < total; s += stride) {
            double v = at.apply(s).value();
            if (Double.isFinite(v)) {
                line.add(new double[]{(s + 1) / (double) stepsPerEpoch, v});
            }
        }
        double[] lx = line.stream().mapToDouble(v -> v[0]).toArray();
        double[] ly = line.stream().mapToDouble(v -> v[1]).toArray();
        String title = "Edge of stability: top Hessian eigenvalue (first " + t.rows() + " training rows)"
                + (first.comparableToHessian() ? "" : "; " + optimizer + "'s threshold bounds the preconditioned "
                + "sharpness, not this lambda_max");
        Charts.writePng(Charts.stacked(title, "epoch", false, List.of(new Charts.Panel("eigenvalue",
                        List.of(new Charts.Series("lambda_max(H)", x, y), new Charts.Series(first.label(), lx, ly))))),
                dir, "edge-of-stability.png", 900, 500);
    }
    // end #16

    private Map<String, Object> config(SparkSession spark, int parts, long trainRows, long testRows) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("data", data);
        c.put("limit", limit);
        c.put("model", model);
        if (model.equals("cnn")) {  // #14
            c.put("layers", layers);
            c.put("inputShape", inputShape);
        } else {
            c.put("hidden", hidden);
        }
        c.put("activation", activation);
        c.put("optimizer", optimizer);
        if (optimizer.equals("lbfgs")) { // #16
            c.put("tol", tol);
            c.put("lbfgsHistory", lbfgsHistory);
        }
        c.put("epochs", epochs);
        c.put("batchSize", batchSize);
        c.put("lr", lr);
        c.put("momentum", momentum);
        c.put("weightDecay", weightDecay);
        c.put("schedule", schedule);
        c.put("localSteps", localSteps);
        c.put("aggregation", aggregation);
        c.put("partitions", parts);
        c.put("precision", precision);
        c.put("labelSmoothing", labelSmoothing);
        c.put("seed", seed);
        c.put("maxGradNorm", maxGradNorm);
        c.put("clipping", clipping.toLowerCase(Locale.ROOT));   // #16
        c.put("rule", rule);
        if (!rule.equals("none")) {
            c.put("rho", rho);
            c.put("rhoSchedule", rhoSchedule);   // #16
            c.put("perturbation", perturbation);
            c.put("microBatch", microBatch);
            c.put("adaptiveEta", adaptiveEta);
            c.put("lambda", lambda);
            c.put("temperature", temperature);
            c.put("safLag", safLag);
            c.put("klStart", klStart);
            c.put("emaDecay", emaDecay);
        }
        if (checkpointEvery > 0 || !checkpointDir.isBlank() || !resumeFrom.isBlank()) {
            c.put("checkpointDir", checkpointDir);
            c.put("checkpointEvery", checkpointEvery);
            c.put("resumeFrom", resumeFrom);
        }
        if (!labelNoise.equals("none")) {   // #14
            c.put("labelNoise", labelNoise);
            c.put("noiseRate", noiseRate);
            if (labelNoise.equals("asymmetric")) c.put("noiseMap", noiseMap);
        }
        if (validationCol != null) c.put("validationIndicatorCol", validationCol);   // #14 compare
        c.put("out", out);
        c.put("master", spark.sparkContext().master());
        c.put("trainRows", trainRows);
        c.put("testRows", testRows);
        return c;
    }

    static void oneOf(String option, String value, List<String> allowed) {
        if (value == null || !allowed.contains(value)) {
            throw new IllegalArgumentException(option + " must be one of " + String.join(", ", allowed) + "; got '" + value + "'");
        }
    }

    private static void positive(String option, long v) {
        if (v <= 0) {
            throw new IllegalArgumentException(option + " must be > 0, got " + v);
        }
    }

    private static void nonNegative(String option, long v) {
        if (v < 0) {
            throw new IllegalArgumentException(option + " must be >= 0, got " + v);
        }
    }
}
