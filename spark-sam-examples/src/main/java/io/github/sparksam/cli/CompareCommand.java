package io.github.sparksam.cli;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

import io.github.sparksam.cli.CompareRuns.GridPoint;
import io.github.sparksam.cli.CompareRuns.Outcome;
import io.github.sparksam.cli.CompareRuns.Run;
import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.data.IdxDataset;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spark-sam compare}: trains the same model with the base optimizer alone and with each sharpness-aware rule
 * (SGD, m-SAM, global SAM, ASAM, SAF, MESA), once per seed with the same budget, and writes {@code compare.md},
 * {@code compare.json} and {@code compare.png} (mean and spread over seeds; see {@link CompareReport}), with each run's
 * own outputs under {@code --out/<rule>/[<param>-<value>/][seed-<s>/]} (the seed folder when there are several seeds,
 * the grid value's when the rule's grid has several values).
 *
 * <p>A seed fixes the initial weights, the batches and the label flips, so under one seed every rule starts from the
 * same weights and sees the same (noisy) labels in the same order. Where a rule's grid ({@code --sam-rho},
 * {@code --asam-rho}, {@code --saf-lambda}, {@code --mesa-lambda}) has several values, each is trained on the selection
 * seeds and the one with the best final accuracy on a validation split of the training data is kept; the test set is
 * only ever reported, never used to choose.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train the same model with SGD and each sharpness-aware rule over seeds; write a comparison "
                + "table and plot (mean and spread over seeds; rho/lambda picked on a validation split).")
public class CompareCommand implements Callable<Integer> {

    /** The boolean column that marks the held-out validation rows (true) of the training data. */
    static final String VALIDATION_COL = "compareValidation";
    /** Salt of the validation split's hash: the split depends on the example id only, the same for every seed. */
    static final long SPLIT_SALT = 0x5A17_C0DEL;
    private static final long SPLIT_BUCKETS = 1_000_000L;
    private static final TrainCommand TRAIN_DEFAULTS = new TrainCommand();

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder. Default: ${DEFAULT-VALUE}")
    String data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--limit", paramLabel = "N", description = "Training rows (the first N, before the validation "
            + "split); 0 = all. Default: ${DEFAULT-VALUE}")
    int limit = 0;

    @Option(names = "--epochs", description = "Default: ${DEFAULT-VALUE}")
    int epochs = 10;

    @Option(names = "--rules", split = ",", paramLabel = "RULE", description = "Rules to compare: none (the base "
            + "optimizer; sgd is the same), sam (m-SAM), sam-global (one perturbation per global batch), asam, saf, mesa. "
            + "Default: all six")
    List<String> rules = CompareRule.keys();

    @Option(names = "--seeds", split = ",", paramLabel = "S", description = "Seeds, e.g. 0,1,2: every rule runs once "
            + "per seed (initial weights, batches, label flips). Default: --seed")
    List<Long> seeds;

    @Option(names = "--seed", description = "A single seed (when --seeds is not given). Default: 42")
    Long seed;

    @Option(names = "--model", description = "mlp | cnn | softmax. Default: ${DEFAULT-VALUE}")
    String model = "mlp";

    @Option(names = "--layers", paramLabel = "SPEC", description = "cnn: layers before the output layer (docs/CNN.md). "
            + "Default: " + SharpnessAwareClassifier.DEFAULT_CNN_LAYERS)
    String layers = TRAIN_DEFAULTS.layers;

    @Option(names = "--input-shape", paramLabel = "C,H,W", description = "cnn: channels,height,width. Default: ${DEFAULT-VALUE}")
    String inputShape = TRAIN_DEFAULTS.inputShape;

    @Option(names = "--hidden", split = ",", paramLabel = "N", description = "mlp hidden layer sizes. Default: 128")
    int[] hidden = TRAIN_DEFAULTS.hidden;

