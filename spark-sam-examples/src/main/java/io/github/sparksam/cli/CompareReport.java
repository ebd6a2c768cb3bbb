package io.github.sparksam.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.spark.sql.SparkSession;

import io.github.sparksam.cli.CompareRuns.GridPoint;
import io.github.sparksam.cli.CompareRuns.Outcome;
import io.github.sparksam.cli.CompareRuns.Run;
import io.github.sparksam.cli.CompareRuns.Spread;

/**
 * The outputs of {@code compare} (#14).
 *
 * <h2>{@code compare.json}</h2>
 * <pre>
 * { "command": "bin/spark-sam compare ...",
 *   "settings": { "model", "hidden" | "layers" + "inputShape", ..., "seeds": [..], "labelNoise", "noiseRate",
 *                 "validationFraction", "validationRows", "trainingRows", "testRows",
 *                 "selection": {"seeds": [..], "metric": ...}, "master", "blas" },
 *   "rules": [ { "rule": "sam", "label": "m-SAM", "param": "rho", "value": 0.05, "selected": true,
 *                "grid": [ {"value", "validationAccuracy", "chosen", "runs": [{"seed", "finalValidationAccuracy", "out"}]} ],
 *                "seeds": [ {"seed", "finalTestAccuracy", "peakTestAccuracy", "peakTestEpoch", "finalValidationAccuracy",
 *                            "finalTrainLoss", "lastEpochTrainLoss", "secondsPerEpoch", "testAccuracyByEpoch": [..],
 *                            "validationAccuracyByEpoch": [..], "flippedNoisyLabelAccuracyByEpoch": [..],
 *                            "flippedCleanLabelAccuracyByEpoch": [..], "out"} ],
 *                "mean": {...}, "std": {...},
 *                "byEpoch": {"testAccuracy": {"mean": [..], "std": [..], "min": [..], "max": [..]}, ...},
 *                "finalTestVsBasePoints", "timeRatioToBase" } ] }
 * </pre>
 * {@code mean} and {@code std} (sample standard deviation, n - 1; 0 for one seed) are over the {@code seeds} entries.
 * {@code grid} is empty when the rule had one value (nothing selected). Validation fields appear only with a
 * validation split, the flipped-row fields only with label noise. {@code finalTestVsBasePoints} is 100 x the
 * difference of mean final test accuracies against the base optimizer's (when it ran), {@code timeRatioToBase} the ratio
 * of mean seconds per epoch (epochs 2..N, evaluation not timed).
 */
final class CompareReport {

    private static final String FLIPPED_NOISY = "flippedNoisyLabelAccuracy";
    private static final String FLIPPED_CLEAN = "flippedCleanLabelAccuracy";

    private final CompareCommand cmd;
    private final OutputDir dir;
    private final String master;
    private final TrainCommand.Inputs in;
    private String md = "";

    CompareReport(CompareCommand cmd, SparkSession spark, TrainCommand.Inputs in) {
        this.cmd = cmd;
        this.dir = new OutputDir(cmd.out, spark.sparkContext().hadoopConfiguration());
        this.master = spark.sparkContext().master();
        this.in = in;
    }

    private boolean noisy() {
        return !cmd.labelNoise.equals("none");
    }

    private boolean validated() {
        return cmd.validationFraction > 0;
    }

    /** Writes compare.json, compare.md and compare.png for the rules finished so far. */
    void write(List<Outcome> outcomes, PrintWriter console) throws IOException {
        Outcome base = outcomes.stream().filter(o -> o.rule() == CompareRule.NONE).findFirst().orElse(null);
        SummaryWriter.write(dir, "compare.json", json(outcomes, base));
        md = markdown(outcomes, base);
        try (OutputStream os = dir.create("compare.md")) {
            os.write(md.getBytes(StandardCharsets.UTF_8));
        }
        Charts.writePng(chart(outcomes), dir, "compare.png", 1000, noisy() ? 900 : 600);
        console.printf("spark-sam compare: wrote %s/{compare.md,compare.json,compare.png} (%d of %d rules)%n", dir,
                outcomes.size(), cmd.rules.size());
        console.flush();
    }

    void printTable(PrintWriter console) {
        console.printf("%n%s%n", md);
        console.flush();
    }

    private String blas(List<Outcome> outcomes) {
        return outcomes.get(0).runs().get(0).result().blas();
    }

    private String modelDescription() {
        return switch (cmd.model) {
            case "cnn" -> "CNN " + cmd.inputShape + " [" + cmd.layers + "]";
            case "mlp" -> "MLP 784-" + Arrays.stream(cmd.hidden).mapToObj(Integer::toString).collect(Collectors.joining("-"))
                    + "-10";
            default -> cmd.model;
        };
    }

