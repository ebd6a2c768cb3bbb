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
}
