package io.github.sparksam.collective;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.util.function.BooleanSupplier;

/**
 * All-reduce of a {@code double[]} among the {@code size} tasks of one barrier stage, over a ring
 * of TCP connections (rank r sends to r+1, receives from r-1), plus an all-gather of one small blob
 * per rank (e.g. serialized loss statistics).
 *
 * <p><b>Deterministic order.</b> The sum is added in rank (= partition) order, {@code ((0 + v0) + v1)
 * + ...}, the same order the driver uses when it adds the partitions' results, so the two
 * aggregations give bit-identical weights. Reduce runs as a chain 0 -> 1 -> ... -> size-1, then
 * rank size-1 sends the result around the ring (size-1 -> 0 -> 1 -> ... -> size-2). Both phases
 * are pipelined in chunks, so each link carries the vector twice, like a ring all-reduce, and the
 * latency grows with {@code size} only by a chunk per hop.
 *
 * <p><b>Failure.</b> Every wait polls {@code alive} once a second (the task's interruption by
 * Spark when another task of the barrier stage failed) and gives up after {@code timeoutMillis};
 * a peer that died closes its sockets, which ends the wait at once with an exception. The stage
 * then fails and Spark restarts all of its tasks.
 */
public final class RingAllReduce implements AutoCloseable {
  private static final int MAGIC = 0x5A4D_A11E;
  private static final int POLL_MS = 1000;
  private static final int CHUNK_DOUBLES = 8192;

  private final int rank;
  private final int size;
  private final long timeoutMillis;
  private final BooleanSupplier alive;
  private final Socket out;
  private final Socket in;
  private final PollingInput pollingIn;
  private final DataInputStream din;
  private final DataOutputStream dout;
  private final byte[] chunk = new byte[CHUNK_DOUBLES * 8];
  private final DoubleBuffer chunkView = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
  private final double[] incoming = new double[CHUNK_DOUBLES];
  private long calls;

  private RingAllReduce(int rank, int size, long timeoutMillis, BooleanSupplier alive, Socket out, Socket in)
      throws IOException {
    this.rank = rank;
    this.size = size;
    this.timeoutMillis = timeoutMillis;
    this.alive = alive;
    this.out = out;
    this.in = in;
    this.dout = out == null ? null : new DataOutputStream(new BufferedOutputStream(out.getOutputStream(), 1 << 16));
    this.pollingIn = in == null ? null : new PollingInput(in.getInputStream(), 0, alive, "rank " + ((rank + size - 1) % size));
    this.din = in == null ? null : new DataInputStream(new BufferedInputStream(pollingIn, 1 << 16));
  }

  /**
   * Joins the ring: listens on an ephemeral port, registers {@code rank} of {@code size} under
   * {@code stageKey} ({@link Rendezvous#stageKey}) with the driver's {@link Rendezvous}, then connects to the next rank and
   * accepts the previous one. With {@code size == 1} nothing is opened.
   *
   * @param alive false once the task was killed (checked while waiting)
   */
  public static RingAllReduce join(Rendezvous.Address driver, long stageKey, int rank, int size, long timeoutMillis,
                                   BooleanSupplier alive) throws IOException {
    if (size == 1) return new RingAllReduce(0, 1, timeoutMillis, alive, null, null);
    long deadline = System.currentTimeMillis() + timeoutMillis;
    ServerSocket listen = new ServerSocket();
    Socket next = null, prev = null;
    try {
      listen.bind(new InetSocketAddress((InetAddress) null, 0), 4);
      listen.setSoTimeout(POLL_MS);
      String[] hosts = new String[size];
      int[] ports = new int[size];
      try (Socket r = new Socket()) {
        r.connect(new InetSocketAddress(driver.host(), driver.port()), (int) Math.min(timeoutMillis, 30_000));
        r.setSoTimeout(POLL_MS);
        DataOutputStream o = new DataOutputStream(r.getOutputStream());
        o.writeUTF(driver.token());
        o.writeLong(stageKey);
        o.writeInt(rank);
        o.writeInt(size);
        o.writeInt(listen.getLocalPort());
        o.flush();
        DataInputStream i = new DataInputStream(new PollingInput(r.getInputStream(), deadline, alive, "the driver's rendezvous"));
        int n = i.readInt();
        if (n != size) throw new IOException("rendezvous answered " + n + " ranks, expected " + size);
        for (int k = 0; k < n; k++) {
          hosts[k] = i.readUTF();
          ports[k] = i.readInt();
        }
      }
      int to = (rank + 1) % size, from = (rank + size - 1) % size;
      next = new Socket();
      next.connect(new InetSocketAddress(hosts[to], ports[to]), (int) Math.min(timeoutMillis, 30_000));
      tune(next);
      DataOutputStream hello = new DataOutputStream(next.getOutputStream());
      hello.writeInt(MAGIC);
      hello.writeInt(rank);
      hello.flush();
      while (prev == null) {
        try {
          Socket c = listen.accept();
          tune(c);
          DataInputStream h = new DataInputStream(new PollingInput(c.getInputStream(), deadline, alive, "rank " + from));
          int magic = h.readInt(), who = h.readInt();
          if (magic != MAGIC || who != from) {
            c.close();
            throw new IOException("rank " + rank + " expected rank " + from + " to connect, got " + who);
          }
          prev = c;
        } catch (SocketTimeoutException e) {
          check(deadline, alive, "rank " + from + " to connect");
        }
      }
      return new RingAllReduce(rank, size, timeoutMillis, alive, next, prev);
    } catch (IOException | RuntimeException e) {
      Rendezvous.closeQuietly(next);
      Rendezvous.closeQuietly(prev);
      throw e;
    } finally {
      Rendezvous.closeQuietly(listen);
    }
  }