    private String selectionDescription() {
        return cmd.selectOn.equals("all") ? "mean final validation accuracy over every seed"
                : "final validation accuracy under the first seed (" + cmd.seeds().get(0) + ")";
    }

    // ------------------------------------------------------------------------------------------------ compare.json

    private ObjectNode json(List<Outcome> outcomes, Outcome base) {
        ObjectNode root = SummaryWriter.object();
        root.put("command", cmd.commandLine());
        ObjectNode s = root.putObject("settings");
        s.put("model", cmd.model);
        if (cmd.model.equals("cnn")) {
            s.put("layers", cmd.layers).put("inputShape", cmd.inputShape);
        } else if (cmd.model.equals("mlp")) {
            ArrayNode h = s.putArray("hidden");
            Arrays.stream(cmd.hidden).forEach(h::add);
        }
        s.put("activation", cmd.activation).put("optimizer", cmd.optimizer).put("lr", cmd.lr)
                .put("momentum", cmd.momentum).put("weightDecay", cmd.weightDecay).put("schedule", cmd.schedule)
                .put("batchSize", cmd.batchSize).put("epochs", cmd.epochs).put("partitions", in.partitions())
                .put("aggregation", cmd.aggregation).put("precision", cmd.precision).put("microBatch", cmd.microBatch);
        ArrayNode seeds = s.putArray("seeds");
        cmd.seeds().forEach(seeds::add);
        s.put("labelNoise", cmd.labelNoise).put("noiseRate", cmd.noiseRate);
        if (cmd.labelNoise.equals("asymmetric")) {
            s.put("noiseMap", cmd.noiseMap);
        }
        s.put("validationFraction", cmd.validationFraction).put("validationRows", cmd.validationRows)
                .put("trainingRows", in.trainRows() - cmd.validationRows).put("testRows", in.testRows());
        ObjectNode sel = s.putObject("selection");
        ArrayNode ss = sel.putArray("seeds");
        cmd.selectionSeeds().forEach(ss::add);
        sel.put("metric", selectionDescription());
        s.put("master", master).put("blas", blas(outcomes));

        ArrayNode rules = root.putArray("rules");
        for (Outcome o : outcomes) {
            ObjectNode r = rules.addObject();
            r.put("rule", o.rule().key).put("label", o.label());
            if (o.rule().gridParam != null) {
                r.put("param", o.rule().gridParam).put("value", o.chosen());
            }
            r.put("selected", !o.grid().isEmpty());
            ArrayNode grid = r.putArray("grid");
            for (GridPoint g : o.grid()) {
                ObjectNode gn = grid.addObject().put("value", g.value()).put("validationAccuracy", g.score())
                        .put("chosen", g.value() == o.chosen());
                ArrayNode runs = gn.putArray("runs");
                for (Run x : g.runs()) {
                    runs.addObject().put("seed", x.seed()).put("finalValidationAccuracy", x.finalValidationAccuracy())
                            .put("out", x.result().outDir());
                }
            }
            ArrayNode perSeed = r.putArray("seeds");
            for (Run x : o.runs()) {
                ObjectNode n = perSeed.addObject().put("seed", x.seed())
                        .put("finalTestAccuracy", x.finalTestAccuracy())
                        .put("peakTestAccuracy", x.peakTestAccuracy())
                        .put("peakTestEpoch", x.peakTestEpoch());
                if (validated()) {
                    n.put("finalValidationAccuracy", x.finalValidationAccuracy());
                }
                n.put("finalTrainLoss", x.finalTrainLoss())
                        .put("lastEpochTrainLoss", x.result().epochs().get(x.result().epochs().size() - 1).loss())
                        .put("secondsPerEpoch", x.secondsPerEpoch());
                array(n, "testAccuracyByEpoch", x.testAccuracyByEpoch());
                if (validated()) {
                    array(n, "validationAccuracyByEpoch", x.validationAccuracyByEpoch());
                }
                if (noisy()) {
                    array(n, FLIPPED_NOISY + "ByEpoch", x.flippedNoisyAccuracyByEpoch());
                    array(n, FLIPPED_CLEAN + "ByEpoch", x.flippedCleanAccuracyByEpoch());
                }
                n.put("out", x.result().outDir());
            }
            ObjectNode mean = r.putObject("mean");
            ObjectNode std = r.putObject("std");
            for (var q : quantities()) {
                Spread sp = o.spread(q.f());
                mean.put(q.name(), sp.mean());
                std.put(q.name(), sp.std());
            }
            ObjectNode be = r.putObject("byEpoch");
            for (var c : curves()) {
                Spread[] sp = CompareRuns.byEpoch(o.runs(), c.f());
                ObjectNode cn = be.putObject(c.name());
                array(cn, "mean", Arrays.stream(sp).mapToDouble(Spread::mean).toArray());
                array(cn, "std", Arrays.stream(sp).mapToDouble(Spread::std).toArray());
                array(cn, "min", Arrays.stream(sp).mapToDouble(Spread::min).toArray());
                array(cn, "max", Arrays.stream(sp).mapToDouble(Spread::max).toArray());
            }
            if (base != null) {
                r.put("finalTestVsBasePoints", vsBase(o, base)).put("timeRatioToBase", timeRatio(o, base));
            }
        }
        return root;
    }

