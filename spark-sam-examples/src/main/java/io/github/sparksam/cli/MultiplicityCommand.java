package io.github.sparksam.cli;

import static org.apache.spark.sql.functions.col;

import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.data.statistics.HistogramDataset;

import io.github.sparksam.backend.BlasInfo;
import io.github.sparksam.data.ArffReader;
import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.data.TabularEncoder;
import io.github.sparksam.ml.SharpnessAwareClassifier;
import io.github.sparksam.multiplicity.PredictiveMultiplicityJob;
import io.github.sparksam.multiplicity.RashomonCriterion;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spark-sam multiplicity}: the predictive-multiplicity job ({@link PredictiveMultiplicityJob}) on a table.
 *
 * <p>Writes into {@code --out}: {@code ranges.parquet/} (Spark), {@code ranges.csv} and {@code ranges.json} (JSON
 * lines), one row per (epsilon, target row): {@code epsilon, id, label, baseline, min, max, width, ambiguous,
 * flippable, rashomonCapacity, scoreStd, disagreement, selfConsistency, converged, evaluations}; {@code summary.json};
 * {@code range-widths.png} (histogram of the range widths, one series per epsilon).
 *
 * <h2>{@code summary.json}</h2>
 * <pre>
 * { "config": {...every option as used...}, "data": {"rows", "features", "classes": [class 0, class 1], "dropped"},
 *   "ambiguity": A, "discrepancy": D, "capacity": {mean, median, p90, max},      (one epsilon: numbers;
 *                                                                                 several: objects keyed by epsilon)
 *   "results": [ {epsilon, method, criterion, targets, ambiguity, discrepancy, discrepancyIsLowerBound, delta,
 *                 ambiguityAtDelta, discrepancyAtDelta, capacity, width, ...method-specific: passes,
 *                 passesPerTargetRow, evaluationsPerEndpoint | scoreStd, disagreement, modelsSampled, modelsInSet} ],
 *   "run": {...the job's info: baseline loss, passes, models...}, "wallTimeSeconds": .., "blas": ".." }
 * </pre>
 * {@code ambiguity} is the share of target rows whose decision (threshold 0.5) some model in the set flips;
 * {@code discrepancy} the largest share one model flips (always a lower bound, labelled so); capacity is the Rashomon
 * capacity 2^C per row.
 */
@Command(name = "multiplicity", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Predictive multiplicity: viable prediction ranges, ambiguity, discrepancy and Rashomon capacity "
                + "of the epsilon-level set; writes ranges.{parquet,csv,json}, summary.json and range-widths.png to --out.")
public class MultiplicityCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--data", required = true, paramLabel = "FILE",
            description = "Input: .arff[.gz] (Weka), .csv (header row), .parquet (or a folder of Parquet), .libsvm/.svm, "
                    + "or fashion-mnist:A,B for the class pair A (label 0) vs B (label 1) of Fashion-MNIST.")
    String data;

    @Option(names = "--epsilon", required = true, split = ",", paramLabel = "E",
            description = "Epsilon(s) of the level set L(h) <= L(h0) + E (> 0), comma-separated.")
    double[] epsilon;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (any Hadoop path).")
    String out;

    @Option(names = "--label", description = "Label column. Default: the last ARFF attribute / last CSV column / "
            + "'label' (LIBSVM, Parquet with such a column).")
    String label;

    @Option(names = "--method", description = "exact (logistic only) | sampled. Default: exact for logistic, sampled for mlp.")
    String method;

    @Option(names = "--model", description = "logistic | mlp. Default: ${DEFAULT-VALUE}")
    String model = "logistic";

    @Option(names = "--criterion", description = "Level-set loss: log-loss (training) | zero-one (training) | "
            + "heldout-loss. Default: ${DEFAULT-VALUE}")
    String criterion = "log-loss";

    @Option(names = "--l2", description = "L2 penalty (l2/2)||coef||^2 of the logistic model (also the sampled "
            + "models' weight decay). Default: ${DEFAULT-VALUE}")
    double l2 = 1e-3;

    @Option(names = "--delta", description = "Probability threshold of 'ambiguous'. Default: ${DEFAULT-VALUE}")
    double delta = 0.1;

    @Option(names = "--tolerance", description = "Exact method: accuracy of the probability endpoints. Default: ${DEFAULT-VALUE}")
    double tolerance = 1e-6;

    @Option(names = "--max-batch", description = "Exact method: most weight vectors per data pass; 0 = automatic "
            + "(Hessian sums of about 32 MB per partition). Default: ${DEFAULT-VALUE}")
    int maxBatch = 0;

    @Option(names = "--max-targets", description = "Only the first N rows (by id) as targets; 0 = all. Default: ${DEFAULT-VALUE}")
    int maxTargets = 0;

    @Option(names = "--partitions", description = "Partitions of the data; 0 = Spark's default parallelism. Default: ${DEFAULT-VALUE}")
    int partitions = 0;

    @Option(names = "--no-standardize", description = "Do not standardise numeric columns.")
    boolean noStandardize;

    @Option(names = "--missing", description = "ARFF rows with a missing value '?': drop | error. Default: ${DEFAULT-VALUE}")
    String missing = "drop";

    @Option(names = "--sampling", description = "Sampled method: seeds | bootstrap | rules. Default: ${DEFAULT-VALUE}")
    String sampling = "seeds";

    @Option(names = "--models", description = "Sampled method: number of re-trained models. Default: ${DEFAULT-VALUE}")
    int models = 10;

    @Option(names = "--rules", split = ",", description = "Sampled method, rules strategy: rules to cycle, e.g. "
            + "none,sam:0.05,asam:0.5. Default: none,sam:0.05,asam:0.5")
    List<String> rules = List.of("none", "sam:0.05", "asam:0.5");

    @Option(names = "--hidden", split = ",", description = "mlp hidden layer sizes. Default: 16")
    int[] hidden = {16};

    @Option(names = "--epochs", description = "Sampled method: training epochs. Default: ${DEFAULT-VALUE}")
    int epochs = 60;

    @Option(names = "--lr", description = "Sampled method: Adam learning rate. Default: ${DEFAULT-VALUE}")
    double lr = 0.01;

    @Option(names = "--batch-size", description = "Sampled method: batch size. Default: ${DEFAULT-VALUE}")
    int batchSize = 64;

    @Option(names = "--seed", description = "Seed of the baseline (model k uses seed + k). Default: ${DEFAULT-VALUE}")
    long seed = 42;

    @Option(names = "--heldout-fraction", description = "heldout-loss: share of rows held out (by id hash). Default: ${DEFAULT-VALUE}")
    double heldoutFraction = 0.2;

    @Option(names = "--fashion-dir", description = "Fashion-MNIST folder for fashion-mnist:A,B. Default: ${DEFAULT-VALUE}")
    String fashionDir = FashionMnist.DEFAULT_DIR;

    @Option(names = "--pool", description = "fashion-mnist:A,B: average-pool the 28x28 images by this factor "
            + "(1, 2, 4, 7, 14). Default: ${DEFAULT-VALUE}")
    int pool = 4;

    @Override
    public Integer call() throws Exception {
        execute(spec.commandLine().getOut());
        return 0;
    }

    void validate() {
        model = model.toLowerCase(Locale.ROOT);
        if (!List.of("logistic", "mlp").contains(model)) {
            throw new IllegalArgumentException("--model must be logistic or mlp, got '" + model + "'");
        }
        if (method == null) {
            method = model.equals("mlp") ? "sampled" : "exact";
        }
        method = method.toLowerCase(Locale.ROOT);
        if (!List.of("exact", "sampled").contains(method)) {
            throw new IllegalArgumentException("--method must be exact or sampled, got '" + method + "'");
        }
        RashomonCriterion.parse(criterion);
        for (double e : epsilon) {
            if (!(e > 0) || Double.isInfinite(e)) {
                throw new IllegalArgumentException("--epsilon must be > 0, got " + e);
            }
        }
        if (method.equals("exact") && model.equals("mlp")) {
            throw new IllegalArgumentException("--method exact needs a convex model (--model logistic): an MLP's "
                    + "epsilon-level set is not convex; use --method sampled");
        }
        if (!List.of("drop", "error").contains(missing.toLowerCase(Locale.ROOT))) {
            throw new IllegalArgumentException("--missing must be drop or error, got '" + missing + "'");
        }
        if (!(l2 >= 0)) {
            throw new IllegalArgumentException("--l2 must be >= 0, got " + l2);
        }
        if (!(heldoutFraction > 0 && heldoutFraction < 1)) {
            throw new IllegalArgumentException("--heldout-fraction must be in (0, 1), got " + heldoutFraction);
        }
        if (models < 1 || epochs < 1 || batchSize < 1) {
            throw new IllegalArgumentException("--models, --epochs and --batch-size must be >= 1");
        }
        if (!List.of(1, 2, 4, 7, 14).contains(pool)) {
            throw new IllegalArgumentException("--pool must be 1, 2, 4, 7 or 14, got " + pool);
        }
    }

    /** The loaded, encoded input. */
    record Input(Dataset<Row> frame, List<String> classNames, int features, long dropped, String labelColumn) {
    }

    Input load(SparkSession spark) {
        String lower = data.toLowerCase(Locale.ROOT);
        if (lower.startsWith("fashion-mnist:")) {
            return fashionPair(spark);
        }
        Dataset<Row> raw;
        String defaultLabel;
        long dropped = 0;
        if (lower.endsWith(".arff") || lower.endsWith(".arff.gz")) {
            ArffReader.ArffData a = ArffReader.read(spark, data,
                    missing.equalsIgnoreCase("error") ? ArffReader.Missing.ERROR : ArffReader.Missing.DROP);
            raw = a.frame();
            defaultLabel = a.last().name();
            dropped = a.droppedRows();
        } else if (lower.endsWith(".csv") || lower.endsWith(".csv.gz")) {
            raw = spark.read().option("header", "true").option("inferSchema", "true").csv(data);
            String[] names = raw.columns();
            defaultLabel = names[names.length - 1];
        } else if (lower.endsWith(".libsvm") || lower.endsWith(".svm")) {
            raw = spark.read().format("libsvm").load(data).select(col("features"), col("label"));
            defaultLabel = "label";
        } else {
            raw = spark.read().parquet(data);
            List<String> names = Arrays.asList(raw.columns());
            defaultLabel = names.contains("label") ? "label" : names.get(names.size() - 1);
        }
        String labelCol = label != null ? label : defaultLabel;
        TabularEncoder.Encoded enc = TabularEncoder.encode(raw, labelCol, !noStandardize);
        Dataset<Row> frame = partitions > 0 ? enc.frame().repartition(partitions) : enc.frame();
        return new Input(frame.cache(), enc.classNames(), enc.featureNames().size(), dropped, labelCol);
    }

    private Input fashionPair(SparkSession spark) {
        String[] ab = data.substring("fashion-mnist:".length()).split(",");
        if (ab.length != 2) {
            throw new IllegalArgumentException("--data fashion-mnist:A,B needs two classes, got '" + data + "'");
        }
        int a = Integer.parseInt(ab[0].trim());
        int b = Integer.parseInt(ab[1].trim());
        if (a == b || a < 0 || b < 0 || a > 9 || b > 9) {
            throw new IllegalArgumentException("fashion-mnist:A,B needs two different classes in 0..9, got " + a + "," + b);
        }
        FashionMnist.requireAvailable(spark.sparkContext().hadoopConfiguration(), fashionDir);
        int parts = partitions > 0 ? partitions : spark.sparkContext().defaultParallelism();
        Dataset<Row> all = FashionMnist.loadTrain(spark, fashionDir, parts, 0)
                .filter(col("label").equalTo(a).or(col("label").equalTo(b)));
        int k = pool;
        int side = 28 / k;
        StructType schema = new StructType().add("id", DataTypes.LongType, false)
                .add("features", org.apache.spark.ml.linalg.SQLDataTypes.VectorType(), false)
                .add("label", DataTypes.DoubleType, false);
        final int fb = b;
        Dataset<Row> pooled = spark.createDataFrame(all.toJavaRDD().map(r -> {
            double[] x = ((Vector) r.getAs("features")).toArray();
            double[] y = new double[side * side];
            for (int i = 0; i < 28; i++) {
                for (int j = 0; j < 28; j++) {
                    y[(i / k) * side + j / k] += x[i * 28 + j] / (k * k);
                }
            }
            return RowFactory.create(r.<Long>getAs("id"), Vectors.dense(y), r.<Double>getAs("label") == fb ? 1.0 : 0.0);
        }), schema);
        return new Input(pooled.cache(), List.of("class " + a, "class " + b), side * side, 0, "label");
    }

    void execute(PrintWriter console) throws Exception {
        validate();
        common.confMap();
        SparkSession spark = common.createSession("spark-sam multiplicity");
        try {
            run(spark, console);
        } finally {
            spark.stop();
        }
    }

    ObjectNode run(SparkSession spark, PrintWriter console) throws Exception {
        long t0 = System.nanoTime();
        OutputDir dir = new OutputDir(out, spark.sparkContext().hadoopConfiguration());
        Input in = load(spark);
        Dataset<Row> train = in.frame();
        PredictiveMultiplicityJob job = new PredictiveMultiplicityJob()
                .setMethod(method).setModel(model).setCriterion(RashomonCriterion.parse(criterion))
                .setEpsilons(epsilon).setL2(l2).setDelta(delta).setTolerance(tolerance).setMaxBatch(maxBatch)
                .setMaxTargets(maxTargets).setNumPartitions(partitions)
                .setSampling(sampling).setNumModels(models).setRules(rules);
        if (RashomonCriterion.parse(criterion) == RashomonCriterion.HELDOUT_LOSS) {
            long cut = Math.round(heldoutFraction * 1000);
            Dataset<Row> held = train.filter(org.apache.spark.sql.functions.pmod(
                    org.apache.spark.sql.functions.xxhash64(col("id")), org.apache.spark.sql.functions.lit(1000)).lt(cut));
            train = train.except(held);
            job.setHeldOut(held).setTargets(in.frame());
        }
        if (method.equals("sampled")) {
            SharpnessAwareClassifier est = job.defaultEstimator().setEpochs(epochs).setLearningRate(lr)
                    .setBatchSize(batchSize).setSeed(seed).setNumPartitions(partitions);
            if (model.equals("mlp")) {
                est.setHiddenLayers(hidden);
            }
            job.setEstimator(est);
        }
        console.printf(Locale.ROOT, "spark-sam multiplicity: %s, %d features, classes %s, method %s, model %s, "
                + "epsilon %s%n", data, in.features(), in.classNames(), method, model, Arrays.toString(epsilon));
        console.flush();
        PredictiveMultiplicityJob.Report rep = job.run(train);
        List<Row> rows = rep.ranges().collectAsList();
        rep.ranges().write().mode("overwrite").parquet(dir.path("ranges.parquet"));
        writeCsv(dir, rows, rep.ranges().schema());
        writeJsonLines(dir, rows, rep.ranges().schema());
        double wall = (System.nanoTime() - t0) / 1e9;

        ObjectNode root = SummaryWriter.object();
        root.set("config", SummaryWriter.object(config(spark)));
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("rows", train.count());
        d.put("features", in.features());
        d.put("label", in.labelColumn());
        d.put("classes", in.classNames());
        d.put("droppedRowsWithMissingValues", in.dropped());
        root.set("data", SummaryWriter.object(d));
        List<Map<String, Object>> res = rep.summaries();
        if (res.size() == 1) {
            root.put("epsilon", (Double) res.get(0).get("epsilon"));
            root.set("ambiguity", SummaryWriter.object(Map.of()).numberNode((Double) res.get(0).get("ambiguity")));
            root.set("discrepancy", SummaryWriter.object(Map.of()).numberNode((Double) res.get(0).get("discrepancy")));
            root.set("capacity", SummaryWriter.object(asMap(res.get(0).get("capacity"))));
        } else {
            Map<String, Object> amb = new LinkedHashMap<>(), dis = new LinkedHashMap<>(), cap = new LinkedHashMap<>();
            for (Map<String, Object> s : res) {
                String k = String.valueOf(s.get("epsilon"));
                amb.put(k, s.get("ambiguity"));
                dis.put(k, s.get("discrepancy"));
                cap.put(k, s.get("capacity"));
            }
            root.set("ambiguity", SummaryWriter.object(amb));
            root.set("discrepancy", SummaryWriter.object(dis));
            root.set("capacity", SummaryWriter.object(cap));
        }
        root.put("discrepancyIsLowerBound", true);
        root.set("results", new ObjectMapper().valueToTree(res));
        root.set("run", SummaryWriter.object(rep.info()));
        root.put("wallTimeSeconds", wall);
        root.put("blas", BlasInfo.describe());
        SummaryWriter.write(dir, "summary.json", root);
        Charts.writePng(widthHistogram(rows), dir, "range-widths.png", 900, 600);

        for (Map<String, Object> s : res) {
            console.printf(Locale.ROOT, "spark-sam multiplicity: epsilon %s: ambiguity %.4f, discrepancy >= %.4f, "
                            + "mean width %.4f, mean Rashomon capacity %.4f%s%n", s.get("epsilon"), s.get("ambiguity"),
                    s.get("discrepancy"), asMap(s.get("width")).get("mean"), asMap(s.get("capacity")).get("mean"),
                    s.containsKey("passes") ? String.format(Locale.ROOT, ", %s passes (%.3f per target row)",
                            s.get("passes"), s.get("passesPerTargetRow")) : "");
        }
        console.printf(Locale.ROOT, "spark-sam multiplicity: wall time %.1f s; wrote %s/{ranges.parquet,ranges.csv,"
                + "ranges.json,summary.json,range-widths.png}%n", wall, dir);
        console.flush();
        return root;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o) {
        return (Map<String, Object>) o;
    }

    private Map<String, Object> config(SparkSession spark) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("data", data);
        c.put("label", label);
        c.put("epsilon", epsilon);
        c.put("method", method);
        c.put("model", model);
        c.put("criterion", criterion);
        c.put("l2", l2);
        c.put("delta", delta);
        c.put("tolerance", tolerance);
        c.put("maxBatch", maxBatch);
        c.put("maxTargets", maxTargets);
        c.put("partitions", partitions);
        c.put("standardize", !noStandardize);
        c.put("missing", missing);
        if (method.equals("sampled")) {
            c.put("sampling", sampling);
            c.put("models", models);
            if (sampling.equalsIgnoreCase("rules")) {
                c.put("rules", rules);
            }
            if (model.equals("mlp")) {
                c.put("hidden", hidden);
            }
            c.put("epochs", epochs);
            c.put("lr", lr);
            c.put("batchSize", batchSize);
            c.put("seed", seed);
        }
        if (data.toLowerCase(Locale.ROOT).startsWith("fashion-mnist:")) {
            c.put("pool", pool);
        }
        c.put("out", out);
        c.put("master", spark.sparkContext().master());
        return c;
    }

    private static void writeCsv(OutputDir dir, List<Row> rows, StructType schema) throws java.io.IOException {
        StringBuilder sb = new StringBuilder(String.join(",", schema.fieldNames())).append('\n');
        for (Row r : rows) {
            for (int i = 0; i < r.length(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(r.isNullAt(i) ? "" : String.valueOf(r.get(i)));
            }
            sb.append('\n');
        }
        try (OutputStream os = dir.create("ranges.csv")) {
            os.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void writeJsonLines(OutputDir dir, List<Row> rows, StructType schema) throws java.io.IOException {
        ObjectMapper m = new ObjectMapper();
        StringBuilder sb = new StringBuilder();
        String[] names = schema.fieldNames();
        for (Row r : rows) {
            Map<String, Object> o = new LinkedHashMap<>();
            for (int i = 0; i < names.length; i++) {
                if (!r.isNullAt(i)) {
                    o.put(names[i], r.get(i));
                }
            }
            sb.append(m.writeValueAsString(o)).append('\n');
        }
        try (OutputStream os = dir.create("ranges.json")) {
            os.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    /** Histogram of the range widths, one series per epsilon. */
    static JFreeChart widthHistogram(List<Row> rows) {
        Map<Double, List<Double>> byEps = new LinkedHashMap<>();
        for (Row r : rows) {
            byEps.computeIfAbsent(r.getDouble(0), e -> new ArrayList<>()).add(r.getDouble(6));
        }
        HistogramDataset ds = new HistogramDataset();
        double max = 0;
        for (List<Double> w : byEps.values()) {
            for (double v : w) {
                max = Math.max(max, v);
            }
        }
        max = max > 0 ? max : 1e-9;
        for (Map.Entry<Double, List<Double>> e : byEps.entrySet()) {
            double[] v = e.getValue().stream().mapToDouble(Double::doubleValue).toArray();
            ds.addSeries("epsilon " + e.getKey() + " (n=" + v.length + ")", v, 40, 0, max);
        }
        JFreeChart chart = ChartFactory.createHistogram("Viable prediction range widths (max - min of P(y=1))",
                "range width", "target rows", ds, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setForegroundAlpha(0.6f);
        plot.setBackgroundPaint(java.awt.Color.WHITE);
        ((XYBarRenderer) plot.getRenderer()).setShadowVisible(false);
        ((XYBarRenderer) plot.getRenderer()).setBarPainter(new org.jfree.chart.renderer.xy.StandardXYBarPainter());
        chart.setBackgroundPaint(java.awt.Color.WHITE);
        return chart;
    }
}
