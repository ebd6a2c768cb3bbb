package io.github.sparksam.cli;

import java.io.IOException;
import java.io.InputStream;
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

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

import io.github.sparksam.data.Corruptions;
import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.data.IdxReader;
import io.github.sparksam.jobs.CorrelationReport;
import io.github.sparksam.jobs.SharpnessCorrelationJob;
import io.github.sparksam.jobs.TrainingGrid;
import io.github.sparksam.jobs.TrainingSpec;
import io.github.sparksam.sharpness.SharpnessConfig;
import io.github.sparksam.sharpness.SharpnessSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spark-sam correlation}: the sharpness-correlation study ({@link SharpnessCorrelationJob}) on Fashion-MNIST.
 * Trains a grid of models (from {@code --grid FILE} or the grid flags) and/or takes saved models, measures
 * train/test/OOD error and sharpness, and writes {@code models.csv}, {@code models.json}, {@code correlations.csv},
 * {@code correlations.json}, {@code report.md}, {@code sharpness-vs-test-error.png}, {@code sharpness-vs-ood-error.png}
 * and {@code timeline.png} into {@code --out}; trained models go to {@code --model-dir} (default {@code OUT/models})
 * and are reused by later runs.
 */
@Command(name = "correlation", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Does sharpness predict generalization? Train/measure a grid of models, correlate (Kendall tau-b, "
                + "granulated), write tables, plots and report.md to --out.")
public class CorrelationCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder. Default: ${DEFAULT-VALUE}")
    String data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--limit", paramLabel = "N", description = "Training rows (the first N); 0 = all 60000. Default: ${DEFAULT-VALUE}")
    int limit = 10000;

    @Option(names = "--test-limit", paramLabel = "N", description = "Test rows (the first N); 0 = all 10000. Default: ${DEFAULT-VALUE}")
    int testLimit = 0;

    @Option(names = "--ood-rows", paramLabel = "N", description = "Corrupt the first N test rows per corruption; 0 = all "
            + "test rows. Default: ${DEFAULT-VALUE}")
    int oodRows = 2000;

    @Option(names = "--grid", paramLabel = "FILE|SPEC", description = "A JSON grid file (see TrainingGrid; replaces the "
            + "grid flags), or an inline grid field=v1,v2;field=... (e.g. rule=none,sam;lr=0.05,0.2;seed=1) that "
            + "overrides the fields it names on top of the grid flags.")
    String gridFile;

    @Option(names = "--optimizer", split = ",", description = "Grid: optimizers. Default: sgd")
    List<String> optimizers = new ArrayList<>(List.of("sgd"));

    @Option(names = "--rule", split = ",", description = "Grid: rules (none, sam, asam, saf, mesa). Default: none,sam")
    List<String> rules = new ArrayList<>(List.of("none", "sam"));

    @Option(names = "--lr", split = ",", description = "Grid: learning rates. Default: 0.05,0.2")
    List<Double> lrs = new ArrayList<>(List.of(0.05, 0.2));

    @Option(names = "--batch-size", split = ",", description = "Grid: batch sizes. Default: 128,512")
    List<Integer> batchSizes = new ArrayList<>(List.of(128, 512));

    @Option(names = "--rho", split = ",", description = "Grid: SAM radii (0 for rule none). Default: 0.05,0.2")
    List<Double> rhos = new ArrayList<>(List.of(0.05, 0.2));

    @Option(names = "--weight-decay", split = ",", description = "Grid: weight decays. Default: 0")
    List<Double> weightDecays = new ArrayList<>(List.of(0.0));

    @Option(names = "--seed", split = ",", description = "Grid: seeds. Default: 1,2")
    List<Long> seeds = new ArrayList<>(List.of(1L, 2L));

    @Option(names = "--epochs", split = ",", description = "Grid: epochs. Default: 3")
    List<Integer> epochs = new ArrayList<>(List.of(3));

    @Option(names = "--hidden", split = ",", description = "Hidden layer sizes (all grid models). Default: 64")
    int[] hidden = {64};

    @Option(names = "--schedule", description = "Learning-rate schedule of the grid models. Default: ${DEFAULT-VALUE}")
    String schedule = "cosine";

    @Option(names = "--saved-model", paramLabel = "DIR", description = "A saved model to include (repeatable); its "
            + "hyperparameters are read from DIR/../summary.json when train wrote it.")
    List<String> savedModels = new ArrayList<>();

    @Option(names = "--no-grid", description = "Only the --saved-model models.")
    boolean noGrid;

    @Option(names = "--model-dir", paramLabel = "DIR", description = "Where trained models are saved and reused. Default: OUT/models")
    String modelDir;

    @Option(names = "--measure", paramLabel = "KIND:NORM:SCALING:RHO", description = "A sharpness definition (repeatable). "
            + "Default: worst:linf:adaptive:0.002, worst:l2:standard:0.5, average:l2:adaptive:0.1, average:l2:standard:0.1")
    List<String> measures = new ArrayList<>();

    @Option(names = "--hessian", split = ",", description = "Hessian measures (topEigenvalue, topEigenvaluePower, "
            + "hessianTrace, directionalSharpness) or none. Default: topEigenvalue,hessianTrace,directionalSharpness")
    List<String> hessian = new ArrayList<>(List.of("topEigenvalue", "hessianTrace", "directionalSharpness"));

    @Option(names = "--sample-size", description = "Rows of the sharpness sample. Default: ${DEFAULT-VALUE}")
    int sampleSize = 512;

    @Option(names = "--sample-batch", description = "m of m-sharpness. Default: ${DEFAULT-VALUE}")
    int sampleBatch = 128;

    @Option(names = "--worst-iters", description = "APGD steps. Default: ${DEFAULT-VALUE}")
    int worstIters = 10;

    @Option(names = "--draws", description = "Average-case draws (antithetic pairs). Default: ${DEFAULT-VALUE}")
    int draws = 10;

    @Option(names = "--hessian-rows", description = "Rows for the Hessian measures. Default: ${DEFAULT-VALUE}")
    int hessianRows = 1024;

    @Option(names = "--lanczos-iters", description = "Default: ${DEFAULT-VALUE}")
    int lanczosIters = 20;

    @Option(names = "--probes", description = "Hutchinson probes. Default: ${DEFAULT-VALUE}")
    int probes = 16;

    @Option(names = "--corruption", paramLabel = "KIND:SEVERITY", description = "An OOD corruption of the test set "
            + "(gaussianNoise, blur, contrast, rotate, shift; severity 1-5), repeatable, or none. Default: all five at 1, 3, 5")
    List<String> corruptions = new ArrayList<>();

    @Option(names = "--corruption-seed", description = "Default: ${DEFAULT-VALUE}")
    long corruptionSeed = 0;

    @Option(names = "--ood-data", paramLabel = "NAME=DIR|NAME=IMAGES,LABELS", description = "A second OOD data set: an "
            + "MNIST-layout folder (its t10k files) or an IDX images,labels pair; repeatable.")
    List<String> oodData = new ArrayList<>();

    @Option(names = "--threads", description = "Models trained and measured concurrently (driver threads, FAIR pools); "
            + "0 = as many as the cluster has room for: default parallelism / partitions. Default: ${DEFAULT-VALUE}")
    int threads = 0;

    @Option(names = "--partitions", description = "0 = Spark's default parallelism. Default: ${DEFAULT-VALUE}")
    int partitions = 0;

    @Option(names = "--axes", split = ",", description = "Granulated Kendall axes (fields, '+' joins). Default: every "
            + "varying hyperparameter but seed, rule+rho together")
    List<String> axes;

    @Option(names = "--bootstrap", description = "Bootstrap resamples for the tau intervals. Default: ${DEFAULT-VALUE}")
    int bootstrap = 1000;

    @Option(names = "--title", description = "Title of report.md. Default: ${DEFAULT-VALUE}")
    String title = "Sharpness vs generalization on Fashion-MNIST";

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output folder.")
    String out;

    List<TrainingSpec> grid() throws IOException {
        if (noGrid) {
            return List.of();
        }
        if (gridFile != null && java.nio.file.Files.isRegularFile(java.nio.file.Paths.get(gridFile))) {
            return TrainingGrid.parseJson(new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(gridFile)),
                    StandardCharsets.UTF_8));
        }
        if (gridFile != null && !gridFile.contains("=")) {
            throw new IllegalArgumentException("--grid: no such file: " + gridFile);
        }
        TrainingGrid g = new TrainingGrid().set("optimizer", optimizers).set("rule", rules).set("learningRate", lrs)
                .set("batchSize", batchSizes).set("rho", rhos).set("weightDecay", weightDecays).set("seed", seeds)
                .set("epochs", epochs).architecture("mlp", hidden, "relu", schedule, 0.9, "float32");
        if (gridFile != null) {
            g.inline(gridFile);
        }
        return g.expand();
    }

    SharpnessConfig sharpness() {
        SharpnessConfig c = SharpnessCorrelationJob.cheapSharpness().sample(sampleSize, sampleBatch, -1)
                .worstCase(worstIters, 1.0, false).averageCase(draws, true).hessianRows(hessianRows)
                .lanczos(lanczosIters, 1e-4).hutchinson(probes, Math.min(8, probes));
        if (measures.size() == 1 && measures.get(0).equalsIgnoreCase("none")) {
            c.specs(List.of());
        } else if (!measures.isEmpty()) {
            List<SharpnessSpec> s = new ArrayList<>();
            measures.forEach(m -> s.add(SharpnessSpec.parse(m)));
            c.specs(s);
        }
        if (hessian.size() == 1 && hessian.get(0).equalsIgnoreCase("none")) {
            c.hessianMeasures();
        } else {
            c.hessianMeasures(hessian.toArray(new String[0]));
        }
        return c;
    }

    List<Corruptions.Corruption> corruptionList() {
        if (corruptions.isEmpty()) {
            return Corruptions.defaults();
        }
        if (corruptions.size() == 1 && corruptions.get(0).equalsIgnoreCase("none")) {
            return List.of();
        }
        List<Corruptions.Corruption> l = new ArrayList<>();
        corruptions.forEach(c -> l.add(Corruptions.Corruption.parse(c)));
        return l;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        if (limit < 0 || testLimit < 0 || oodRows < 0 || partitions < 0 || threads < 0 || bootstrap < 0) {
            throw new IllegalArgumentException("--limit, --test-limit, --ood-rows, --partitions, --bootstrap must be >= 0 "
                    + "and --threads >= 0");
        }
        List<TrainingSpec> grid = grid();
        SharpnessConfig sharp = sharpness();
        List<Corruptions.Corruption> cs = corruptionList();
        if (grid.isEmpty() && savedModels.isEmpty()) {
            throw new IllegalArgumentException("no models: give grid flags, --grid FILE or --saved-model DIR");
        }
        boolean hasMode = common.conf.stream().anyMatch(s -> s.startsWith("spark.scheduler.mode="));
        if (!hasMode) {
            common.conf.add("spark.scheduler.mode=FAIR");   // the grid's threads share the executors fairly
        }
        common.confMap();
        DataChecks.requireFashionMnistBeforeSpark(data);
        SparkSession spark = common.createSession("spark-sam correlation");
        try {
            Configuration hconf = spark.sparkContext().hadoopConfiguration();
            FashionMnist.requireAvailable(hconf, data);
            OutputDir dir = new OutputDir(out, hconf);
            int parts = partitions > 0 ? partitions : spark.sparkContext().defaultParallelism();
            Dataset<Row> train = FashionMnist.loadTrain(spark, data, parts, limit);
            Dataset<Row> test = FashionMnist.loadTest(spark, data, parts, testLimit);
            Map<String, Dataset<Row>> extra = new LinkedHashMap<>();
            for (String o : oodData) {
                int eq = o.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("--ood-data expects NAME=DIR or NAME=IMAGES,LABELS; got '" + o + "'");
                }
                String name = o.substring(0, eq);
                String val = o.substring(eq + 1);
                String[] files = val.split(",");
                extra.put(name, files.length == 2 ? FashionMnist.load(spark, files[0], files[1], parts, testLimit)
                        : FashionMnist.loadTest(spark, val, parts, testLimit));
            }
            SharpnessCorrelationJob.Config cfg = new SharpnessCorrelationJob.Config().grid(grid);
            for (String m : savedModels) {
                cfg.models.add(SharpnessCorrelationJob.ModelEntry.saved(savedId(m), m, savedHyperparameters(hconf, m)));
            }
            cfg.modelDir = modelDir != null ? modelDir : dir.path("models");
            cfg.sharpness = sharp;
            cfg.corruptions = cs;
            cfg.corruptionSeed = corruptionSeed;
            cfg.oodRows = oodRows;
            cfg.parallelism = threads;
            cfg.partitions = parts;
            cfg.axes = axes;
            cfg.bootstrapResamples = bootstrap;
            console.printf("spark-sam correlation: %d models (%d to train or reuse from %s), %s threads, master %s ...%n",
                    cfg.models.size(), grid.size(), cfg.modelDir, threads == 0 ? "auto" : String.valueOf(threads),
                    spark.sparkContext().master());
            console.flush();
            SharpnessCorrelationJob.Result res = SharpnessCorrelationJob.run(spark, train, test, extra, cfg);
            CorrelationReport rep = res.report();
            rep.settings().put("command", "spark-sam " + String.join(" ", spec.commandLine().getParseResult()
                    .originalArgs()));
            rep.settings().put("trainingLimit", limit == 0 ? "all" : limit);
            write(dir, "models.csv", rep.modelsCsv());
            write(dir, "correlations.csv", rep.correlationsCsv());
            Map<String, Object> tree = rep.toMap();
            SummaryWriter.write(dir, "models.json", SummaryWriter.object(Map.of("models", tree.get("models"))));
            Map<String, Object> corr = new LinkedHashMap<>();
            for (String k : List.of("settings", "measures", "targets", "axes", "timing", "correlations")) {
                corr.put(k, tree.get(k));
            }
            SummaryWriter.write(dir, "correlations.json", SummaryWriter.object(corr));
            List<String> images = new ArrayList<>();
            if (!rep.measures().isEmpty()) {
                Charts.writeGridPng("Sharpness vs test error (" + rep.models().size() + " models; Kendall tau-b, granulated Psi)",
                        Charts.scatterPanels("test error", rep, "testError"), 3, 420, 320, dir, "sharpness-vs-test-error.png");
                images.add("sharpness-vs-test-error.png");
                if (rep.targets().contains("oodError")) {
                    Charts.writeGridPng("Sharpness vs OOD error (mean over " + cs.size() + " corruptions; Kendall tau-b, granulated Psi)",
                            Charts.scatterPanels("OOD error", rep, "oodError"), 3, 420, 320, dir, "sharpness-vs-ood-error.png");
                    images.add("sharpness-vs-ood-error.png");
                }
            }
            Charts.writePng(Charts.timeline(rep), dir, "timeline.png", 900, 500);
            images.add("timeline.png");
            write(dir, "report.md", rep.markdown(title, images));
            for (String t : List.of("testError", "generalizationGap", "oodError")) {
                if (!rep.targets().contains(t)) {
                    continue;
                }
                for (String m : rep.measures()) {
                    Map<String, Object> c = rep.correlation(m, t);
                    console.printf(Locale.ROOT, "  tau-b(%-24s, %-17s) = %7.3f  (p %.3f, Psi %s)%n", m, t,
                            (Double) c.get("tauB"), (Double) c.get("pValue"), fmt(c.get("psi")));
                }
            }
            console.printf(Locale.ROOT, "spark-sam correlation: %d models in %.1f s; wrote %s/{models,correlations}.{csv,json}, "
                    + "report.md and plots%n", rep.models().size(), (Double) rep.timing().get("totalSeconds"), dir);
            console.flush();
            return 0;
        } finally {
            spark.stop();
        }
    }

    private static String fmt(Object o) {
        return o instanceof Double d && !Double.isNaN(d) ? String.format(Locale.ROOT, "%.3f", d) : "n/a";
    }

    private static void write(OutputDir dir, String name, String text) throws IOException {
        try (OutputStream os = dir.create(name)) {
            os.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    /** A saved model's id: its folder name, or the parent's when the folder is train's {@code model/}. */
    static String savedId(String path) {
        Path p = new Path(path);
        return p.getName().equals("model") && p.getParent() != null ? p.getParent().getName() : p.getName();
    }

    /** The hyperparameters of a model saved by {@code train}: from {@code ../summary.json}'s config, else none. */
    static Map<String, Object> savedHyperparameters(Configuration conf, String modelPath) throws IOException {
        Path model = new Path(modelPath);
        FileSystem fs = model.getFileSystem(conf);
        if (!IdxReader.exists(conf, modelPath + "/metadata")) {
            throw new IllegalArgumentException("not a saved model: " + modelPath + " (no metadata/ folder)");
        }
        Map<String, Object> h = new LinkedHashMap<>();
        Path summary = model.getParent() == null ? null : new Path(model.getParent(), "summary.json");
        if (summary == null || !fs.exists(summary)) {
            return h;
        }
        JsonNode cfg;
        try (InputStream in = fs.open(summary)) {
            cfg = new ObjectMapper().readTree(in).path("config");
        }
        String rule = cfg.path("rule").asText("none");
        h.put("optimizer", cfg.path("optimizer").asText("sgd"));
        h.put("rule", rule);
        h.put("learningRate", cfg.path("lr").asDouble());
        h.put("batchSize", cfg.path("batchSize").asInt());
        h.put("rho", rule.equals("none") ? 0.0 : cfg.path("rho").asDouble());
        h.put("weightDecay", cfg.path("weightDecay").asDouble());
        h.put("seed", cfg.path("seed").asLong());
        h.put("epochs", cfg.path("epochs").asInt());
        return h;
    }

    @Override
    public String toString() {
        return "correlation " + Arrays.toString(hidden);
    }
}