    private static void array(ObjectNode n, String name, double[] v) {
        ArrayNode a = n.putArray(name);
        for (double x : v) {
            a.add(x);
        }
    }

    private record Quantity(String name, ToDoubleFunction<Run> f) {
    }

    private record Curve(String name, String label, Function<Run, double[]> f) {
    }

    /** The per-seed numbers that get a mean and std. */
    private List<Quantity> quantities() {
        List<Quantity> q = new ArrayList<>(List.of(
                new Quantity("finalTestAccuracy", Run::finalTestAccuracy),
                new Quantity("peakTestAccuracy", Run::peakTestAccuracy)));
        if (validated()) {
            q.add(new Quantity("finalValidationAccuracy", Run::finalValidationAccuracy));
        }
        q.add(new Quantity("finalTrainLoss", Run::finalTrainLoss));
        q.add(new Quantity("secondsPerEpoch", Run::secondsPerEpoch));
        if (noisy()) {
            q.add(new Quantity("final" + capitalized(FLIPPED_NOISY), x -> last(x.flippedNoisyAccuracyByEpoch())));
            q.add(new Quantity("final" + capitalized(FLIPPED_CLEAN), x -> last(x.flippedCleanAccuracyByEpoch())));
        }
        return q;
    }

    /** The per-epoch series that get a band. */
    private List<Curve> curves() {
        List<Curve> c = new ArrayList<>(List.of(new Curve("testAccuracy", "test accuracy", Run::testAccuracyByEpoch)));
        if (validated()) {
            c.add(new Curve("validationAccuracy", "validation accuracy", Run::validationAccuracyByEpoch));
        }
        if (noisy()) {
            c.add(new Curve(FLIPPED_NOISY, "flipped rows: accuracy vs noisy labels (memorized)",
                    Run::flippedNoisyAccuracyByEpoch));
            c.add(new Curve(FLIPPED_CLEAN, "flipped rows: accuracy vs clean labels", Run::flippedCleanAccuracyByEpoch));
        }
        return c;
    }

