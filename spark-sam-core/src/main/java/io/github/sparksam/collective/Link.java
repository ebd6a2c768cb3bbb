package io.github.sparksam.collective;

import java.io.IOException;

/** One direction of a ring link: what {@link RingAllReduce} sends to the next rank and receives from the previous. */
interface Link {

  /** The sending end. */
  interface Sender {
    void header(long seq, int phase, int len) throws IOException;

    void writeChunk(double[] v, int off, int n) throws IOException;

    /** The first {@code n} blobs; ends the message (flushes). */
    void writeBlobs(byte[][] blobs, int n) throws IOException;

    String kind();

    void close();
  }

  /** The receiving end. */
  interface Receiver {
    /** Sets the deadline of the waits of the coming call. */
    void startCall(long deadline);

    void expectHeader(long seq, int phase, int len) throws IOException;

    /**
     * Reads the next {@code n} values {@code r} and adds them: {@code v[off + i] = r[i] + v[off + i]}
     * (received value first, the order the chain's sum is defined in).
     */
    void addChunk(double[] v, int off, int n) throws IOException;

    /** Reads the next {@code n} values into {@code v[off..off+n)}. */
    void copyChunk(double[] v, int off, int n) throws IOException;

    /** Reads blobs into {@code blobs[0..)}, returns how many. */
    int readBlobs(byte[][] blobs) throws IOException;

    String kind();

    void close();
  }

  /** The message that {@code expectHeader} did not expect. */
  static IOException outOfStep(int rank, long seq, int phase, int len, long s, int p, int n) {
    return new IOException("all-reduce out of step on rank " + rank + ": expected call " + seq + " phase " + phase
        + " of " + len + " values, got call " + s + " phase " + p + " of " + n + " values");
  }
}
