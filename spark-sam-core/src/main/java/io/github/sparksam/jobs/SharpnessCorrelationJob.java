package io.github.sparksam.jobs;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.sparksam.backend.Precision;
import io.github.sparksam.data.Blockifier;
import io.github.sparksam.data.BlockedPartition;
import io.github.sparksam.data.Corruptions;
import io.github.sparksam.data.InputColumns;
import io.github.sparksam.ml.SharpnessAwareClassificationModel;
import io.github.sparksam.nn.Network;
import io.github.sparksam.sharpness.DistributedObjective;
import io.github.sparksam.sharpness.RowSelection;
import io.github.sparksam.sharpness.SharpnessAnalysis;
import io.github.sparksam.sharpness.SharpnessConfig;
import io.github.sparksam.sharpness.SharpnessReport;
import io.github.sparksam.sharpness.SharpnessSpec;

/**
 * Does sharpness predict generalisation here? (spec sections 1.6 and 1.10.) Takes a grid of training
 * configurations ({@link TrainingSpec}, e.g. from {@link TrainingGrid}) and/or saved models, trains what is missing,
 * and for every model measures train and test error and loss, the generalisation gaps, the error under reproducible
 * distribution shifts of the test set ({@link Corruptions}, one pass for all of them: {@link ShiftedEvaluation}) and
 * on any extra data sets the caller names, and the chosen sharpness measures ({@link SharpnessAnalysis}). Then Kendall
 * tau-b ({@link KendallTau}) between each measure and each generalisation quantity, with the granulated coefficient
 * per hyperparameter axis ({@link GranulatedKendall}). Everything lands in a {@link CorrelationReport}.
 *
 * <p><b>Data.</b> The training rows are cached once as a DataFrame and every fit reads that copy; the measurement
 * passes share one cached, blockified float64 copy of the training rows, one of the test rows and one of each extra
 * set, whatever the number of models. Corrupted test sets are never stored: they are recomputed inside each
 * evaluation pass from the example ids.
 *
 * <p><b>Concurrency.</b> Models are independent: a bounded pool of {@link Config#parallelism} driver threads works
 * through them, each thread submitting its Spark jobs in its own scheduler pool ({@code spark.scheduler.pool =
 * spark-sam-corr-i}). With {@code spark.scheduler.mode=FAIR} the pools share the executors fairly; with FIFO the jobs
 * still interleave, they just queue in submission order.
 */
public final class SharpnessCorrelationJob {
    private static final Logger LOG = LoggerFactory.getLogger(SharpnessCorrelationJob.class);

    private SharpnessCorrelationJob() {
    }

    /** A model of the study: trained from a {@link TrainingSpec}, or loaded from {@code path} with given hyperparameters. */
    public record ModelEntry(String id, TrainingSpec spec, String path, Map<String, Object> hyperparameters)
            implements Serializable {
        public static ModelEntry train(TrainingSpec s) {
            return new ModelEntry(s.id(), s, null, s.hyperparameters());
        }

        /** A saved {@link SharpnessAwareClassificationModel}; {@code hyperparameters} may be empty (then no granulation). */
        public static ModelEntry saved(String id, String path, Map<String, Object> hyperparameters) {
            return new ModelEntry(id, null, path, new LinkedHashMap<>(hyperparameters));
        }
    }

    /** What to run. Public fields with the defaults of the Fashion-MNIST study; validated by {@link #run}. */
    public static final class Config implements Serializable {
        private static final long serialVersionUID = 1L;

