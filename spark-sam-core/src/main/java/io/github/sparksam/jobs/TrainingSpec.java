package io.github.sparksam.jobs;

import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.github.sparksam.ml.SharpnessAwareClassifier;

/**
 * One training configuration of the correlation grid: the hyperparameters that vary across models (optimizer,
 * rule, learning rate, batch size, rho, weight decay, seed, epochs) and the architecture they share (model type,
 * hidden layers, activation, learning-rate schedule, momentum, precision). {@link #id} names it uniquely and
 * deterministically, so a model saved under that name can be reused instead of retrained.
 *
 * <p>rho has no effect without a sharpness-aware rule, so it is normalised to 0 when {@code rule} is {@code none}.
 */
public record TrainingSpec(String optimizer, String rule, double learningRate, int batchSize, double rho,
                           double weightDecay, long seed, int epochs, String modelType, int[] hidden, String activation,
                           String schedule, double momentum, String precision) implements Serializable {

    /** The varying hyperparameters, in this order, as {@link #hyperparameters} names them. */
    public static final List<String> FIELDS = List.of("optimizer", "rule", "learningRate", "batchSize", "rho",
            "weightDecay", "seed", "epochs");

    public TrainingSpec {
        optimizer = optimizer.toLowerCase(Locale.ROOT);
        rule = rule.toLowerCase(Locale.ROOT);
        modelType = modelType.toLowerCase(Locale.ROOT);
        if (rule.equals("none")) {
            rho = 0.0;
        }
        hidden = hidden == null ? new int[0] : hidden.clone();
        if (!List.of("sgd", "momentum", "nesterov", "adam", "adamw").contains(optimizer)) {
            throw new IllegalArgumentException("optimizer must be one of sgd, momentum, nesterov, adam, adamw; got '" + optimizer + "'");
        }
        if (!List.of("none", "sam", "asam", "saf", "mesa").contains(rule)) {
            throw new IllegalArgumentException("rule must be one of none, sam, asam, saf, mesa; got '" + rule + "'");
        }
        if (!(learningRate > 0) || batchSize < 1 || epochs < 1 || !(rho >= 0) || !(weightDecay >= 0)) {
            throw new IllegalArgumentException("invalid training configuration: lr " + learningRate + ", batch " + batchSize
                    + ", epochs " + epochs + ", rho " + rho + ", weight decay " + weightDecay);
        }
    }

    /** A spec with the architecture defaults of the correlation job (MLP [64], relu, cosine schedule, float32). */
    public static TrainingSpec of(String optimizer, String rule, double lr, int batchSize, double rho, double wd, long seed,
                                  int epochs) {
        return new TrainingSpec(optimizer, rule, lr, batchSize, rho, wd, seed, epochs, "mlp", new int[]{64}, "relu",
                "cosine", 0.9, "float32");
    }

    /** The same varying hyperparameters on another architecture. */
    public TrainingSpec withArchitecture(String modelType, int[] hidden, String activation, String schedule,
                                         double momentum, String precision) {
        return new TrainingSpec(optimizer, rule, learningRate, batchSize, rho, weightDecay, seed, epochs, modelType, hidden,
                activation, schedule, momentum, precision);
    }

    /** The varying hyperparameters by name ({@link #FIELDS}), as numbers or strings. */
    public Map<String, Object> hyperparameters() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("optimizer", optimizer);
        m.put("rule", rule);
        m.put("learningRate", learningRate);
        m.put("batchSize", batchSize);
        m.put("rho", rho);
        m.put("weightDecay", weightDecay);
        m.put("seed", seed);
        m.put("epochs", epochs);
        return m;
    }

    /** The architecture, e.g. {@code mlp[64]-relu}. */
    public String architecture() {
        return modelType.equals("softmax") ? "softmax"
                : modelType + Arrays.toString(hidden).replace(" ", "") + "-" + activation;
    }

    /** A unique, file-name safe id, e.g. {@code mlp64-sgd-sam-lr0.2-bs128-rho0.05-wd0-s1-e3}. */
    public String id() {
        String arch = modelType.equals("softmax") ? "softmax"
                : modelType + String.join("x", Arrays.stream(hidden).mapToObj(Integer::toString).toArray(String[]::new))
                + (activation.equals("relu") ? "" : "-" + activation);
        String extra = (schedule.equals("cosine") ? "" : "-" + schedule) + (precision.equals("float32") ? "" : "-" + precision)
                + (momentum == 0.9 || optimizer.equals("sgd") ? "" : "-m" + num(momentum));
        return arch + "-" + optimizer + "-" + rule + "-lr" + num(learningRate) + "-bs" + batchSize + "-rho" + num(rho)
                + "-wd" + num(weightDecay) + "-s" + seed + "-e" + epochs + extra;
    }

    static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
    }

    /** The classifier this spec trains ({@code partitions} 0: the data's partitioning). */
    public SharpnessAwareClassifier classifier(int partitions) {
        SharpnessAwareClassifier c = new SharpnessAwareClassifier()
                .setModelType(modelType)
                .setActivation(activation)
                .setOptimizer(optimizer)
                .setLearningRate(learningRate)
                .setMomentum(momentum)
                .setWeightDecay(weightDecay)
                .setLrSchedule(schedule)
                .setBatchSize(batchSize)
                .setEpochs(epochs)
                .setSeed(seed)
                .setNumPartitions(partitions)
                .setPrecision(precision)
                .setRule(rule)
                .setRho(rule.equals("none") ? 0.05 : rho);
        if (!modelType.equals("softmax")) {
            c.setHiddenLayers(hidden);
        }
        return c;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainingSpec t && t.id().equals(id()) && t.architecture().equals(architecture());
    }

    @Override
    public int hashCode() {
        return id().hashCode();
    }

    @Override
    public String toString() {
        return id();
    }
}