    @Option(names = "--activation", description = "relu | tanh. Default: ${DEFAULT-VALUE}")
    String activation = TRAIN_DEFAULTS.activation;

    @Option(names = "--optimizer", description = "Base optimizer of every run: sgd | momentum | nesterov | adam | adamw. "
            + "Default: ${DEFAULT-VALUE}")
    String optimizer = "sgd";

    @Option(names = "--lr", description = "Default: ${DEFAULT-VALUE}")
    double lr = 0.2;

    @Option(names = "--momentum", description = "momentum and nesterov only. Default: ${DEFAULT-VALUE}")
    double momentum = TRAIN_DEFAULTS.momentum;

    @Option(names = "--weight-decay", description = "Default: ${DEFAULT-VALUE}")
    double weightDecay = TRAIN_DEFAULTS.weightDecay;

    @Option(names = "--schedule", description = "constant | step | cosine. Default: ${DEFAULT-VALUE}")
    String schedule = "cosine";

    @Option(names = "--batch-size", description = "Default: ${DEFAULT-VALUE}")
    int batchSize = 128;

    @Option(names = "--partitions", description = "Partitions; 0 = Spark's default parallelism. Default: ${DEFAULT-VALUE}")
    int partitions = 0;

    @Option(names = "--aggregation", description = "auto | allReduce | collect | tree (as train). Default: ${DEFAULT-VALUE}")
    String aggregation = TRAIN_DEFAULTS.aggregation;

    @Option(names = "--precision", description = "float32 | float64. Default: ${DEFAULT-VALUE}")
    String precision = TRAIN_DEFAULTS.precision;

    @Option(names = "--sam-rho", split = ",", paramLabel = "RHO", description = "rho grid of sam and sam-global. "
            + "Default: 0.05")
    List<Double> samRho = List.of(0.05);

    @Option(names = "--asam-rho", split = ",", paramLabel = "RHO", description = "rho grid of asam (ASAM needs ~10x "
            + "SAM's). Default: 0.5")
    List<Double> asamRho = List.of(0.5);

    @Option(names = "--saf-lambda", split = ",", paramLabel = "L", description = "lambda grid of saf. Default: 0.3")
    List<Double> safLambda = List.of(0.3);

    @Option(names = "--mesa-lambda", split = ",", paramLabel = "L", description = "lambda grid of mesa. Default: 0.8")
    List<Double> mesaLambda = List.of(0.8);

    @Option(names = "--micro-batch", description = "m-SAM micro-batch size for sam and asam. Default: ${DEFAULT-VALUE}")
    int microBatch = 64;

    @Option(names = "--adaptive-eta", description = "ASAM's eta. Default: ${DEFAULT-VALUE}")
    double adaptiveEta = TRAIN_DEFAULTS.adaptiveEta;

    @Option(names = "--temperature", description = "SAF/MESA temperature. Default: ${DEFAULT-VALUE}")
    double temperature = TRAIN_DEFAULTS.temperature;

    @Option(names = "--saf-lag", description = "SAF lag in epochs. Default: ${DEFAULT-VALUE}")
    int safLag = TRAIN_DEFAULTS.safLag;

    @Option(names = "--kl-start", description = "SAF/MESA: term on for 0-based epochs > this; -1 = 30%% of the epochs. "
            + "Default: ${DEFAULT-VALUE}")
    int klStart = TRAIN_DEFAULTS.klStart;

    @Option(names = "--ema-decay", description = "MESA teacher EMA decay. Default: ${DEFAULT-VALUE}")
    double emaDecay = TRAIN_DEFAULTS.emaDecay;

    @Option(names = "--label-noise", description = "none | symmetric | asymmetric (training labels only, as train). "
            + "Default: ${DEFAULT-VALUE}")
    String labelNoise = "none";

    @Option(names = "--noise-rate", paramLabel = "P", description = "Flip probability in [0, 1). Default: ${DEFAULT-VALUE}")
    double noiseRate = 0.0;

