package io.github.sparksam.data;

/**
 * A data file a loader needs does not exist. It is an {@link IllegalArgumentException} (bad input, not a bug), and its
 * message names the missing path and, where we know one, how to get the data.
 */
public class DataNotFoundException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String missingPath;

    public DataNotFoundException(String missingPath, String message) {
        super(message);
        this.missingPath = missingPath;
    }

    /** The first path that was looked for and not found. */
    public String missingPath() {
        return missingPath;
    }
}
