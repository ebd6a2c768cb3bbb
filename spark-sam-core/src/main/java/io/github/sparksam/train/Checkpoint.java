package io.github.sparksam.train;

import io.github.sparksam.backend.LossStats;
import io.github.sparksam.optim.OptimizerState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.zip.CRC32;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A training checkpoint: everything a run needs to continue from a step boundary and end with the
 * same weights, bit for bit, as a run that was never interrupted.
 *
 * <h2>What is in it, and why that is enough</h2>
 * <ul>
 *   <li>the weights and the optimizer state (step count and every slot: momentum, Adam's moments);</li>
 *   <li>the position: epoch, step within the epoch and global step. The learning-rate schedule is a
 *       pure function of the global step (and the run's total steps), so this is its position too;</li>
 *   <li>the RNG position: training draws no random numbers besides the initial weights (a function
 *       of {@code seed}) and the per-epoch shuffle ({@link BatchPermutation}, a pure function of
 *       seed, epoch and example id); the seed and the position are stored, and that is all of it;</li>
 *   <li>the update rule's state ({@link UpdateRule#checkpointState}): MESA's EMA teacher and its
 *       update count, SAF's per-example logit records (gathered from the executors, keyed by the
 *       stable example id, so a resumed run with newly cached data gets them back);</li>
 *   <li>the finished epochs' metrics, the running loss statistics of the current epoch and the
 *       recovery counters, so the resumed run's summary covers the whole training;</li>
 *   <li>a fingerprint of the run (parameter count, example count, batch size, seed, steps per
 *       epoch, local steps, rule, optimizer, network): resuming a different run is refused.</li>
 * </ul>
 *
 * <h2>File format (version {@value #FORMAT_VERSION})</h2>
 * One file {@code ckpt-step-<global step, 12 digits>.bin} in the checkpoint directory, any Hadoop
 * file system. Big-endian {@link DataOutputStream} encoding: the magic {@code SPARKSAM-CKPT}, the
 * format version (int), the fingerprint (ints, longs and UTF strings in the order above), the
 * position, the total epochs of the writing run, the weights (int n, n doubles), the optimizer
 * state (long step, int slots, per slot a UTF name and n doubles), the recovery counters (two
 * longs), then three length-prefixed Java-serialized blocks (current epoch's {@code LossStats},
 * the finished {@code EpochMetrics}, the rule state or length 0 for none), and last the CRC32 of
 * all preceding bytes (long). A file that is truncated or altered fails the CRC check with a clear
 * error.
 *
 * <h2>Atomicity</h2>
 * The file is written under a hidden temporary name in the same directory, closed, and then
 * renamed to its final name; a crash while writing leaves at most a temporary file, never a
 * partial checkpoint under a checkpoint's name. {@link #latest} ignores temporary files.
 */
public final class Checkpoint {
  public static final int FORMAT_VERSION = 1;
  static final byte[] MAGIC = "SPARKSAM-CKPT".getBytes(StandardCharsets.US_ASCII);
  static final String PREFIX = "ckpt-step-";
  static final String SUFFIX = ".bin";

  /** What identifies a run; a checkpoint only resumes a run with the same fingerprint. */
  public record Fingerprint(int numParams, long numExamples, int batchSize, long seed, int stepsPerEpoch,
                            int localSteps, String rule, String optimizer, String network) implements Serializable {}

  public final Fingerprint fingerprint;
  public final int epoch;
  public final int stepInEpoch;
  public final long globalStep;
  public final int epochs;
  final double[] params;
  final OptimizerState optimizerState;
  final long failedTaskAttempts;
  final long partitionStateRebuilds;
  final LossStats epochStats;
  final List<EpochMetrics> history;
  final Serializable ruleState;
  /** Where it was read from or written to (null before). */
  String path;

  Checkpoint(Fingerprint fingerprint, int epoch, int stepInEpoch, long globalStep, int epochs, double[] params,
             OptimizerState optimizerState, long failedTaskAttempts, long partitionStateRebuilds, LossStats epochStats,
             List<EpochMetrics> history, Serializable ruleState) {
    this.fingerprint = fingerprint;
    this.epoch = epoch;
    this.stepInEpoch = stepInEpoch;
    this.globalStep = globalStep;
    this.epochs = epochs;
    this.params = params;
    this.optimizerState = optimizerState;
    this.failedTaskAttempts = failedTaskAttempts;
    this.partitionStateRebuilds = partitionStateRebuilds;
    this.epochStats = epochStats;
    this.history = history;
    this.ruleState = ruleState;
  }

  /** A copy of the weights. */
  public double[] params() { return params.clone(); }

  /** A copy of the optimizer state. */
  public OptimizerState optimizerState() { return optimizerState.copy(); }

  /** The rule state (null: none). */
  public Serializable ruleState() { return ruleState; }

  public String path() { return path; }

  /** File name of the checkpoint at {@code globalStep}. */
  static String fileName(long globalStep) {
    return String.format(Locale.ROOT, "%s%012d%s", PREFIX, globalStep, SUFFIX);
  }

  /** Writes this checkpoint into {@code dir} (created if missing) atomically; returns its path. */
  public String write(String dir, Configuration conf) throws IOException {
    Path d = new Path(dir);
    FileSystem fs = d.getFileSystem(conf);
    fs.mkdirs(d);
    Path target = new Path(d, fileName(globalStep));
    Path tmp = new Path(d, "." + target.getName() + "." + UUID.randomUUID() + ".tmp");
    byte[] body = encode();
    try (FSDataOutputStream out = fs.create(tmp, false)) {
      out.write(body);
      out.hsync();
    }
    if (fs.exists(target) && !fs.delete(target, false)) {
      fs.delete(tmp, false);
      throw new IOException("cannot replace the existing checkpoint " + target);
    }
    if (!fs.rename(tmp, target)) {
      fs.delete(tmp, false);
      throw new IOException("cannot rename " + tmp + " to " + target);
    }
    path = fs.makeQualified(target).toString();
    return path;
  }

  byte[] encode() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.write(MAGIC);
    out.writeInt(FORMAT_VERSION);
    Fingerprint f = fingerprint;
    out.writeInt(f.numParams());
    out.writeLong(f.numExamples());
    out.writeInt(f.batchSize());
    out.writeLong(f.seed());
    out.writeInt(f.stepsPerEpoch());
    out.writeInt(f.localSteps());
    out.writeUTF(f.rule());
    out.writeUTF(f.optimizer());
    out.writeUTF(f.network());
    out.writeInt(epoch);
    out.writeInt(stepInEpoch);
    out.writeLong(globalStep);
    out.writeInt(epochs);
    writeDoubles(out, params);
    out.writeLong(optimizerState.step);
    out.writeInt(optimizerState.slots.length);
    for (int i = 0; i < optimizerState.slots.length; i++) {
      out.writeUTF(optimizerState.slotNames[i]);
      writeDoubles(out, optimizerState.slots[i]);
    }
    out.writeLong(failedTaskAttempts);
    out.writeLong(partitionStateRebuilds);
    writeObject(out, epochStats);
    writeObject(out, new ArrayList<>(history));
    writeObject(out, ruleState);
    out.flush();
    CRC32 crc = new CRC32();
    crc.update(bytes.toByteArray());
    out.writeLong(crc.getValue());
    out.flush();
    return bytes.toByteArray();
  }

  private static void writeDoubles(DataOutputStream out, double[] a) throws IOException {
    out.writeInt(a.length);
    for (double v : a) out.writeDouble(v);
  }

  private static void writeObject(DataOutputStream out, Object o) throws IOException {
    if (o == null) {
      out.writeInt(0);
      return;
    }
    byte[] b = JavaSerialization.bytes(o);
    out.writeInt(b.length);
    out.write(b);
  }

  /**
   * The path of the newest checkpoint in {@code dir} (highest global step), or null if it holds
   * none. Temporary files of interrupted writes are ignored.
   */
  public static String latest(String dir, Configuration conf) throws IOException {
    Path d = new Path(dir);
    FileSystem fs = d.getFileSystem(conf);
    if (!fs.exists(d)) return null;
    String best = null;
    for (FileStatus s : fs.listStatus(d)) {
      String n = s.getPath().getName();
      if (s.isFile() && n.startsWith(PREFIX) && n.endsWith(SUFFIX) && (best == null || n.compareTo(best) > 0)) best = n;
    }
    return best == null ? null : fs.makeQualified(new Path(d, best)).toString();
  }

  /**
   * Reads a checkpoint: {@code path} is a checkpoint file, or a checkpoint directory (its newest
   * checkpoint is read). Every problem (missing, empty directory, not a checkpoint, other format
   * version, truncated, corrupt) is an {@link IllegalArgumentException} naming the path.
   */
  public static Checkpoint read(String path, Configuration conf) {
    String file;
    byte[] data;
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.exists(p)) throw new IllegalArgumentException("checkpoint " + path + " does not exist");
      if (fs.getFileStatus(p).isDirectory()) {
        file = latest(path, conf);
        if (file == null) {
          throw new IllegalArgumentException("checkpoint directory " + path + " holds no checkpoint ("
              + PREFIX + "*" + SUFFIX + ")");
        }
      } else {
        file = fs.makeQualified(p).toString();
      }
      try (InputStream in = new Path(file).getFileSystem(conf).open(new Path(file))) {
        data = in.readAllBytes();
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read checkpoint " + path + ": " + e.getMessage(), e);
    }
    Checkpoint c = decode(data, file);
    c.path = file;
    return c;
  }

  static Checkpoint decode(byte[] data, String file) {
    if (data.length < MAGIC.length + 4) {
      throw new IllegalArgumentException("checkpoint " + file + " is not a spark-sam checkpoint (" + data.length
          + " bytes)");
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (data[i] != MAGIC[i]) throw new IllegalArgumentException("checkpoint " + file + " is not a spark-sam checkpoint");
    }
    try {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
      in.skipNBytes(MAGIC.length);
      int version = in.readInt();
      if (version != FORMAT_VERSION) {
        throw new IllegalArgumentException("checkpoint " + file + " has format version " + version + "; this version of "
            + "spark-sam reads version " + FORMAT_VERSION);
      }
      if (data.length < MAGIC.length + 12) throw new EOFException();
      CRC32 crc = new CRC32();
      crc.update(data, 0, data.length - 8);
      long stored = new DataInputStream(new ByteArrayInputStream(data, data.length - 8, 8)).readLong();
      if (stored != crc.getValue()) {
        throw new IllegalArgumentException("checkpoint " + file + " is truncated or corrupt (checksum mismatch)");
      }
      Fingerprint f = new Fingerprint(in.readInt(), in.readLong(), in.readInt(), in.readLong(), in.readInt(), in.readInt(),
          in.readUTF(), in.readUTF(), in.readUTF());
      int epoch = in.readInt();
      int step = in.readInt();
      long globalStep = in.readLong();
      int epochs = in.readInt();
      double[] params = readDoubles(in);
      long optStep = in.readLong();
      int nSlots = in.readInt();
      String[] names = new String[nSlots];
      double[][] slots = new double[nSlots][];
      for (int i = 0; i < nSlots; i++) {
        names[i] = in.readUTF();
        slots[i] = readDoubles(in);
      }
      OptimizerState st = new OptimizerState(0, names);
      for (int i = 0; i < nSlots; i++) st.slots[i] = slots[i];
      st.step = optStep;
      long failed = in.readLong();
      long rebuilds = in.readLong();
      LossStats stats = (LossStats) readObject(in);
      @SuppressWarnings("unchecked")
      List<EpochMetrics> history = (List<EpochMetrics>) readObject(in);
      Serializable rule = (Serializable) readObject(in);
      return new Checkpoint(f, epoch, step, globalStep, epochs, params, st, failed, rebuilds,
          stats == null ? new LossStats() : stats, history == null ? List.of() : history, rule);
    } catch (IOException | ClassNotFoundException | ClassCastException e) {
      throw new IllegalArgumentException("checkpoint " + file + " is truncated or corrupt: " + e, e);
    }
  }

  private static double[] readDoubles(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > in.available() / 8) throw new EOFException("array of " + n + " doubles");
    double[] a = new double[n];
    for (int i = 0; i < n; i++) a[i] = in.readDouble();
    return a;
  }

  private static Object readObject(DataInputStream in) throws IOException, ClassNotFoundException {
    int n = in.readInt();
    if (n == 0) return null;
    if (n < 0 || n > in.available()) throw new EOFException("block of " + n + " bytes");
    return JavaSerialization.object(in.readNBytes(n));
  }

  /** Refuses to resume a different run; the message names the parameter that differs. */
  void checkCompatible(Fingerprint run) {
    Fingerprint c = fingerprint;
    List<String> diffs = new ArrayList<>();
    if (c.numParams() != run.numParams()) diffs.add("number of weights " + c.numParams() + " vs " + run.numParams());
    if (!c.network().equals(run.network())) diffs.add("network " + c.network() + " vs " + run.network());
    if (c.numExamples() != run.numExamples()) diffs.add("training examples " + c.numExamples() + " vs " + run.numExamples());
    if (c.batchSize() != run.batchSize()) diffs.add("batchSize " + c.batchSize() + " vs " + run.batchSize());
    if (c.seed() != run.seed()) diffs.add("seed " + c.seed() + " vs " + run.seed());
    if (c.stepsPerEpoch() != run.stepsPerEpoch()) diffs.add("steps per epoch " + c.stepsPerEpoch() + " vs " + run.stepsPerEpoch());
    if (c.localSteps() != run.localSteps()) diffs.add("localSteps " + c.localSteps() + " vs " + run.localSteps());
    if (!c.rule().equals(run.rule())) diffs.add("rule " + c.rule() + " vs " + run.rule());
    if (!c.optimizer().equals(run.optimizer())) diffs.add("optimizer " + c.optimizer() + " vs " + run.optimizer());
    if (!diffs.isEmpty()) {
      throw new IllegalArgumentException("resumeFrom: checkpoint " + path + " was written by a different run ("
          + String.join("; ", diffs) + " [checkpoint vs this fit])");
    }
  }

  @Override public String toString() {
    return "Checkpoint(epoch " + epoch + ", step " + stepInEpoch + ", global step " + globalStep + ", rule "
        + fingerprint.rule() + (path == null ? "" : ", " + path) + ")";
  }
}
