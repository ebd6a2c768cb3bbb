package io.github.sparksam.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.github.sparksam.train.EpochMetrics;

/**
 * Writes the JSON summaries of the CLI commands (Jackson, pretty-printed, fields in a fixed order).
 *
 * <h2>{@code summary.json} of {@code train} (and {@code demo}): the contract</h2>
 * <pre>
 * {
 *   "config": { "data": ..., "limit": ..., "model": ..., "hidden": [..], "activation": ..., "optimizer": ...,
 *               "epochs": ..., "batchSize": ..., "lr": ..., "momentum": ..., "weightDecay": ..., "schedule": ...,
 *               "localSteps": ..., "aggregation": ..., "partitions": ..., "precision": ..., "labelSmoothing": ...,
 *               "seed": ...,
 *               "out": ..., "master": ..., "trainRows": ..., "testRows": ... },
 *   "epochs": [ {"epoch": 1, "steps": .., "trainLoss": .., "trainAccuracy": .., "seconds": .., "stepsPerSecond": ..,
 *                "rule": { ...the rule's metrics, e.g. perturbationNorm, trajectoryLoss, safCoverage... } }, ... ],
 *   "final":  { "trainAccuracy": .., "testAccuracy": .., "trainLoss": .., "testLoss": .. },
 *   "wallTimeSeconds": ..,
 *   "blas": "...",
 *   "recovery": { "failedTaskAttempts": .., "partitionStateRebuilds": .., "events": [..], "resumedFrom": ..,
 *                 "checkpoints": [..] }
 * }
 * </pre>
 * {@code config} holds every option with the value actually used ({@code partitions} resolved, {@code master} the
 * effective Spark master). {@code epochs[*]} come from the model's training summary: {@code trainLoss} and
 * {@code trainAccuracy} are the running means over the epoch's steps as the trainer measured them (on the weights of
 * each step), not a separate pass. {@code final} is measured after training with the model's {@code transform}: accuracy
 * = fraction of rows with prediction == label, loss = mean of {@code -ln max(p(label), 1e-15)}. {@code wallTimeSeconds}
 * runs from the start of the command (after the SparkSession exists) to the end of evaluation. {@code blas} names the
 * BLAS implementation that ran. {@code recovery} is what the fit recovered from (Spark task retries, partitions whose
 * cached block was recomputed so their task-local state was rebuilt, with one line per event) and the checkpoints it
 * resumed from and wrote; see {@code TrainingSummary.Recovery}. {@code epochs[*].rule} is present only when a sharpness-aware rule reported
 * metrics for that epoch; the rule options appear in {@code config} only when {@code rule} is not none. New fields may be added at the end of an object; existing ones keep their name,
 * meaning and order.
 */
public final class SummaryWriter {

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private SummaryWriter() {
    }

    /** A fresh ordered JSON object. */
    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /** An ordered JSON object holding a map's entries in iteration order (use a LinkedHashMap). */
    public static ObjectNode object(Map<String, ?> values) {
        ObjectNode o = object();
        values.forEach((k, v) -> o.set(k, MAPPER.valueToTree(v)));
        return o;
    }

    /** The {@code epochs} array of the training summary. */
    public static ArrayNode epochs(List<EpochMetrics> epochs) {
        ArrayNode a = MAPPER.createArrayNode();
        for (EpochMetrics e : epochs) {
            ObjectNode o = a.addObject()
                    .put("epoch", e.epoch())
                    .put("steps", e.steps())
                    .put("trainLoss", e.loss())
                    .put("trainAccuracy", e.accuracy())
                    .put("seconds", e.seconds())
                    .put("stepsPerSecond", e.stepsPerSecond());
            if (!e.ruleMetrics().isEmpty()) {
                o.set("rule", object(e.ruleMetrics()));
            }
            if (!e.evaluation().isEmpty()) {   // #14: validation rows, label-noise memorization (EpochMetrics)
                o.set("evaluation", object(e.evaluation()));
            }
        }
        return a;
    }

    /** The whole {@code summary.json} document of a training run (see the class comment). */
    public static ObjectNode trainingSummary(Map<String, ?> config, List<EpochMetrics> epochs,
                                             Evaluation.Metrics train, Evaluation.Metrics test,
                                             double wallTimeSeconds, String blas) {
        return trainingSummary(config, epochs, train, test, wallTimeSeconds, blas, null);
    }

    /** As above, with the fit's recovery record (null: none is written). */
    public static ObjectNode trainingSummary(Map<String, ?> config, List<EpochMetrics> epochs,
                                             Evaluation.Metrics train, Evaluation.Metrics test,
                                             double wallTimeSeconds, String blas,
                                             io.github.sparksam.train.TrainingSummary.Recovery recovery) {
        ObjectNode root = object();
        root.set("config", object(config));
        root.set("epochs", epochs(epochs));
        ObjectNode fin = root.putObject("final");
        fin.put("trainAccuracy", train.accuracy());
        fin.put("testAccuracy", test.accuracy());
        fin.put("trainLoss", train.loss());
        fin.put("testLoss", test.loss());
        root.put("wallTimeSeconds", wallTimeSeconds);
        root.put("blas", blas);
        if (recovery != null) {
            ObjectNode r = root.putObject("recovery");
            r.put("failedTaskAttempts", recovery.failedTaskAttempts());
            r.put("partitionStateRebuilds", recovery.partitionStateRebuilds());
            ArrayNode ev = r.putArray("events");
            recovery.events().forEach(ev::add);
            r.put("resumedFrom", recovery.resumedFrom());
            ArrayNode ck = r.putArray("checkpoints");
            recovery.checkpoints().forEach(ck::add);
        }
        return root;
    }

    /** Writes {@code json} pretty-printed to {@code out/name}. */
    public static void write(OutputDir out, String name, JsonNode json) throws IOException {
        try (OutputStream os = out.create(name)) {
            MAPPER.writeValue(os, json);
        }
    }

    /** Pretty-printed JSON text. */
    public static String toJson(JsonNode json) {
        try {
            return MAPPER.writeValueAsString(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