        public List<ModelEntry> models = new ArrayList<>();
        /** Where trained models are saved as {@code modelDir/<id>} and found again (null: not saved). */
        public String modelDir;
        /** The measures: by default the cheap ones (see {@link #cheapSharpness}). */
        public SharpnessConfig sharpness = cheapSharpness();
        public List<Corruptions.Corruption> corruptions = Corruptions.defaults();
        public long corruptionSeed = 0;
        /** OOD sets use the test rows with id below this (0: all test rows). */
        public int oodRows = 0;
        /**
         * Driver threads working on models concurrently; 0 (default): as many as the cluster has room for, i.e.
         * max(1, defaultParallelism / partitions of one model's data).
         */
        public int parallelism = 0;
        /** Partitions of the training and evaluation data (0: keep the input's). */
        public int partitions = 0;
        /** Axes of the granulated coefficient (null: {@link GranulatedKendall#defaultAxes}). */
        public List<String> axes;
        public int bootstrapResamples = 1000;
        public long bootstrapSeed = 0;
        public String featuresCol = "features";
        public String labelCol = "label";

        public Config grid(List<TrainingSpec> specs) {
            for (TrainingSpec s : specs) {
                models.add(ModelEntry.train(s));
            }
            return this;
        }
    }

    /**
     * The default measures of the job, chosen to be affordable for tens of models on a small cluster: four
     * sharpness definitions (adaptive L-inf and standard L2 worst-case, adaptive and standard L2 average-case) on
     * 512 training rows in batches of 128 with 10 APGD steps / 10 draws, and the top Hessian eigenvalue (Lanczos, 20
     * steps), the Hessian trace (Hutchinson, 16 probes) and the directional sharpness on 1024 training rows.
     */
    public static SharpnessConfig cheapSharpness() {
        return new SharpnessConfig()
                .sample(512, 128, -1)
                .specs(List.of(SharpnessSpec.parse("worst:linf:adaptive:0.002"), SharpnessSpec.parse("worst:l2:standard:0.5"),
                        SharpnessSpec.parse("average:l2:adaptive:0.1"), SharpnessSpec.parse("average:l2:standard:0.1")))
                .worstCase(10, 1.0, false)
                .averageCase(10, true)
                .hessianMeasures(SharpnessConfig.TOP_EIGENVALUE, SharpnessConfig.HESSIAN_TRACE,
                        SharpnessConfig.DIRECTIONAL_SHARPNESS)
                .hessianRows(1024)
                .lanczos(20, 1e-4)
                .hutchinson(16, 8);
    }

    /** The outcome: the report, plus its tables as DataFrames. */
    public record Result(CorrelationReport report, Dataset<Row> models, Dataset<Row> correlations) {
    }