  private static void tune(Socket s) throws IOException {
    s.setTcpNoDelay(true);
    s.setSoTimeout(POLL_MS);
    s.setSendBufferSize(1 << 20);
    s.setReceiveBufferSize(1 << 20);
  }

  private static void check(long deadline, BooleanSupplier alive, String waitingFor) throws IOException {
    if (!alive.getAsBoolean()) throw new IOException("task killed while waiting for " + waitingFor);
    if (System.currentTimeMillis() > deadline) throw new IOException("timed out waiting for " + waitingFor);
  }

  public int rank() { return rank; }

  public int size() { return size; }

  /**
   * Replaces {@code v} (same length on every rank) by the sum over ranks in rank order and returns
   * every rank's {@code blob}, indexed by rank. Every rank must call it the same number of times.
   */
  public byte[][] allReduce(double[] v, byte[] blob) throws IOException {
    long seq = calls++;
    byte[][] blobs = new byte[size][];
    if (rank == 0) {
      for (int i = 0; i < v.length; i++) v[i] = 0.0 + v[i];     // the driver's sum starts from +0.0
    }
    if (size == 1) {
      blobs[0] = blob;
      return blobs;
    }
    pollingIn.deadline = System.currentTimeMillis() + timeoutMillis;
    // phase 1: chain reduce 0 -> 1 -> ... -> size-1
    if (rank > 0) expectHeader(din, seq, 1, v.length);
    if (rank < size - 1) header(dout, seq, 1, v.length);
    for (int off = 0; off < v.length; off += CHUNK_DOUBLES) {
      int n = Math.min(CHUNK_DOUBLES, v.length - off);
      if (rank > 0) {
        readChunk(din, n);
        for (int i = 0; i < n; i++) v[off + i] = incoming[i] + v[off + i];
      }
      if (rank < size - 1) writeChunk(dout, v, off, n);
    }
    int have = 0;
    if (rank > 0) have = readBlobs(din, blobs);
    blobs[rank] = blob;
    have++;
    if (rank < size - 1) writeBlobs(dout, blobs, have);
    // phase 2: the sum goes around the ring from size-1: size-1 -> 0 -> 1 -> ... -> size-2
    boolean receives = rank != size - 1, forwards = rank != size - 2;
    if (receives) expectHeader(din, seq, 2, v.length);
    if (forwards) header(dout, seq, 2, v.length);
    for (int off = 0; off < v.length; off += CHUNK_DOUBLES) {
      int n = Math.min(CHUNK_DOUBLES, v.length - off);
      if (receives) {
        readChunk(din, n);
        System.arraycopy(incoming, 0, v, off, n);
      }
      if (forwards) writeChunk(dout, v, off, n);
    }
    if (receives) readBlobs(din, blobs);
    if (forwards) writeBlobs(dout, blobs, size);
    return blobs;
  }

  private void header(DataOutputStream o, long seq, int phase, int len) throws IOException {
    o.writeInt(MAGIC);
    o.writeLong(seq);
    o.writeInt(phase);
    o.writeInt(len);
  }

  private void expectHeader(DataInputStream i, long seq, int phase, int len) throws IOException {
    int magic = i.readInt();
    long s = i.readLong();
    int p = i.readInt(), n = i.readInt();
    if (magic != MAGIC || s != seq || p != phase || n != len) {
      throw new IOException("all-reduce out of step on rank " + rank + ": expected call " + seq + " phase " + phase
          + " of " + len + " values, got call " + s + " phase " + p + " of " + n + " values");
    }
  }

  private void writeChunk(DataOutputStream o, double[] v, int off, int n) throws IOException {
    chunkView.clear();
    chunkView.put(v, off, n);
    o.write(chunk, 0, n * 8);
    o.flush();
  }

  private void readChunk(DataInputStream i, int n) throws IOException {
    i.readFully(chunk, 0, n * 8);
    chunkView.clear();
    chunkView.get(incoming, 0, n);
  }

  private static int readBlobs(DataInputStream i, byte[][] blobs) throws IOException {
    int n = i.readInt();
    for (int k = 0; k < n; k++) {
      byte[] b = new byte[i.readInt()];
      i.readFully(b);
      blobs[k] = b;
    }
    return n;
  }

  private static void writeBlobs(DataOutputStream o, byte[][] blobs, int n) throws IOException {
    o.writeInt(n);
    for (int k = 0; k < n; k++) {
      o.writeInt(blobs[k].length);
      o.write(blobs[k]);
    }
    o.flush();
  }

  @Override public void close() {
    Rendezvous.closeQuietly(out);
    Rendezvous.closeQuietly(in);
  }

  /** Reads that wait in one-second slices, checking that the task is alive and the deadline. */
  private static final class PollingInput extends InputStream {
    private final InputStream in;
    private long deadline;
    private final BooleanSupplier alive;
    private final String peer;

    PollingInput(InputStream in, long deadline, BooleanSupplier alive, String peer) {
      this.in = in;
      this.deadline = deadline;
      this.alive = alive;
      this.peer = peer;
    }

    @Override public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override public int read(byte[] b, int off, int len) throws IOException {
      while (true) {
        try {
          int n = in.read(b, off, len);
          if (n < 0) throw new EOFException(peer + " closed the connection");
          return n;
        } catch (SocketTimeoutException e) {
          check(deadline, alive, peer);
        }
      }
    }
  }
}
