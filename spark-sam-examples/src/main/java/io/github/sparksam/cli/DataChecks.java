package io.github.sparksam.cli;

import java.net.URI;

import org.apache.hadoop.conf.Configuration;

import io.github.sparksam.data.FashionMnist;

/** Input checks the commands run before paying for a SparkSession. */
public final class DataChecks {
    private DataChecks() {
    }

    /**
     * For a local folder (no scheme, or {@code file:}), fails fast with the install hint when Fashion-MNIST is missing.
     * Other file systems are checked once Spark (and its Hadoop configuration) is up.
     */
    public static void requireFashionMnistBeforeSpark(String dir) {
        String scheme;
        try {
            scheme = new URI(dir).getScheme();
        } catch (java.net.URISyntaxException e) {
            scheme = null;
        }
        if (scheme == null || scheme.equals("file")) {
            FashionMnist.requireAvailable(new Configuration(), dir);
        }
    }
}
