package io.github.sparksam.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/** An output folder on any Hadoop file system (local paths included), where commands write their files. */
public final class OutputDir {
    private final Path dir;
    private final FileSystem fs;

    public OutputDir(String dir, Configuration conf) {
        this.dir = new Path(dir);
        try {
            this.fs = this.dir.getFileSystem(conf);
            fs.setWriteChecksum(false);   // no .summary.json.crc next to local files
            fs.mkdirs(this.dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create output folder " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Opens {@code dir/name} for writing, replacing an existing file. */
    public OutputStream create(String name) throws IOException {
        return fs.create(new Path(dir, name), true);
    }

    /** The path of {@code dir/name} as a string (qualified, e.g. {@code file:/tmp/out/model}). */
    public String path(String name) {
        return fs.makeQualified(new Path(dir, name)).toString();
    }

    /** The folder, qualified. */
    public String path() {
        return fs.makeQualified(dir).toString();
    }

    /** The folder as the user wrote it (for messages). */
    @Override
    public String toString() {
        return dir.toString();
    }
}
