package io.github.sparksam.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
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

import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.sharpness.SharpnessAnalysis;
import io.github.sparksam.sharpness.SharpnessConfig;
import io.github.sparksam.sharpness.SharpnessReport;
import io.github.sparksam.sharpness.SharpnessSpec;
import io.github.sparksam.sharpness.SpectralDensity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spark-sam sharpness}: measures a saved model's sharpness (adaptive/standard, worst/average-case) and Hessian
 * curvature (top eigenvalue, trace, density, directional sharpness) on a Fashion-MNIST split with
 * {@link SharpnessAnalysis}, and writes {@code sharpness.json} (the report's tree plus the command's inputs) and
 * {@code spectral-density.png} into {@code --out}.
 */
@Command(name = "sharpness", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Measure a saved model's sharpness and Hessian curvature; write sharpness.json to --out.")
public class SharpnessCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common = new CommonOptions();

    /** Measured on training rows by default, as the reference does. */
    @Mixin
    SavedModelAndSplit in = new SavedModelAndSplit("train");

    @Option(names = "--measure", paramLabel = "KIND:NORM:SCALING:RHO",
            description = "A sharpness definition, e.g. worst:linf:adaptive:0.002; repeatable. 'none' for no sharpness. "
                    + "Default: the eight definitions at SharpnessSpec's default radii.")
    List<String> measures = new ArrayList<>();

    @Option(names = "--hessian", split = ",", paramLabel = "NAME",
            description = "Hessian measures: topEigenvalue, topEigenvaluePower, hessianTrace, spectralDensity, "
                    + "directionalSharpness, or none. Default: all")
    List<String> hessian = new ArrayList<>(SharpnessConfig.HESSIAN_MEASURES);

    @Option(names = "--sample-size", description = "Rows of the sharpness sample. Default: ${DEFAULT-VALUE}")
    int sampleSize = 1024;

    @Option(names = "--batch-size", description = "m of m-sharpness. Default: ${DEFAULT-VALUE}")
    int batchSize = 128;

    @Option(names = "--sample-seed", description = "-1: the first rows by id (reference); else a seeded sample. Default: ${DEFAULT-VALUE}")
    long sampleSeed = -1;

    @Option(names = "--hessian-rows", description = "Rows for Hessian measures; 0 = every row of the split. Default: ${DEFAULT-VALUE}")
    int hessianRows = 0;

    @Option(names = "--worst-iters", description = "APGD steps. Default: ${DEFAULT-VALUE}")
    int worstIters = 20;

    @Option(names = "--draws", description = "Average-case draws. Default: ${DEFAULT-VALUE}")
    int draws = 20;

    @Option(names = "--antithetic", description = "Average case: draw (delta, -delta) pairs.")
    boolean antithetic;

    @Option(names = "--lanczos-iters", description = "Default: ${DEFAULT-VALUE}")
    int lanczosIters = 50;

    @Option(names = "--power-iters", description = "Default: ${DEFAULT-VALUE}")
    int powerIters = 100;

    @Option(names = "--power-tol", description = "Power iteration stops when the relative change of its estimate is "
            + "below this (PyHessian's default; it bounds the change, not the error: use 1e-6 or less for accurate "
            + "values). Default: ${DEFAULT-VALUE}")
    double powerTol = 1e-3;

    @Option(names = "--lanczos-tol", description = "Lanczos stops when the residual bound of its largest Ritz pair is "
            + "at most this times the value. Default: ${DEFAULT-VALUE}")
    double lanczosTol = 1e-6;

    @Option(names = "--probes", description = "Hutchinson probes. Default: ${DEFAULT-VALUE}")
    int probes = 64;

    @Option(names = "--density-runs", description = "SLQ runs. Default: ${DEFAULT-VALUE}")
    int densityRuns = 4;

    @Option(names = "--density-iters", description = "SLQ Lanczos steps per run. Default: ${DEFAULT-VALUE}")
    int densityIters = 30;

    @Option(names = "--seed", description = "Seed of the probes and draws. Default: ${DEFAULT-VALUE}")
    long seed = 0;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Output folder.")
    String out;

    SharpnessConfig config() {
        SharpnessConfig c = new SharpnessConfig().sample(sampleSize, batchSize, sampleSeed).hessianRows(hessianRows)
                .worstCase(worstIters, 1.0, false).averageCase(draws, antithetic).lanczos(lanczosIters, lanczosTol)
                .power(powerIters, powerTol).hutchinson(probes, 8).density(densityRuns, densityIters).seed(seed);
        if (measures.size() == 1 && measures.get(0).equalsIgnoreCase("none")) {
            c.specs(List.of());
        } else if (!measures.isEmpty()) {
            List<SharpnessSpec> s = new ArrayList<>();
            for (String m : measures) {
                s.add(SharpnessSpec.parse(m));
            }
            c.specs(s);
        }
        if (hessian.size() == 1 && hessian.get(0).equalsIgnoreCase("none")) {
            c.hessianMeasures();
        } else {
            c.hessianMeasures(hessian.toArray(new String[0]));
        }
        return c;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        in.validateBeforeSpark();
        SharpnessConfig cfg = config();
        common.confMap();
        SparkSession spark = common.createSession("spark-sam sharpness");
        try {
            Configuration hconf = spark.sparkContext().hadoopConfiguration();
            SharpnessAwareClassificationModel model = in.model(spark);
            Dataset<Row> df = in.rows(spark);
            console.printf("spark-sam sharpness: measuring %s on the %s split ...%n", model.network(), in.split);
            console.flush();
            SharpnessReport rep = SharpnessAnalysis.run(model, df, (String) null, 0, cfg);
            Map<String, Object> input = new LinkedHashMap<>();
            input.put("model", in.modelDir);
            input.put("data", in.data);
            input.put("split", in.split);
            input.put("limit", in.limit);
            input.put("partitions", in.partitions(spark));
            input.put("master", spark.sparkContext().master());
            ObjectNode root = SummaryWriter.object();
            root.set("input", SummaryWriter.object(input));
            root.setAll(SummaryWriter.object(rep.toMap()));
            OutputDir dir = new OutputDir(out, hconf);
            SummaryWriter.write(dir, "sharpness.json", root);
            SpectralDensity d = rep.density();
            if (d != null) {
                double[][] g = d.smoothed(1000);
                Charts.writePng(Charts.stacked("Hessian eigenvalue density (SLQ, " + d.runs().size() + " runs)",
                        "eigenvalue", false, List.of(new Charts.Panel("density",
                                List.of(new Charts.Series("smoothed SLQ", g[0], g[1]))))), dir, "spectral-density.png", 900, 500);
            }
            for (SharpnessReport.Sharpness s : rep.sharpness()) {
                console.printf(Locale.ROOT, "  %-26s rho %-7s %.6g (error %+.4f)%n", s.spec().metricName(), s.spec().rho(),
                        s.value(), s.errorValue());
            }
            for (String m : List.of("topEigenvalue", "topEigenvaluePower", "hessianTrace", "hessianFrobenius",
                    "directionalSharpness")) {
                try {
                    console.printf(Locale.ROOT, "  %-26s %.6g%n", m, rep.metric(m));
                } catch (IllegalArgumentException notComputed) {
                    // not requested
                }
            }
            console.printf(Locale.ROOT, "spark-sam sharpness: %d data passes, %.1f s; wrote %s/sharpness.json%n",
                    (long) rep.toMap().get("totalPasses"), (double) rep.toMap().get("totalSeconds"), dir);
            console.flush();
            return 0;
        } finally {
            spark.stop();
        }
    }
}
