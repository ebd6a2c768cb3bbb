package io.github.sparksam.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

import io.github.sparksam.data.FashionMnist;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spark-sam demo}: a short end-to-end run with sensible defaults (MLP 784-128-10, SGD lr 0.1, batch 128,
 * 2 epochs on the first 10000 training rows, evaluated on the full test set). Same outputs as {@code train}.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"A short end-to-end example: MLP 784-128-10 with SGD, 2 epochs on 10000 Fashion-MNIST training rows.",
                "Writes summary.json, training-curves.png and model/ like 'train'."})
public class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    CommonOptions common = new CommonOptions();

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder. Default: ${DEFAULT-VALUE}")
    String data = FashionMnist.DEFAULT_DIR;

    @Option(names = "--out", paramLabel = "DIR", description = "Output folder. Default: ${DEFAULT-VALUE}")
    String out = "./spark-sam-demo";

    @Option(names = "--limit", paramLabel = "N", description = "Training rows. Default: ${DEFAULT-VALUE}")
    int limit = 10000;

    @Option(names = "--epochs", description = "Default: ${DEFAULT-VALUE}")
    int epochs = 2;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        TrainCommand train = new TrainCommand();
        train.common = common;
        train.data = data;
        train.out = out;
        train.limit = limit;
        train.epochs = epochs;
        train.model = "mlp";
        train.hidden = new int[]{128};
        train.activation = "relu";
        train.optimizer = "sgd";
        train.batchSize = 128;
        console.printf("spark-sam demo: MLP 784-128-10, SGD (lr %.2f, %s schedule, batch %d), %d epochs on %d training rows%n",
                train.lr, train.schedule, train.batchSize, epochs, limit);
        console.flush();
        TrainCommand.Result r = train.execute(console);
        console.printf("%nspark-sam demo: done. Outputs in %s:%n", r.outDir());
        console.printf("  %s/summary.json         configuration, per-epoch metrics, final accuracy and loss%n", r.outDir());
        console.printf("  %s/training-curves.png  loss and accuracy per epoch%n", r.outDir());
        console.printf("  %s/model/               the fitted model: SharpnessAwareClassificationModel.load(...)%n", r.outDir());
        console.printf("Check it: spark-sam evaluate --model %s/model --data %s%n", r.outDir(), data);
        console.flush();
        return 0;
    }
}
