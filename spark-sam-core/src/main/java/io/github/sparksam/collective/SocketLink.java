package io.github.sparksam.collective;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.util.function.BooleanSupplier;

/**
 * A ring link between JVMs: one TCP connection opened by a {@link Handshake} (and encrypted when
 * the session says so), doubles as little-endian bytes, chunk by chunk. Every length read from the
 * wire is checked against what the receiver expects before anything is allocated.
 */
final class SocketLink {
  private SocketLink() {}

  /** Largest blob a rank may send in {@link RingAllReduce#allReduce} (loss statistics are far smaller). */
  static final int MAX_BLOB_BYTES = 1 << 20;

  /** Connects to the next rank's listening port and proves who we are: {@code rank} of stage attempt {@code stageKey}. */
  static Link.Sender connect(String host, int port, CollectiveSession session, long stageKey, int rank, int to,
                             long timeoutMillis, BooleanSupplier alive) throws IOException {
    Socket s = new Socket();
    try {
      s.connect(new InetSocketAddress(host, port), (int) Math.min(timeoutMillis, 30_000));
      tune(s);
      return new Out(Handshake.client(s, session, Handshake.RING, Handshake.claim(stageKey, rank, to), alive,
          System.currentTimeMillis() + timeoutMillis));
    } catch (IOException | RuntimeException e) {
      Rendezvous.closeQuietly(s);
      throw e;
    }
  }

  /** The receiving end over the previous rank's authenticated connection. */
  static Link.Receiver receiver(Channel ch, int rank) {
    return new In(ch, rank);
  }

  static void tune(Socket s) throws IOException {
    s.setTcpNoDelay(true);
    s.setSoTimeout(RingAllReduce.POLL_MS);
    s.setSendBufferSize(1 << 20);
    s.setReceiveBufferSize(1 << 20);
  }

  private static final class Out implements Link.Sender {
    private final Channel ch;
    private final DataOutputStream dout;
    private final byte[] chunk = new byte[RingAllReduce.CHUNK_DOUBLES * 8];
    private final DoubleBuffer view = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();

    Out(Channel ch) {
      this.ch = ch;
      this.dout = ch.out;
    }

    @Override public void header(long seq, int phase, int len) throws IOException {
      dout.writeInt(RingAllReduce.MAGIC);
      dout.writeLong(seq);
      dout.writeInt(phase);
      dout.writeInt(len);
    }

    @Override public void writeChunk(double[] v, int off, int n) throws IOException {
      view.clear();
      view.put(v, off, n);
      dout.write(chunk, 0, n * 8);
      dout.flush();
    }

    @Override public void writeBlobs(byte[][] blobs, int n) throws IOException {
      dout.writeInt(n);
      for (int k = 0; k < n; k++) {
        if (blobs[k].length > MAX_BLOB_BYTES) {
          throw new IOException("a blob of " + blobs[k].length + " bytes; the all-reduce carries at most " + MAX_BLOB_BYTES);
        }
        dout.writeInt(blobs[k].length);
        dout.write(blobs[k]);
      }
      dout.flush();
    }

    @Override public String kind() { return "tcp"; }

    @Override public void close() { ch.close(); }
  }

  private static final class In implements Link.Receiver {
    private final Channel ch;
    private final DataInputStream din;
    private final int rank;
    private final byte[] chunk = new byte[RingAllReduce.CHUNK_DOUBLES * 8];
    private final DoubleBuffer view = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();

    In(Channel ch, int rank) {
      this.ch = ch;
      this.din = ch.in;
      this.rank = rank;
    }

    @Override public void startCall(long deadline) { ch.deadline(deadline); }

    @Override public void expectHeader(long seq, int phase, int len) throws IOException {
      int magic = din.readInt();
      long s = din.readLong();
      int p = din.readInt(), n = din.readInt();
      if (magic != RingAllReduce.MAGIC || s != seq || p != phase || n != len) {
        throw Link.outOfStep(rank, seq, phase, len, s, p, n);
      }
    }

    @Override public void addChunk(double[] v, int off, int n) throws IOException {
      din.readFully(chunk, 0, n * 8);
      for (int i = 0; i < n; i++) v[off + i] = view.get(i) + v[off + i];
    }

    @Override public void copyChunk(double[] v, int off, int n) throws IOException {
      din.readFully(chunk, 0, n * 8);
      view.clear();
      view.get(v, off, n);
    }

    @Override public int readBlobs(byte[][] blobs) throws IOException {
      int n = din.readInt();
      if (n < 0 || n > blobs.length) throw new IOException("rank " + rank + " got " + n + " blobs, at most " + blobs.length + " expected");
      for (int k = 0; k < n; k++) {
        int len = din.readInt();
        if (len < 0 || len > MAX_BLOB_BYTES) {
          throw new IOException("rank " + rank + " got a blob of " + len + " bytes, at most " + MAX_BLOB_BYTES + " expected");
        }
        byte[] b = new byte[len];
        din.readFully(b);
        blobs[k] = b;
      }
      return n;
    }

    @Override public String kind() { return "tcp"; }

    @Override public void close() { ch.close(); }
  }

  /**
   * Reads that wait in one-second slices, checking that the owner is alive, and that give up at
   * the deadline even when the peer keeps sending a byte now and then.
   */
  static final class PollingInput extends InputStream {
    private final InputStream in;
    volatile long deadline;
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
          if (n < len) RingAllReduce.check(deadline, alive, peer);   // a trickle: it must not outlive the deadline
          return n;
        } catch (SocketTimeoutException e) {
          RingAllReduce.check(deadline, alive, peer);
        }
      }
    }
  }
}