    /**
     * Runs the study.
     *
     * @param train rows to train on and to measure train error and sharpness on (features: ml Vector, label)
     * @param test  rows for test error; corrupted copies of them are the OOD sets
     * @param extraOod further OOD sets by name (same columns), e.g. another dataset; may be empty
     */
    public static Result run(SparkSession spark, Dataset<Row> train, Dataset<Row> test, Map<String, Dataset<Row>> extraOod,
                             Config cfg) {
        validate(cfg);
        long t0 = System.nanoTime();
        SparkContext sc = spark.sparkContext();
        InputColumns cols = new InputColumns(cfg.featuresCol, cfg.labelCol, null);
        Dataset<Row> trainRows = train.select(cfg.featuresCol, cfg.labelCol).persist(StorageLevel.MEMORY_AND_DISK());
        List<JavaRDD<BlockedPartition>> cached = new ArrayList<>();
        try {
            JavaRDD<BlockedPartition> trainBlocks = blocks(train, cols, cfg, "train", cached);
            JavaRDD<BlockedPartition> testBlocks = blocks(test, cols, cfg, "test", cached);
            Map<String, JavaRDD<BlockedPartition>> extra = new LinkedHashMap<>();
            extraOod.forEach((name, df) -> extra.put(name, blocks(df, cols, cfg, "ood " + name, cached)));
            long nTrain = trainRows.count();
            long nTest = test.count();
            for (JavaRDD<BlockedPartition> b : cached) {
                b.count();
            }
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            int threads = threads(cfg, sc, trainBlocks.getNumPartitions());
            LOG.info("spark-sam correlation: {} models, {} training rows, {} test rows, {} corruptions, {} extra OOD sets, "
                    + "{} threads", cfg.models.size(), nTrain, nTest, cfg.corruptions.size(), extra.size(), threads);

            List<String> measureNames = measureNames(cfg.sharpness);
            AtomicInteger slots = new AtomicInteger();
            ThreadLocal<Integer> slot = ThreadLocal.withInitial(slots::getAndIncrement);
            AtomicInteger done = new AtomicInteger();
            long jobStart = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "spark-sam-corr");
                t.setDaemon(true);
                return t;
            });
            List<Future<Map<String, Object>>> futures = new ArrayList<>();
            try {
                for (ModelEntry e : cfg.models) {
                    futures.add(pool.submit(() -> {
                        sc.setLocalProperty("spark.scheduler.pool", "spark-sam-corr-" + slot.get());
                        Map<String, Object> row = measureOne(spark, e, trainRows, trainBlocks, testBlocks, extra, cfg,
                                measureNames, jobStart);
                        LOG.info("spark-sam correlation: model {}/{} done: {} (test error {}, {} s)", done.incrementAndGet(),
                                cfg.models.size(), e.id(), row.get("testError"), String.format(Locale.ROOT, "%.1f",
                                        (Double) row.get("trainSeconds") + (Double) row.get("measureSeconds")));
                        return row;
                    }));
                }
                CorrelationReport rep = new CorrelationReport();
                for (int i = 0; i < futures.size(); i++) {
                    try {
                        rep.models.add(futures.get(i).get());
                    } catch (ExecutionException ex) {
                        Throwable c = ex.getCause();
                        throw new IllegalStateException("correlation job: model " + cfg.models.get(i).id() + " failed: "
                                + c.getMessage(), c);
                    }
                }
                double modelsSeconds = (System.nanoTime() - jobStart) / 1e9;
                rep.measures.addAll(measureNames);
                correlate(rep, cfg, extra.keySet());
                settings(rep, cfg, nTrain, nTest, extra.keySet(), sc, threads);
                timing(rep, cfg, loadSeconds, modelsSeconds, (System.nanoTime() - t0) / 1e9);
                return new Result(rep, rep.modelsDataFrame(spark), rep.correlationsDataFrame(spark));
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("correlation job interrupted", ie);
            } finally {
                pool.shutdownNow();
            }
        } finally {
            trainRows.unpersist(false);
            for (JavaRDD<BlockedPartition> b : cached) {
                b.unpersist(false);
            }
        }
    }

    /** The number of model threads: the configured one, or max(1, defaultParallelism / partitions). */
    static int threads(Config cfg, SparkContext sc, int partitions) {
        if (cfg.parallelism > 0) {
            return cfg.parallelism;
        }
        return Math.max(1, sc.defaultParallelism() / Math.max(1, partitions));
    }

    private static void validate(Config cfg) {
        if (cfg.models.isEmpty()) {
            throw new IllegalArgumentException("correlation job: no models (give a grid or saved models)");
        }
        if (cfg.parallelism < 0) {
            throw new IllegalArgumentException("parallelism must be >= 0 (0: auto), got " + cfg.parallelism);
        }
        if (cfg.oodRows < 0 || cfg.partitions < 0 || cfg.bootstrapResamples < 0) {
            throw new IllegalArgumentException("oodRows, partitions and bootstrapResamples must be >= 0");
        }
        Set<String> ids = new LinkedHashSet<>();
        for (ModelEntry e : cfg.models) {
            if (!ids.add(e.id())) {
                throw new IllegalArgumentException("correlation job: two models have the id " + e.id());
            }
            if (e.spec() == null && e.path() == null) {
                throw new IllegalArgumentException("model " + e.id() + " has neither a training spec nor a path");
            }
        }
    }

    private static JavaRDD<BlockedPartition> blocks(Dataset<Row> df, InputColumns cols, Config cfg, String name,
                                                    List<JavaRDD<BlockedPartition>> cached) {
        JavaRDD<BlockedPartition> b = Blockifier.blockify(df, cols, Precision.FLOAT64, cfg.partitions, -1)
                .persist(StorageLevel.MEMORY_AND_DISK());
        b.setName("spark-sam correlation " + name + " blocks");
        cached.add(b);
        return b;
    }

    /** Column names of the measures a config computes (a sharpness metric gets {@code _rho<r>} when its name repeats). */
    public static List<String> measureNames(SharpnessConfig c) {
        List<String> out = new ArrayList<>();
        Map<String, Integer> count = new LinkedHashMap<>();
        for (SharpnessSpec s : c.specs) {
            count.merge(s.metricName(), 1, Integer::sum);
        }
        for (SharpnessSpec s : c.specs) {
            out.add(count.get(s.metricName()) > 1 ? s.metricName() + "_rho" + TrainingSpec.num(s.rho()) : s.metricName());
        }
        for (String h : List.of(SharpnessConfig.TOP_EIGENVALUE, SharpnessConfig.TOP_EIGENVALUE_POWER,
                SharpnessConfig.HESSIAN_TRACE, SharpnessConfig.DIRECTIONAL_SHARPNESS)) {
            if (c.hessianMeasures.contains(h)) {
                out.add(h);
            }
        }
        return out;
    }

    private static Map<String, Object> measureOne(SparkSession spark, ModelEntry e, Dataset<Row> trainRows,
                                                  JavaRDD<BlockedPartition> trainBlocks, JavaRDD<BlockedPartition> testBlocks,
                                                  Map<String, JavaRDD<BlockedPartition>> extra, Config cfg,
                                                  List<String> measureNames, long jobStart) throws Exception {
        long t0 = System.nanoTime();
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", e.id());
        SharpnessAwareClassificationModel model;
        String source;
        String savedAt = e.path() != null ? e.path() : (cfg.modelDir == null ? null : new Path(cfg.modelDir, e.id()).toString());
        if (savedAt != null && exists(spark, savedAt + "/metadata")) {
            model = SharpnessAwareClassificationModel.load(savedAt);
            source = "loaded";
        } else if (e.spec() != null) {
            model = e.spec().classifier(cfg.partitions).setFeaturesCol(cfg.featuresCol).setLabelCol(cfg.labelCol)
                    .fit(trainRows);
            source = "trained";
            if (savedAt != null) {
                model.write().overwrite().save(savedAt);
            }
        } else {
            throw new IllegalArgumentException("saved model not found: " + savedAt + " (no metadata/ folder)");
        }
        double trainSeconds = (System.nanoTime() - t0) / 1e9;
        row.put("source", source);
        row.putAll(e.hyperparameters());
        long t1 = System.nanoTime();
        Network net = model.network();
        double[] w = model.weights();
        DistributedObjective.Result tr = new DistributedObjective(trainBlocks, net, RowSelection.all()).evaluate(w, false, null);
        DistributedObjective.Result te = new DistributedObjective(testBlocks, net, RowSelection.all()).evaluate(w, false, null);
        row.put("trainError", tr.error());
        row.put("trainLoss", tr.loss());
        row.put("testError", te.error());
        row.put("testLoss", te.loss());
        row.put("generalizationGap", te.error() - tr.error());
        row.put("lossGap", te.loss() - tr.loss());
        List<ShiftedEvaluation.Metrics> shifted = ShiftedEvaluation.evaluate(testBlocks, net, w, cfg.corruptions,
                cfg.corruptionSeed, cfg.oodRows);
        if (!shifted.isEmpty()) {
            double err = 0, loss = 0;
            Map<Corruptions.Kind, double[]> perKind = new LinkedHashMap<>();
            for (ShiftedEvaluation.Metrics m : shifted) {
                err += m.error() / shifted.size();
                loss += m.loss() / shifted.size();
                double[] a = perKind.computeIfAbsent(m.corruption().kind(), k -> new double[2]);
                a[0] += m.error();
                a[1]++;
            }
            row.put("oodError", err);
            row.put("oodLoss", loss);
            row.put("oodGap", err - te.error());
            perKind.forEach((k, a) -> row.put("oodError_" + k.label(), a[0] / a[1]));
            for (ShiftedEvaluation.Metrics m : shifted) {
                row.put("err_" + m.corruption().name(), m.error());
            }
        }
        for (Map.Entry<String, JavaRDD<BlockedPartition>> x : extra.entrySet()) {
            DistributedObjective.Result r = new DistributedObjective(x.getValue(), net, RowSelection.all()).evaluate(w, false, null);
            row.put("oodError_" + x.getKey(), r.error());
            row.put("oodLoss_" + x.getKey(), r.loss());
        }
        SharpnessReport rep = SharpnessAnalysis.run(trainBlocks, net, w, cfg.sharpness);
        List<SharpnessReport.Sharpness> sh = rep.sharpness();
        for (int i = 0; i < measureNames.size(); i++) {
            String name = measureNames.get(i);
            double v = i < sh.size() ? sh.get(i).value() : rep.metric(name);
            row.put(name, v);
        }
        double measureSeconds = (System.nanoTime() - t1) / 1e9;
        row.put("trainSeconds", trainSeconds);
        row.put("measureSeconds", measureSeconds);
        row.put("startSeconds", (t0 - jobStart) / 1e9);
        row.put("endSeconds", (System.nanoTime() - jobStart) / 1e9);
        return row;
    }

    private static boolean exists(SparkSession spark, String path) throws java.io.IOException {
        Path p = new Path(path);
        FileSystem fs = p.getFileSystem(spark.sparkContext().hadoopConfiguration());
        return fs.exists(p);
    }

    private static void correlate(CorrelationReport rep, Config cfg, Set<String> extra) {
        List<String> targets = new ArrayList<>(List.of("testError", "generalizationGap", "testLoss", "lossGap"));
        if (!cfg.corruptions.isEmpty()) {
            targets.add("oodError");
            targets.add("oodGap");
            Set<Corruptions.Kind> kinds = new LinkedHashSet<>();
            cfg.corruptions.forEach(c -> kinds.add(c.kind()));
            kinds.forEach(k -> targets.add("oodError_" + k.label()));
        }
        extra.forEach(x -> targets.add("oodError_" + x));
        // the training error is the quantity the reference filters on; it is a target too (sharpness may simply track fit)
        targets.add("trainError");
        rep.targets.addAll(targets);

        List<Map<String, String>> hyper = new ArrayList<>();
        Set<String> keys = new LinkedHashSet<>();
        for (Map<String, Object> m : rep.models) {
            for (String f : TrainingSpec.FIELDS) {
                if (m.containsKey(f)) {
                    keys.add(f);
                }
            }
        }
        for (Map<String, Object> m : rep.models) {
            Map<String, String> h = new LinkedHashMap<>();
            for (String k : keys) {
                h.put(k, String.valueOf(m.get(k)));
            }
            hyper.add(h);
        }
        List<String> axes = cfg.axes != null ? cfg.axes : GranulatedKendall.defaultAxes(hyper);
        rep.axes.addAll(axes);
        for (String m : rep.measures) {
            double[] x = rep.column(m);
            for (String t : targets) {
                double[] y = rep.column(t);
                double[][] p = KendallTau.finitePairs(x, y);
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("measure", m);
                c.put("target", t);
                c.put("n", p[0].length);
                c.put("tauB", KendallTau.tauB(p[0], p[1]));
                c.put("tauA", KendallTau.tauA(p[0], p[1]));
                KendallTau.Test test = KendallTau.test(p[0], p[1]);
                c.put("z", test.z());
                c.put("pValue", test.pValue());
                double[] ci = KendallTau.bootstrap(p[0], p[1], cfg.bootstrapResamples, 0.05,
                        cfg.bootstrapSeed + 31L * m.hashCode() + t.hashCode());
                c.put("ciLow", ci[0]);
                c.put("ciHigh", ci[1]);
                GranulatedKendall.Result gr = GranulatedKendall.compute(hyper, x, y, axes);
                c.put("psi", gr.psi());
                for (GranulatedKendall.Axis a : gr.axes()) {
                    c.put("psi_" + a.axis(), a.psi());
                    c.put("groups_" + a.axis(), a.groups());
                }
                rep.correlations.add(c);
            }
        }
    }

    private static void settings(CorrelationReport rep, Config cfg, long nTrain, long nTest, Set<String> extra,
                                 SparkContext sc, int threads) {
        Map<String, Object> s = rep.settings;
        s.put("models", cfg.models.size());
        Set<String> archs = new LinkedHashSet<>();
        for (ModelEntry e : cfg.models) {
            archs.add(e.spec() == null ? "saved model" : e.spec().architecture() + ", " + e.spec().schedule() + " schedule, "
                    + e.spec().precision());
        }
        s.put("architecture", String.join("; ", archs));
        s.put("trainingRows", nTrain);
        s.put("testRows", nTest);
        List<String> cs = new ArrayList<>();
        for (Corruptions.Corruption c : cfg.corruptions) {
            cs.add(c + " (" + Corruptions.describe(c) + ")");
        }
        s.put("corruptions", cfg.corruptions.isEmpty() ? "none" : String.join("; ", cs));
        s.put("corruptionSeed", cfg.corruptionSeed);
        s.put("oodRows", cfg.oodRows == 0 ? "all test rows" : "first " + cfg.oodRows + " test rows per corruption");
        s.put("extraOodSets", extra.isEmpty() ? "none" : String.join(", ", extra));
        SharpnessConfig h = cfg.sharpness;
        List<String> specs = new ArrayList<>();
        h.specs.forEach(x -> specs.add(x.toString()));
        s.put("sharpnessDefinitions", specs.isEmpty() ? "none" : String.join(", ", specs));
        s.put("sharpnessSample", h.sampleSize + " training rows (" + (h.sampleSeed < 0 ? "first by id" : "seeded sample")
                + "), batches of " + h.batchSize + ", " + h.worstCaseIters + " APGD steps, " + h.averageCaseDraws
                + " average-case draws" + (h.antithetic ? " (antithetic)" : ""));
        s.put("hessianMeasures", h.hessianMeasures.isEmpty() ? "none" : String.join(", ", h.hessianMeasures) + " on "
                + (h.hessianRows == 0 ? "all" : h.hessianRows) + " training rows (Lanczos " + h.lanczosMaxIter
                + " steps, Hutchinson " + h.hutchinsonProbes + " probes)");
        s.put("parallelism", threads + " driver thread(s)" + (cfg.parallelism == 0 ? " (auto)" : "") + ", scheduler " + sc.getConf().get("spark.scheduler.mode", "FIFO"));
        s.put("master", sc.master() + " (" + sc.defaultParallelism() + " default parallelism)");
        s.put("bootstrapResamples", cfg.bootstrapResamples);
    }

    private static void timing(CorrelationReport rep, Config cfg, double load, double models, double total) {
        double trainSum = 0, measureSum = 0;
        int trained = 0;
        for (Map<String, Object> m : rep.models) {
            trainSum += (Double) m.get("trainSeconds");
            measureSum += (Double) m.get("measureSeconds");
            if ("trained".equals(m.get("source"))) {
                trained++;
            }
        }
        int n = rep.models.size();
        Map<String, Object> t = rep.timing;
        t.put("totalSeconds", total);
        t.put("loadAndCacheSeconds", load);
        t.put("modelsWallSeconds", models);
        t.put("modelsTrained", trained);
        t.put("sumTrainSeconds", trainSum);
        t.put("sumMeasureSeconds", measureSum);
        t.put("meanSecondsPerModel", (trainSum + measureSum) / n);
        t.put("wallSecondsPerModel", models / n);
        t.put("meanModelsInFlight", (trainSum + measureSum) / models);
    }
}