    private static String capitalized(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    private static double last(double[] v) {
        return v.length == 0 ? Double.NaN : v[v.length - 1];
    }

    private static double vsBase(Outcome o, Outcome base) {
        return 100 * (o.spread(Run::finalTestAccuracy).mean() - base.spread(Run::finalTestAccuracy).mean());
    }

    private static double timeRatio(Outcome o, Outcome base) {
        return o.spread(Run::secondsPerEpoch).mean() / base.spread(Run::secondsPerEpoch).mean();
    }

    // ------------------------------------------------------------------------------------------------ compare.md

    private String markdown(List<Outcome> outcomes, Outcome base) {
        StringBuilder b = new StringBuilder();
        List<Long> seeds = cmd.seeds();
        b.append(String.format(Locale.ROOT, "%s, %s lr %s (%s), batch %d, %d epochs, %d seed%s (%s), %s, %s; "
                        + "%d training rows, %d test rows; master %s, %d partitions, BLAS %s%n%n",
                modelDescription(), cmd.optimizer, CompareCommand.format(cmd.lr), cmd.schedule, cmd.batchSize, cmd.epochs,
                seeds.size(), seeds.size() == 1 ? "" : "s", seeds.stream().map(String::valueOf).collect(Collectors.joining(",")),
                noisy() ? String.format(Locale.ROOT, "%s label noise %.0f%%", cmd.labelNoise, 100 * cmd.noiseRate)
                        : "clean labels",
                validated() ? String.format(Locale.ROOT, "validation split %s (%d rows held out of training)",
                        CompareCommand.format(cmd.validationFraction), cmd.validationRows) : "no validation split",
                in.trainRows() - cmd.validationRows, in.testRows(), master, in.partitions(), blas(outcomes)));
        String baseLabel = base == null ? "base" : base.label();
        b.append("Mean ± standard deviation over the seeds. Peak: the best test accuracy after any epoch (an optimistic,\n"
                + "test-selected figure); final: after the last epoch.\n\n");
        b.append("| rule | rho / lambda | peak test acc | final test acc | vs ").append(baseLabel)
                .append(" (points, final) | final train loss |");
        if (noisy()) {
            b.append(" memorized (flipped rows, final) |");
        }
        b.append(" s/epoch (epochs 2..N) | time ratio to ").append(baseLabel).append(" |\n|---|---|---|---|---|---|");
        b.append(noisy() ? "---|" : "").append("---|---|\n");
        for (Outcome o : outcomes) {
            b.append("| ").append(o.label()).append(" | ")
                    .append(o.rule().gridParam == null ? "-" : CompareCommand.format(o.chosen()) + (o.grid().isEmpty() ? "" : " (selected)"))
                    .append(" | ").append(pm(o.spread(Run::peakTestAccuracy)))
                    .append(" | ").append(pm(o.spread(Run::finalTestAccuracy)))
                    .append(" | ").append(base == null ? "n/a" : String.format(Locale.ROOT, "%+.2f", vsBase(o, base)))
                    .append(" | ").append(String.format(Locale.ROOT, "%.4f", o.spread(Run::finalTrainLoss).mean()));
            if (noisy()) {
                b.append(" | ").append(pm(o.spread(x -> last(x.flippedNoisyAccuracyByEpoch()))));
            }
            b.append(" | ").append(String.format(Locale.ROOT, "%.2f", o.spread(Run::secondsPerEpoch).mean()))
                    .append(" | ").append(base == null ? "n/a" : String.format(Locale.ROOT, "%.2fx", timeRatio(o, base)))
                    .append(" |\n");
        }
        if (outcomes.stream().anyMatch(o -> !o.grid().isEmpty())) {
            b.append("\nGrid (selected on the ").append(selectionDescription()).append("; the test set plays no part):\n\n");
            b.append("| rule | setting | value | validation acc | chosen |\n|---|---|---|---|---|\n");
            for (Outcome o : outcomes) {
                for (GridPoint g : o.grid()) {
                    b.append(String.format(Locale.ROOT, "| %s | %s | %s | %.4f | %s |%n", o.label(), o.rule().gridParam,
                            CompareCommand.format(g.value()), g.score(), g.value() == o.chosen() ? "yes" : ""));
                }
            }
        }
        b.append("\nPer seed:\n\n| rule | seed | peak test acc (epoch) | final test acc |");
        b.append(validated() ? " final validation acc |" : "").append(" s/epoch |\n|---|---|---|---|");
        b.append(validated() ? "---|" : "").append("---|\n");
        for (Outcome o : outcomes) {
            for (Run x : o.runs()) {
                b.append(String.format(Locale.ROOT, "| %s | %d | %.4f (%d) | %.4f |", o.label(), x.seed(),
                        x.peakTestAccuracy(), x.peakTestEpoch(), x.finalTestAccuracy()));
                if (validated()) {
                    b.append(String.format(Locale.ROOT, " %.4f |", x.finalValidationAccuracy()));
                }
                b.append(String.format(Locale.ROOT, " %.2f |%n", x.secondsPerEpoch()));
            }
        }
        b.append("\nReproduce: `").append(cmd.commandLine()).append("`\n");
        return b.toString();
    }

    private static String pm(Spread s) {
        return String.format(Locale.ROOT, "%.4f ± %.4f", s.mean(), s.std());
    }

    // ------------------------------------------------------------------------------------------------ compare.png

    private org.jfree.chart.JFreeChart chart(List<Outcome> outcomes) {
        List<Charts.BandPanel> panels = new ArrayList<>();
        for (Curve c : curves()) {
            if (c.name().equals(FLIPPED_CLEAN) || (c.name().equals("validationAccuracy"))) {
                continue;   // in compare.json; the figure keeps test accuracy and memorization
            }
            List<Charts.Band> bands = new ArrayList<>();
            for (Outcome o : outcomes) {
                Spread[] sp = CompareRuns.byEpoch(o.runs(), c.f());
                double[] x = new double[sp.length];
                Arrays.setAll(x, i -> i + 1);
                bands.add(new Charts.Band(o.label(), x, Arrays.stream(sp).mapToDouble(Spread::mean).toArray(),
                        Arrays.stream(sp).mapToDouble(Spread::min).toArray(),
                        Arrays.stream(sp).mapToDouble(Spread::max).toArray()));
            }
            panels.add(new Charts.BandPanel(c.label(), bands));
        }
        String title = String.format(Locale.ROOT, "%s, %s: mean over %d seed%s, band min-max", modelDescription(),
                noisy() ? String.format(Locale.ROOT, "%.0f%% %s label noise", 100 * cmd.noiseRate, cmd.labelNoise)
                        : "clean labels", cmd.seeds().size(), cmd.seeds().size() == 1 ? "" : "s");
        return Charts.banded(title, "epoch", panels);
    }
}
