package io.github.sparksam.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

import picocli.CommandLine.Option;

/** Options every Spark-running subcommand takes (a picocli mixin). */
public class CommonOptions {

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master (local[4], spark://host:7077, yarn, ...). Default: the one spark-submit set, "
                    + "else local[*].")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark configuration entry; repeatable.")
    List<String> conf = new ArrayList<>();

    @Option(names = "--verbose", description = "Print stack traces on errors and keep Spark's INFO logging.")
    boolean verbose;

    /** The --conf entries, parsed; a malformed one is an IllegalArgumentException (exit 2). */
    Map<String, String> confMap() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String kv : conf) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--conf expects KEY=VALUE, got '" + kv + "'");
            }
            m.put(kv.substring(0, eq).trim(), kv.substring(eq + 1));
        }
        return m;
    }

    /**
     * The master this run uses: --master, else the {@code spark.master} that spark-submit (or -Dspark.master) set,
     * else {@code local[*]}.
     */
    String effectiveMaster() {
        if (master != null && !master.isBlank()) {
            return master;
        }
        String fromConf = confMap().get("spark.master");
        if (fromConf != null) {
            return fromConf;
        }
        SparkConf sc = new SparkConf();   // loads spark.* system properties, which is how spark-submit passes them
        return sc.contains("spark.master") ? sc.get("spark.master") : "local[*]";
    }

    /** Builds (or gets) the SparkSession: master as above, the --conf entries, 127.0.0.1 as driver host when local. */
    public SparkSession createSession(String appName) {
        Map<String, String> confs = confMap();
        String m = effectiveMaster();
        SparkSession.Builder b = SparkSession.builder().appName(appName).master(m);
        if (m.startsWith("local") && !confs.containsKey("spark.driver.host")) {
            b.config("spark.driver.host", "127.0.0.1");
        }
        confs.forEach(b::config);
        SparkSession spark = b.getOrCreate();
        if (!verbose) {
            spark.sparkContext().setLogLevel("WARN");
            try {   // keep our own progress lines visible (log4j2 is what Spark 3.5 ships)
                org.apache.logging.log4j.core.config.Configurator.setLevel("io.github.sparksam",
                        org.apache.logging.log4j.Level.INFO);
            } catch (LinkageError ignored) {
                // another logging backend: leave it alone
            }
        }
        return spark;
    }
}
