package io.github.sparksam.cli;

/** Keeps Spark's INFO chatter off the console of the CLI unless the user configured logging or asked for --verbose. */
final class CliLogging {
    private CliLogging() {
    }

    /**
     * Points log4j2 at our WARN-level configuration (with INFO for {@code io.github.sparksam}) unless a configuration
     * was given. Only effective before log4j2 initialises, i.e. when we own the JVM (bin/spark-sam); under spark-submit
     * Spark's own logging configuration applies.
     */
    static void quietSpark() {
        if (System.getProperty("log4j2.configurationFile") == null
                && System.getProperty("log4j.configurationFile") == null
                && CliLogging.class.getClassLoader().getResource("log4j2.properties") == null) {
            java.net.URL cfg = CliLogging.class.getResource("log4j2-cli.properties");
            if (cfg != null) {
                System.setProperty("log4j2.configurationFile", cfg.toString());
            }
        }
    }
}
