package io.github.sparksam.cli;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.when;

import org.apache.spark.ml.classification.ProbabilisticClassificationModel;
import org.apache.spark.ml.functions;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Accuracy and mean cross-entropy of a probabilistic classifier on a labelled DataFrame, in one aggregation. */
public final class Evaluation {

    /** Probabilities are clamped to at least this before the log, so one confident mistake cannot give infinity. */
    public static final double MIN_PROBABILITY = 1e-15;

    /** @param rows rows evaluated; @param accuracy fraction with prediction == label; @param loss mean -ln p(label) */
    public record Metrics(long rows, double accuracy, double loss) {
    }

    private Evaluation() {
    }

    /** Transforms {@code data} with {@code model} and aggregates accuracy and cross-entropy (one Spark job). */
    public static Metrics evaluate(ProbabilisticClassificationModel<Vector, ?> model, Dataset<Row> data) {
        Dataset<Row> scored = model.transform(data);
        String label = model.getLabelCol();
        Row r = scored.select(
                        col(label).cast("double").as("y"),
                        col(model.getPredictionCol()).as("yhat"),
                        functions.vector_to_array(col(model.getProbabilityCol()), "float64").as("p"))
                .agg(count("*"),
                        avg(when(col("yhat").equalTo(col("y")), 1.0).otherwise(0.0)),
                        avg(expr("-ln(greatest(element_at(p, cast(y as int) + 1), " + MIN_PROBABILITY + "))")))
                .first();
        long n = r.getLong(0);
        if (n == 0) {
            throw new IllegalArgumentException("cannot evaluate on an empty dataset");
        }
        return new Metrics(n, r.getDouble(1), r.getDouble(2));
    }

    /** Rows per forward pass of {@link #evaluate(io.github.sparksam.nn.Network, double[], Dataset, String, String)}. */
    private static final int CHUNK = 256;

    /**
     * #14: the same accuracy and loss as {@link #evaluate(ProbabilisticClassificationModel, Dataset)} for the network
     * {@code net} at {@code params} (multinomial head), computed on chunks of rows through the network's batched
     * forward pass (matrix products) instead of one matrix-vector product per row: a row-by-row pass re-reads every
     * weight for each row, which made the per-epoch test evaluation of {@code compare} cost more than the epoch.
     * Probabilities, prediction (first argmax) and the clamped log follow the model's {@code transform}; values agree
     * up to floating-point summation order. A binomial head falls back to the row-by-row path.
     */
    public static Metrics evaluate(io.github.sparksam.nn.Network net, double[] params, Dataset<Row> data,
                                   String featuresCol, String labelCol) {
        if (net.head() != io.github.sparksam.nn.Network.Head.MULTINOMIAL) {
            io.github.sparksam.ml.SharpnessAwareClassificationModel m = new io.github.sparksam.ml
                    .SharpnessAwareClassificationModel("evaluation", net, params.clone());
            m.setFeaturesCol(featuresCol);
            return evaluate(m, labelCol.equals(m.getLabelCol()) ? data : data.withColumnRenamed(labelCol, m.getLabelCol()));
        }
        org.apache.spark.broadcast.Broadcast<double[]> w = org.apache.spark.api.java.JavaSparkContext
                .fromSparkContext(data.sparkSession().sparkContext()).broadcast(params);
        try {
            double[] sums = data.select(col(featuresCol), col(labelCol).cast("double")).javaRDD()
                    .mapPartitions((org.apache.spark.api.java.function.FlatMapFunction<java.util.Iterator<Row>, double[]>)
                            rows -> java.util.List.of(chunked(net, w.value(), rows)).iterator())
                    .reduce((a, b) -> new double[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]});
            if (sums[0] == 0) {
                throw new IllegalArgumentException("cannot evaluate on an empty dataset");
            }
            return new Metrics((long) sums[0], sums[1] / sums[0], sums[2] / sums[0]);
        } finally {
            w.destroy();
        }
    }

    /** {rows, correct, loss sum} of one partition. */
    private static double[] chunked(io.github.sparksam.nn.Network net, double[] params, java.util.Iterator<Row> rows) {
        int d = net.numFeatures();
        int k = net.numOutputs();
        io.github.sparksam.nn.Network.Workspace ws = net.newWorkspace(io.github.sparksam.backend.CpuBackend.FLOAT64, CHUNK);
        io.github.sparksam.backend.Buf w = new io.github.sparksam.backend.Buf.DoubleBuf(params);
        double[] xs = new double[d * CHUNK];
        io.github.sparksam.backend.Buf x = new io.github.sparksam.backend.Buf.DoubleBuf(xs);
        int[] labels = new int[CHUNK];
        double[] out = new double[3];
        double[] p = new double[k];
        int n = 0;
        while (rows.hasNext() || n > 0) {
            if (rows.hasNext()) {
                Row r = rows.next();
                double[] f = ((Vector) r.get(0)).toArray();
                if (f.length != d) {
                    throw new IllegalArgumentException("features have " + f.length + " values but the network takes " + d);
                }
                System.arraycopy(f, 0, xs, n * d, d);
                labels[n++] = (int) r.getDouble(1);
                if (n < CHUNK && rows.hasNext()) {
                    continue;
                }
            }
            io.github.sparksam.backend.Buf logits = net.forward(w, x, n, ws);   // numOutputs x n, column-major
            for (int j = 0; j < n; j++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) {
                    p[c] = logits.get(j * k + c);
                    max = Math.max(max, p[c]);
                }
                double sum = 0;
                for (int c = 0; c < k; c++) {
                    p[c] = Math.exp(p[c] - max);
                    sum += p[c];
                }
                int best = 0;
                for (int c = 0; c < k; c++) {
                    p[c] /= sum;
                    if (p[c] > p[best]) {
                        best = c;
                    }
                }
                out[0]++;
                out[1] += best == labels[j] ? 1 : 0;
                out[2] += -Math.log(Math.max(p[labels[j]], MIN_PROBABILITY));
            }
            n = 0;
        }
        return out;
    }
}
