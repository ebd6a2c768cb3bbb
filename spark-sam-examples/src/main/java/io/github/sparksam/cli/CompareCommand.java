package io.github.sparksam.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.spark.sql.SparkSession;

import io.github.sparksam.data.FashionMnist;
import io.github.sparksam.train.EpochMetrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spark-sam compare}: trains the same MLP with the base optimizer alone and with each sharpness-aware rule,
 * under one seed and one copy of the data, and writes a comparison table ({@code compare.md}, {@code compare.json}),
 * one figure with every run's curves ({@code compare.png}) and each run's own outputs under {@code --out/<rule>/}.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Train the same model with SGD and each sharpness-aware rule; write a comparison table and plot.")
public class CompareCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder. Default: ${DEFAULT-VALUE}")
    String data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--limit", paramLabel = "N", description = "Training rows; 0 = all. Default: ${DEFAULT-VALUE}")
    int limit = 0;

    @Option(names = "--epochs", description = "Default: ${DEFAULT-VALUE}")
    int epochs = 10;

    @Option(names = "--rules", split = ",", description = "Rules to compare (none = the base optimizer). Default: none,sam,asam,saf,mesa")
    List<String> rules = List.of("none", "sam", "asam", "saf", "mesa");

    @Option(names = "--optimizer", description = "Base optimizer for every run. Default: ${DEFAULT-VALUE}")
    String optimizer = "sgd";

    @Option(names = "--lr", description = "Default: ${DEFAULT-VALUE}")
    double lr = 0.2;

    @Option(names = "--schedule", description = "constant | step | cosine. Default: ${DEFAULT-VALUE}")
    String schedule = "cosine";

    @Option(names = "--batch-size", description = "Default: ${DEFAULT-VALUE}")
    int batchSize = 128;

    @Option(names = "--hidden", split = ",", description = "Default: 128")
    int[] hidden = {128};

    @Option(names = "--sam-rho", description = "rho for sam. Default: ${DEFAULT-VALUE}")
    double samRho = 0.05;

    @Option(names = "--asam-rho", description = "rho for asam (ASAM needs ~10x SAM's). Default: ${DEFAULT-VALUE}")
    double asamRho = 0.5;

    @Option(names = "--micro-batch", description = "m-SAM micro-batch size for sam and asam. Default: ${DEFAULT-VALUE}")
    int microBatch = 64;

    @Option(names = "--partitions", description = "Partitions; 0 = Spark's default parallelism. Default: ${DEFAULT-VALUE}")
    int partitions = 0;

    @Option(names = "--seed", description = "Default: ${DEFAULT-VALUE}")
    long seed = 42;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output folder.")
    String out;

    /** One row of the comparison. */
    record Row(String rule, TrainCommand.Result result, double secondsPerEpoch) {
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        for (String r : rules) {
            TrainCommand.oneOf("--rules", r.toLowerCase(Locale.ROOT), TrainCommand.RULES);
        }
        for (String r : rules) {
            configure(r.toLowerCase(Locale.ROOT)).validate();   // every option of every run, before Spark starts
        }
        if (epochs < 2) {
            throw new IllegalArgumentException("--epochs must be >= 2 (the first epoch, JIT warm-up, is left out of the timing)");
        }
        common.confMap();
        DataChecks.requireFashionMnistBeforeSpark(data);
        SparkSession spark = common.createSession("spark-sam compare");
        try {
            TrainCommand.Inputs in = configure(rules.get(0)).load(spark, console);
            List<Row> rows = new ArrayList<>();
            for (String r : rules) {
                TrainCommand t = configure(r.toLowerCase(Locale.ROOT));
                console.printf("%nspark-sam compare: %s ...%n", label(t.rule));
                console.flush();
                TrainCommand.Result res = t.fitAndReport(spark, in, console);
                rows.add(new Row(t.rule, res, secondsPerEpoch(res.epochs())));
            }
            in.test().unpersist();
            report(spark, rows, console);
        } finally {
            spark.stop();
        }
        return 0;
    }

    private TrainCommand configure(String rule) {
        TrainCommand t = new TrainCommand();
        t.common = common;
        t.data = data;
        t.limit = limit;
        t.epochs = epochs;
        t.model = "mlp";
        t.hidden = hidden;
        t.optimizer = optimizer;
        t.lr = lr;
        t.schedule = schedule;
        t.batchSize = batchSize;
        t.partitions = partitions;
        t.seed = seed;
        t.rule = rule;
        t.rho = rule.equals("asam") ? asamRho : samRho;
        t.microBatch = microBatch;
        t.out = out + "/" + rule;
        t.validate();
        return t;
    }

    static String label(String rule) {
        return rule.equals("none") ? "base optimizer" : rule.toUpperCase(Locale.ROOT);
    }

    /** Mean wall time of epochs 2..N (epoch 1 includes JIT warm-up and is left out). */
    static double secondsPerEpoch(List<EpochMetrics> epochs) {
        return epochs.stream().skip(1).mapToDouble(EpochMetrics::seconds).average().orElse(Double.NaN);
    }

    private void report(SparkSession spark, List<Row> rows, PrintWriter console) throws Exception {
        OutputDir dir = new OutputDir(out, spark.sparkContext().hadoopConfiguration());
        double base = rows.stream().filter(r -> r.rule().equals("none")).mapToDouble(Row::secondsPerEpoch)
                .findFirst().orElse(rows.get(0).secondsPerEpoch());
        double baseAcc = rows.stream().filter(r -> r.rule().equals("none")).mapToDouble(r -> r.result().test().accuracy())
                .findFirst().orElse(Double.NaN);
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "MLP 784-%s-10, %s lr %s (%s), batch %d, %d epochs, seed %d, master %s, BLAS %s%n%n",
                Arrays.toString(hidden).replaceAll("[\\[\\] ]", "").replace(',', '-'), optimizer, lr, schedule, batchSize, epochs,
                seed, spark.sparkContext().master(), rows.get(0).result().blas()));
        md.append("| rule | test accuracy | vs base (points) | final train loss | s/epoch (epochs 2..N) | time ratio to base |\n");
        md.append("|---|---|---|---|---|---|\n");
        ArrayNode json = SummaryWriter.object().arrayNode();
        for (Row r : rows) {
            double acc = r.result().test().accuracy();
            md.append(String.format(Locale.ROOT, "| %s | %.4f | %+.2f | %.4f | %.2f | %.2fx |%n", label(r.rule()), acc,
                    100 * (acc - baseAcc), r.result().train().loss(), r.secondsPerEpoch(), r.secondsPerEpoch() / base));
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("rule", r.rule());
            o.put("testAccuracy", acc);
            o.put("testLoss", r.result().test().loss());
            o.put("trainAccuracy", r.result().train().accuracy());
            o.put("trainLoss", r.result().train().loss());
            o.put("secondsPerEpoch", r.secondsPerEpoch());
            o.put("timeRatioToBase", r.secondsPerEpoch() / base);
            o.put("out", r.result().outDir());
            json.add(SummaryWriter.object(o));
        }
        ObjectNode root = SummaryWriter.object();
        root.put("optimizer", optimizer).put("lr", lr).put("schedule", schedule).put("batchSize", batchSize).put("epochs", epochs).put("seed", seed)
                .put("blas", rows.get(0).result().blas());
        root.set("runs", json);
        SummaryWriter.write(dir, "compare.json", root);
        try (var os = dir.create("compare.md")) {
            os.write(md.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        List<Charts.Series> loss = new ArrayList<>();
        List<Charts.Series> acc = new ArrayList<>();
        for (Row r : rows) {
            List<EpochMetrics> e = r.result().epochs();
            double[] x = e.stream().mapToDouble(EpochMetrics::epoch).toArray();
            loss.add(new Charts.Series(label(r.rule()), x, e.stream().mapToDouble(EpochMetrics::loss).toArray()));
            acc.add(new Charts.Series(label(r.rule()), x, e.stream().mapToDouble(EpochMetrics::accuracy).toArray()));
        }
        Charts.writePng(Charts.stacked("SGD and sharpness-aware rules (train, during each epoch)", "epoch", true,
                List.of(new Charts.Panel("cross-entropy loss", loss), new Charts.Panel("accuracy", acc))), dir,
                "compare.png", 900, 700);
        console.printf("%n%s%nspark-sam compare: wrote %s/{compare.md,compare.json,compare.png}%n", md, dir);
        console.flush();
    }
}