    @Option(names = "--noise-map", paramLabel = "PAIRS", description = "asymmetric: class pairs from:to. Default: "
            + "${DEFAULT-VALUE}")
    String noiseMap = TRAIN_DEFAULTS.noiseMap;

    @Option(names = "--validation-fraction", paramLabel = "F", description = "Fraction of the training rows held out "
            + "(by a hash of the example id: the same rows for every rule and seed; clean labels) and evaluated after "
            + "every epoch; grids are selected on it. 0 = none (only when every grid has one value). "
            + "Default: ${DEFAULT-VALUE}")
    double validationFraction = 0.1;

    @Option(names = "--select-on", paramLabel = "first|all", description = "Seeds a grid value is trained on for the "
            + "selection: first (the first seed; the other seeds then run the chosen value only) or all (mean over "
            + "every seed). Default: ${DEFAULT-VALUE}")
    String selectOn = "first";

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output folder.")
    String out;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        List<CompareRule> chosen = validate();
        common.confMap();
        DataChecks.requireFashionMnistBeforeSpark(data);
        SparkSession spark = common.createSession("spark-sam compare");
        try {
            TrainCommand.Inputs in = withValidationSplit(configure(chosen.get(0), gridOf(chosen.get(0)).get(0),
                    seeds().get(0), out).load(spark, console), console);
            CompareReport report = new CompareReport(this, spark, in);
            List<Outcome> outcomes = new ArrayList<>();
            int[] done = {0};
            int total = plannedRuns(chosen);
            for (CompareRule r : chosen) {
                outcomes.add(runRule(r, spark, in, console, done, total));
                report.write(outcomes, console);   // after each rule: a long comparison leaves usable partial results
            }
            in.test().unpersist();
            report.printTable(console);
        } finally {
            spark.stop();
        }
        return 0;
    }

    /** Every option of every run, before Spark starts; returns the rules in order. */
    List<CompareRule> validate() {
        model = model.toLowerCase(Locale.ROOT);
        activation = activation.toLowerCase(Locale.ROOT);
        optimizer = optimizer.toLowerCase(Locale.ROOT);
        schedule = schedule.toLowerCase(Locale.ROOT);
        precision = precision.toLowerCase(Locale.ROOT);
        labelNoise = labelNoise.toLowerCase(Locale.ROOT);
        selectOn = selectOn.toLowerCase(Locale.ROOT);
        if (rules == null || rules.isEmpty()) {
            throw new IllegalArgumentException("--rules needs at least one rule");
        }
        List<CompareRule> chosen = new ArrayList<>();
        for (String r : rules) {
            CompareRule c = CompareRule.parse(r);
            if (chosen.contains(c)) {
                throw new IllegalArgumentException("--rules names " + c.key + " twice");
            }
            chosen.add(c);
        }
        if (seed != null && seeds != null) {
            throw new IllegalArgumentException("give --seed or --seeds, not both");
        }
        if (seeds != null && (seeds.isEmpty() || new HashSet<>(seeds).size() != seeds.size())) {
            throw new IllegalArgumentException("--seeds must be distinct seeds, e.g. 0,1,2; got " + seeds);
        }
        if (epochs < 2) {
            throw new IllegalArgumentException("--epochs must be >= 2 (the first epoch, JIT warm-up, is left out of the timing)");
        }
        if (optimizer.equals("lbfgs")) {
            throw new IllegalArgumentException("--optimizer lbfgs cannot be compared (full-batch; the rules need a step "
                    + "optimizer such as sgd)");
        }
        grid("--sam-rho", samRho);
        grid("--asam-rho", asamRho);
        grid("--saf-lambda", safLambda);
        grid("--mesa-lambda", mesaLambda);
        if (!(validationFraction >= 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("--validation-fraction must be in [0, 1), got " + validationFraction);
        }
        TrainCommand.oneOf("--select-on", selectOn, List.of("first", "all"));
        for (CompareRule r : chosen) {
            if (gridOf(r).size() > 1 && validationFraction == 0) {
                throw new IllegalArgumentException("the " + r.gridParam + " grid of " + r.key + " " + gridOf(r) + " is "
                        + "selected on a validation split: give --validation-fraction > 0 (e.g. 0.1)");
            }
        }
        new SharpnessAwareClassifier().setAggregation(aggregation);   // a bad value fails here, not after the first run
        for (CompareRule r : chosen) {
            for (double v : gridOf(r)) {
                configure(r, v, seeds().get(0), out);   // TrainCommand.validate: every run's options
            }
        }
        return chosen;
    }

    private static void grid(String option, List<Double> values) {
        if (values == null || values.isEmpty()) {
            throw new IllegalArgumentException(option + " needs at least one value");
        }
        for (double v : values) {
            if (!(v > 0) || !Double.isFinite(v)) {
                throw new IllegalArgumentException(option + " values must be > 0, got " + v);
            }
        }
        if (new HashSet<>(values).size() != values.size()) {
            throw new IllegalArgumentException(option + " lists a value twice: " + values);
        }
    }

    /** The seeds of every rule, in order. */
    List<Long> seeds() {
        return seeds != null ? seeds : List.of(seed != null ? seed : 42L);
    }

    /** The values a rule's grid tries (the base optimizer: one placeholder value, 0). */
    List<Double> gridOf(CompareRule r) {
        return switch (r) {
            case NONE -> List.of(0.0);
            case SAM, SAM_GLOBAL -> samRho;
            case ASAM -> asamRho;
            case SAF -> safLambda;
            case MESA -> mesaLambda;
        };
    }

    /** The seeds a grid value of several is trained on before the choice. */
    List<Long> selectionSeeds() {
        return selectOn.equals("all") ? seeds() : seeds().subList(0, 1);
    }

    private int plannedRuns(List<CompareRule> rs) {
        int n = 0;
        for (CompareRule r : rs) {
            int g = gridOf(r).size();
            n += g == 1 ? seeds().size() : g * selectionSeeds().size() + seeds().size() - selectionSeeds().size();
        }
        return n;
    }

    /** The grid runs (when there is a choice), the selection, then the chosen value under every seed. */
    private Outcome runRule(CompareRule r, SparkSession spark, TrainCommand.Inputs in, PrintWriter console, int[] done,
                            int total) throws Exception {
        List<Double> values = gridOf(r);
        List<GridPoint> grid = new ArrayList<>();
        double chosen = values.get(0);
        if (values.size() > 1) {
            for (double v : values) {
                List<Run> runs = new ArrayList<>();
                for (long s : selectionSeeds()) {
                    runs.add(run(r, v, s, true, spark, in, console, ++done[0], total));
                }
                grid.add(new GridPoint(v, runs));
            }
            GridPoint best = CompareRuns.select(grid);
            chosen = best.value();
            console.printf(Locale.ROOT, "spark-sam compare: %s: %s %s chosen (validation accuracy %.4f)%n",
                    r.label(optimizer), r.gridParam, format(chosen), best.score());
        }
        Map<Long, Run> reuse = new LinkedHashMap<>();
        for (GridPoint g : grid) {
            if (g.value() == chosen) {
                g.runs().forEach(x -> reuse.put(x.seed(), x));
            }
        }
        List<Run> runs = new ArrayList<>();
        for (long s : seeds()) {
            Run x = reuse.get(s);
            runs.add(x != null ? x : run(r, chosen, s, values.size() > 1, spark, in, console, ++done[0], total));
        }
        return new Outcome(r, r.label(optimizer), grid, chosen, runs);
    }

    private Run run(CompareRule r, double value, long s, boolean inGrid, SparkSession spark, TrainCommand.Inputs in,
                    PrintWriter console, int n, int total) throws Exception {
        // one seed: <out>/<rule>/ as before #14 (docs/SHARPNESS.md reads runs/compare/<rule>/model)
        String dir = out + "/" + r.key + (inGrid ? "/" + r.gridParam + "-" + format(value) : "")
                + (seeds().size() > 1 ? "/seed-" + s : "");
        console.printf("%nspark-sam compare: run %d/%d: %s%s, seed %d ...%n", n, total, r.label(optimizer),
                r.gridParam == null ? "" : " " + r.gridParam + " " + format(value), s);
        console.flush();
        return new Run(r, value, s, configure(r, value, s, dir).fitAndReport(spark, in, console));
    }

    /** A {@code train} command with this comparison's settings for one rule, grid value and seed. */
    TrainCommand configure(CompareRule r, double value, long s, String dir) {
        TrainCommand t = new TrainCommand();
        t.common = common;
        t.data = data;
        t.limit = limit;
        t.epochs = epochs;
        t.model = model;
        t.layers = layers;
        t.inputShape = inputShape;
        t.hidden = hidden;
        t.activation = activation;
        t.optimizer = optimizer;
        t.lr = lr;
        t.momentum = momentum;
        t.weightDecay = weightDecay;
        t.schedule = schedule;
        t.batchSize = batchSize;
        t.partitions = partitions;
        t.aggregation = aggregation;
        t.precision = precision;
        t.seed = s;
        t.microBatch = microBatch;
        t.adaptiveEta = adaptiveEta;
        t.temperature = temperature;
        t.safLag = safLag;
        t.klStart = klStart;
        t.emaDecay = emaDecay;
        t.labelNoise = labelNoise;
        t.noiseRate = noiseRate;
        t.noiseMap = noiseMap;
        t.evalTestEveryEpoch = true;   // peak and final test accuracy, curves
        t.validationCol = validationFraction > 0 ? VALIDATION_COL : null;
        r.configure(t, value);
        t.out = dir;
        t.validate();
        return t;
    }

    /**
     * Marks about {@code --validation-fraction} of the training rows as validation rows by a salted hash of the example
     * id: which rows does not depend on the seed, the rule or the partitioning, so every run holds out the same rows.
     */
    private TrainCommand.Inputs withValidationSplit(TrainCommand.Inputs in, PrintWriter console) {
        if (validationFraction == 0) {
            return in;
        }
        Column bucket = functions.pmod(functions.xxhash64(functions.col(IdxDataset.ID_COL), functions.lit(SPLIT_SALT)),
                functions.lit(SPLIT_BUCKETS));
        Dataset<Row> train = in.train().withColumn(VALIDATION_COL,
                bucket.lt(functions.lit(Math.round(validationFraction * SPLIT_BUCKETS))));
        long held = train.filter(functions.col(VALIDATION_COL)).count();
        if (held == 0 || held == in.trainRows()) {
            throw new IllegalArgumentException("--validation-fraction " + validationFraction + " holds out " + held + " of "
                    + in.trainRows() + " training rows; choose a fraction that leaves both sets non-empty");
        }
        console.printf("spark-sam compare: %d of %d training rows held out for validation%n", held, in.trainRows());
        validationRows = held;
        return new TrainCommand.Inputs(train, in.test(), in.trainRows(), in.testRows(), in.partitions());
    }

    /** Rows held out for validation (0: none). */
    long validationRows;

    /** A grid value as written: 0.05, not 0.050000000000000003. */
    static String format(double v) {
        return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /** The command line as typed, quoted for a POSIX shell where needed. */
    String commandLine() {
        StringBuilder b = new StringBuilder("bin/spark-sam");   // the original arguments start with "compare"
        for (String a : spec.commandLine().getParseResult().originalArgs()) {
            b.append(' ').append(a.matches("[A-Za-z0-9_./:=,@%+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return b.toString();
    }
}
