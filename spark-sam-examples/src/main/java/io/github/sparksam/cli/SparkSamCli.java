package io.github.sparksam.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code spark-sam} command line.
 *
 * <p>Exit codes: 0 success; 2 bad input (an unknown or invalid option, missing data, any
 * {@link IllegalArgumentException}); 1 any other failure. A failure prints exactly one line on stderr,
 * {@code spark-sam: error: <message>}; with {@code --verbose} the stack trace follows it.
 *
 * <p>Run it with {@code bin/spark-sam} (local mode from the Maven-built jars) or with
 * {@code spark-submit --class io.github.sparksam.cli.SparkSamCli spark-sam-examples-<version>-app.jar <command> ...}.
 */
@Command(name = "spark-sam", mixinStandardHelpOptions = true, versionProvider = SparkSamCli.Version.class,
        description = "Sharpness-aware training and analysis on Apache Spark.",
        subcommands = {TrainCommand.class, CompareCommand.class, io.github.sparksam.bench.BenchCommand.class, DemoCommand.class, EvaluateCommand.class,
                SharpnessCommand.class, CorrelationCommand.class, MultiplicityCommand.class,
                ExportCommand.class, // #17
                CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 ok, 2 bad input (options, missing data), 1 other failures."})
public class SparkSamCli implements Callable<Integer> {

    public static final String PREFIX = "spark-sam: error: ";
    public static final int EXIT_BAD_INPUT = 2;
    public static final int EXIT_FAILURE = 1;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(), "missing command: choose one of train, compare, bench, demo, evaluate, sharpness, multiplicity, export"); // #17: export
    }

    /** Entry point: runs the command and exits the JVM with its exit code. */
    public static void main(String[] args) {
        if (!Arrays.asList(args).contains("--verbose")) {
            CliLogging.quietSpark();
        }
        int rc = run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
        // exit explicitly: Spark 3.5.3 can leave non-daemon threads behind after stop() (conventions §0.8)
        System.exit(rc);
    }

    /** Runs a command in-process (for tests and embedding) and returns its exit code; never calls System.exit. */
    public static int run(PrintWriter out, PrintWriter err, String... args) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        CommandLine cl = new CommandLine(new SparkSamCli());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine failed = ex.getCommandLine();
            String help = failed == null ? "spark-sam --help" : failed.getCommandSpec().qualifiedName() + " --help";
            err.println(PREFIX + oneLine(ex.getMessage()) + " (see '" + help + "')");
            if (verbose) {
                ex.printStackTrace(err);
            }
            err.flush();
            return EXIT_BAD_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, failed, parseResult) -> {
            int rc = exitCode(ex);
            err.println(PREFIX + message(ex));
            if (verbose) {
                ex.printStackTrace(err);
            }
            err.flush();
            return rc;
        });
        return cl.execute(args);
    }

    /** 2 when the failure is bad input (an IllegalArgumentException anywhere in the cause chain), else 1. */
    static int exitCode(Throwable ex) {
        return badInput(ex) != null ? EXIT_BAD_INPUT : EXIT_FAILURE;
    }

    /** The one-line message: a bad-input cause's own message, else "ExceptionClass: message". */
    static String message(Throwable ex) {
        Throwable bad = badInput(ex);
        if (bad != null) {
            return oneLine(bad.getMessage() == null ? bad.getClass().getName() : bad.getMessage());
        }
        String m = ex.getMessage();
        return oneLine(ex.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m));
    }

    private static Throwable badInput(Throwable ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException) {
                return t;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return null;
    }

    /** First line of a message, trimmed (Spark messages carry executor stack traces after the first line). */
    static String oneLine(String m) {
        if (m == null) {
            return "";
        }
        String s = m.strip();
        int nl = s.indexOf('\n');
        return (nl >= 0 ? s.substring(0, nl) : s).strip();
    }

    /** Version from the jar manifest, when there is one. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = SparkSamCli.class.getPackage().getImplementationVersion();
            return new String[]{"spark-sam " + (v == null ? "(development build)" : v)};
        }
    }
}
